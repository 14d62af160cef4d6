package annotate

import (
	"fmt"

	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"
)

// Spec is the recipe spec of stage "annotations".
type Spec struct {
	File          string     `yaml:"file" doc:"labels: a Label Studio JSON export (.json), or JSONL/CSV rows of id, annotator and one column per dimension"`
	Rubric        RubricSpec `yaml:"rubric" doc:"inline list of dimensions, or a YAML/JSON rubric file; null: grammar 0-1, accuracy 0-3, completion 0-5"`
	Aggregate     string     `yaml:"aggregate" doc:"median, mean, min or majority (nominal dimensions always use majority)"`
	MinAnnotators int        `yaml:"min_annotators" doc:"annotators a row needs to count as labelled"`
	Unlabeled     string     `yaml:"unlabeled" doc:"keep (labels null) or reject (reason unlabeled)"`
	IDField       string     `yaml:"id_field" doc:"key of a Label Studio task's data that holds the row id"`
	BadLabels     string     `yaml:"bad_labels" doc:"error (stop at the first bad label, with file:line) or skip (count and list them in the report)"`
	Bootstrap     int        `yaml:"bootstrap" doc:"bootstrap resamples for alpha's 95 % interval; 0 for none"`
	Seed          uint64     `yaml:"seed" doc:"bootstrap seed"`
	Disagreements string     `yaml:"disagreements" doc:"JSONL file for rows whose labels spread by at least spread, for adjudication"`
	Spread        float64    `yaml:"spread" doc:"disagreement threshold: spread as a share of the dimension's range (nominal: share of labels off the majority)"`
}

// FilterSpec is the recipe spec of stage "rubric_filter".
type FilterSpec struct {
	Rubric    RubricSpec         `yaml:"rubric" doc:"the rubric the labels were made with (inline or a file); null: the default"`
	Min       map[string]float64 `yaml:"min" doc:"per-dimension minimum aggregated scores, inclusive"`
	Weights   map[string]float64 `yaml:"weights" doc:"weights of the total score bounded by min_score; default 1 for every numeric dimension"`
	MinScore  *float64           `yaml:"min_score" doc:"minimum weighted total, inclusive"`
	Unlabeled string             `yaml:"unlabeled" doc:"keep or reject rows without labels"`
}

func init() {
	recipe.Register("annotations", "Joins annotators' rubric labels (Label Studio export, JSONL or CSV) onto rows by id, and reports their agreement.",
		Spec{Aggregate: string(Median), MinAnnotators: 1, Unlabeled: "keep", IDField: "id", BadLabels: "error", Bootstrap: 1000, Spread: 0.5},
		buildJoin)
	recipe.Register("rubric_filter", "Drops rows whose aggregated rubric scores are below per-dimension minimums or a weighted total.",
		FilterSpec{Unlabeled: "keep"},
		buildFilter)
}

func unlabeled(s string) (bool, error) {
	switch s {
	case "keep":
		return false, nil
	case "reject":
		return true, nil
	}
	return false, fmt.Errorf("unlabeled: %q is not keep or reject", s)
}

func buildJoin(s Spec, env recipe.Env) (sift.Stage, error) {
	r, err := s.Rubric.Resolve(env.Path)
	if err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	agg, err := ParseAggregate(s.Aggregate)
	if err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	reject, err := unlabeled(s.Unlabeled)
	if err != nil {
		return nil, err
	}
	opts := []LoadOption{WithIDField(s.IDField)}
	switch s.BadLabels {
	case "error":
	case "skip":
		opts = append(opts, SkipBad())
	default:
		return nil, fmt.Errorf("bad_labels: %q is not error or skip", s.BadLabels)
	}
	if s.File == "" {
		return nil, fmt.Errorf("file: no label file given")
	}
	labels, err := LoadLabels(env.Path(s.File), r, opts...)
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	jopts := []JoinOption{WithAggregate(agg), WithMinAnnotators(s.MinAnnotators), WithRejectUnlabeled(reject),
		WithAgreementOptions(AgreementOptions{Resamples: s.Bootstrap, Seed: s.Seed})}
	if s.Disagreements != "" {
		jopts = append(jopts, WithDisagreements(env.Path(s.Disagreements), s.Spread))
	}
	return NewJoin(labels, jopts...)
}

func buildFilter(s FilterSpec, env recipe.Env) (sift.Stage, error) {
	r, err := s.Rubric.Resolve(env.Path)
	if err != nil {
		return nil, fmt.Errorf("rubric: %w", err)
	}
	reject, err := unlabeled(s.Unlabeled)
	if err != nil {
		return nil, err
	}
	opts := []FilterOption{WithMin(s.Min), WithUnlabeledReject(reject)}
	if s.Weights != nil {
		opts = append(opts, WithWeights(s.Weights))
	}
	if s.MinScore != nil {
		opts = append(opts, WithMinScore(*s.MinScore))
	}
	return NewFilter(r, opts...)
}
