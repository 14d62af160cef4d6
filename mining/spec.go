package mining

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/dataset"
	"github.com/siftdata/sift/mining/lm"
	"github.com/siftdata/sift/recipe"
)

// TrainSpec is the train block of a perplexity spec.
type TrainSpec struct {
	Order  int    `yaml:"order" doc:"n-gram order, 2 to 6"`
	Corpus string `yaml:"corpus" doc:"training text: a plain-text file (one sentence per line, optionally .gz) or dataset file, or input to train on the run's own input"`
}

// Spec is the recipe spec of stage "perplexity".
type Spec struct {
	Model         string     `yaml:"model" doc:"ARPA model (.arpa or .arpa.gz) or KenLM binary model (build_binary's probing, trie or quantized trie), told apart by content; or give train"`
	Train         *TrainSpec `yaml:"train" doc:"train a modified Kneser-Ney model instead of loading one: {order, corpus}"`
	Tokenizer     string     `yaml:"tokenizer" doc:"whitespace (KenLM's), words or words_noaccents (seg words, cc_net normalization), or sentencepiece (with sentencepiece: MODEL)"`
	SentencePiece string     `yaml:"sentencepiece" doc:"SentencePiece unigram model file (spm_train's .model) for tokenizer: sentencepiece"`
	Normalize     string     `yaml:"normalize" doc:"ccnet applies cc_net's text normalization before tokenizing (lower case, accents removed, digits to 0, punctuation to ASCII); empty for none"`
	Roles         []string   `yaml:"roles" doc:"conversation roles scored"`
	Select        string     `yaml:"select" doc:"annotate, band (keep between two percentiles) or top (keep the highest-perplexity fraction)"`
	Band          []float64  `yaml:"band" doc:"lower and upper percentile kept by select: band"`
	Top           float64    `yaml:"top" doc:"fraction kept by select: top"`
	MinPPL        float64    `yaml:"min_ppl" doc:"drop rows below this perplexity; 0 for none (any select)"`
	MaxPPL        float64    `yaml:"max_ppl" doc:"drop rows above this perplexity; 0 for none (any select)"`
	Bucket        bool       `yaml:"bucket" doc:"add the bucket column (head, middle, tail)"`
	Buckets       []float64  `yaml:"buckets" doc:"the two percentiles cutting the buckets"`
	Calibration   int        `yaml:"calibration" doc:"rows held back to estimate percentiles when the input cannot be read twice"`
}

func init() {
	recipe.Register("perplexity", "Scores rows with an n-gram language model (KenLM-compatible) and selects by perplexity: hard-example mining.",
		Spec{Tokenizer: "whitespace", Roles: []string{"assistant"}, Select: "annotate", Band: []float64{70, 98},
			Top: 0.1, Buckets: []float64{30, 60}, Calibration: 10000},
		build)
}

func build(s Spec, env recipe.Env) (sift.Stage, error) {
	ctx := context.Background()
	if env.Mem == nil {
		env.Mem = memory.DefaultAllocator
	}
	sp := ""
	if s.SentencePiece != "" {
		sp = env.Path(s.SentencePiece)
	}
	tok, err := lm.OpenTokenizer(s.Tokenizer, sp, s.Normalize)
	if err != nil {
		return nil, fmt.Errorf("tokenizer, sentencepiece, normalize: %w", err)
	}
	roles, err := sift.ParseRoles(s.Roles, sift.RoleAssistant)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	var m *lm.Model
	var model func() (*lm.Model, error)
	switch {
	case (s.Model == "") == (s.Train == nil):
		return nil, fmt.Errorf("model, train: give exactly one")
	case s.Model != "":
		// A regular file loads while the run starts reading: one that
		// cannot be opened is a configuration error now, a broken one fails
		// the run (see Perplexity.Ready). Anything else (a FIFO, a process
		// substitution) can be opened only once, so it loads here.
		path := env.Path(s.Model)
		model = sync.OnceValues(func() (*lm.Model, error) { return lm.Load(path) })
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return nil, fmt.Errorf("model: %w", err)
			}
			f.Close()
			go model()
		} else if _, err := model(); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
	default:
		paths := []string{env.Path(s.Train.Corpus)}
		switch s.Train.Corpus {
		case "":
			return nil, fmt.Errorf("train.corpus: empty")
		case "input":
			if len(env.Inputs) == 0 {
				return nil, fmt.Errorf("train.corpus: input needs file inputs that can be read twice")
			}
			paths = env.Inputs
		}
		if m, _, err = Train(ctx, env.Mem, s.Train.Order, tok, roles, paths); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	opts := []Option{WithTokenizer(tok), WithRoles(roles), WithRange(s.MinPPL, s.MaxPPL), WithCalibration(s.Calibration)}
	switch Select(s.Select) {
	case Annotate:
	case Band:
		if len(s.Band) != 2 {
			return nil, fmt.Errorf("band: want [lower, upper], got %v", s.Band)
		}
		opts = append(opts, WithBand(s.Band[0], s.Band[1]))
	case Top:
		opts = append(opts, WithTop(s.Top))
	default:
		return nil, fmt.Errorf("select: %q is not one of annotate, band, top", s.Select)
	}
	if s.Bucket {
		if len(s.Buckets) != 2 {
			return nil, fmt.Errorf("buckets: want two percentiles, got %v", s.Buckets)
		}
		opts = append(opts, WithBuckets(s.Buckets[0], s.Buckets[1]))
	}
	if (Select(s.Select) != Annotate || s.Bucket) && env.First && len(env.Inputs) > 0 {
		r, err := dataset.Open(env.Mem, env.Inputs)
		if err != nil {
			return nil, fmt.Errorf("percentiles: %w", err)
		}
		if model != nil {
			if m, err = model(); err != nil {
				r.Close()
				return nil, fmt.Errorf("model: %w", err)
			}
		}
		pop, err := Population(ctx, m, tok, roles, r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("percentiles: %w", err)
		}
		opts = append(opts, WithPopulation(pop))
	}
	if model == nil {
		return New(m, opts...)
	}
	return newStage(model, opts...)
}
