package recipe

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/yamlnode"
)

// Recipe is a parsed recipe.
type Recipe struct {
	Input        []string `json:"input"`
	Output       string   `json:"output"`
	Rejects      string   `json:"rejects,omitempty"`
	Report       string   `json:"report,omitempty"`
	Workers      int      `json:"workers"`
	BatchSize    int      `json:"batch_size"`
	OutputFormat string   `json:"output_format,omitempty"`
	Stages       []Stage  `json:"-"`
	// Dir is the directory relative paths are resolved against.
	Dir string `json:"-"`
	// File is the recipe's path when it was loaded from a file.
	File string `json:"-"`
	// Text is the recipe's YAML source.
	Text string `json:"text"`
}

// Stage is one entry of a recipe's stage list.
type Stage struct {
	Name    string
	Workers int // 0: the recipe's default
	Def     *Def
	Node    ast.Node // the spec; nil for defaults
}

// top mirrors the recipe's top-level keys for strict decoding.
type top struct {
	Input        any    `yaml:"input"`
	Output       string `yaml:"output"`
	Rejects      string `yaml:"rejects"`
	Report       string `yaml:"report"`
	Workers      int    `yaml:"workers"`
	BatchSize    int    `yaml:"batch_size"`
	OutputFormat string `yaml:"output_format"`
	Stages       any    `yaml:"stages"`
}

var topKeys = "input, output, rejects, report, workers, batch_size, output_format, stages"

// Load reads and parses the recipe at path. Relative paths in it resolve
// against its directory.
func Load(path string) (*Recipe, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.File = path
	return r, nil
}

// Parse parses a recipe; dir is the directory relative paths resolve
// against. Unknown keys and wrong types are errors with line:column.
func Parse(data []byte, dir string) (*Recipe, error) {
	var t top
	if err := yaml.UnmarshalWithOptions(data, &t, yaml.DisallowUnknownField()); err != nil {
		msg := yaml.FormatError(err, false, false)
		if strings.Contains(msg, "unknown field") {
			msg += " (allowed: " + topKeys + ")"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	r := &Recipe{Output: t.Output, Rejects: t.Rejects, Report: t.Report, Workers: t.Workers,
		BatchSize: t.BatchSize, OutputFormat: t.OutputFormat, Dir: dir, Text: string(data)}
	switch in := t.Input.(type) {
	case nil:
	case string:
		r.Input = []string{in}
	case []any:
		for _, x := range in {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("input: want a path or a list of paths, got %v", x)
			}
			r.Input = append(r.Input, s)
		}
	default:
		return nil, fmt.Errorf("input: want a path or a list of paths, got %v", in)
	}
	if r.BatchSize == 0 {
		r.BatchSize = 1024
	}
	if r.BatchSize < 0 {
		return nil, fmt.Errorf("batch_size: %d, want > 0", r.BatchSize)
	}
	if r.Workers < 0 {
		return nil, fmt.Errorf("workers: %d, want >= 0", r.Workers)
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("%s", yaml.FormatError(err, false, false))
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return r, nil
	}
	if err := checkWhole(f.Docs[0].Body, reflect.TypeFor[top](), ""); err != nil {
		return nil, err
	}
	for _, kv := range mappingValues(f.Docs[0].Body) {
		if kv.Key.String() == "stages" {
			if r.Stages, err = parseStages(kv.Value); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	return nil
}

func pos(n ast.Node) string {
	t := n.GetToken()
	return fmt.Sprintf("[%d:%d]", t.Position.Line, t.Position.Column)
}

func parseStages(n ast.Node) ([]Stage, error) {
	if n.Type() == ast.NullType {
		return nil, nil
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return nil, fmt.Errorf("%s stages: want a list of stages", pos(n))
	}
	var out []Stage
	for _, item := range seq.Values {
		var st Stage
		var at ast.Node = item // where the stage is named
		kvs := mappingValues(item)
		if s, ok := item.(*ast.StringNode); ok { // "- name" with all defaults
			st.Name = s.Value
		}
		for _, kv := range kvs {
			key := kv.Key.String()
			if key == "workers" {
				if err := yamlnode.Decode(kv.Value, &st.Workers); err != nil || st.Workers < 0 {
					return nil, fmt.Errorf("%s workers: want a count >= 0", pos(kv.Value))
				}
				continue
			}
			if st.Name != "" {
				return nil, fmt.Errorf("%s stage entry names two stages (%s, %s); write one per list item", pos(kv.Key), st.Name, key)
			}
			st.Name, st.Node, at = key, kv.Value, kv.Key
		}
		if st.Name == "" {
			return nil, fmt.Errorf("%s stage entry names no stage", pos(item))
		}
		d, ok := Lookup(st.Name)
		if !ok {
			return nil, fmt.Errorf("%s unknown stage %q (known: %s)", pos(at), st.Name, strings.Join(Names(), ", "))
		}
		st.Def = d
		if _, err := d.Decode(st.Node); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Steps builds the recipe's stages, concurrently: loading models and
// thesauri is most of the time a run takes before its first row, and they
// load one per core. On errors, the error of the first stage in recipe
// order that failed is returned.
func (r *Recipe) Steps(env Env) ([]sift.Step, error) {
	steps := make([]sift.Step, len(r.Stages))
	errs := make([]error, len(r.Stages))
	var wg sync.WaitGroup
	for i, s := range r.Stages {
		env := env
		env.First = i == 0
		wg.Go(func() {
			var st sift.Stage
			st, errs[i] = s.Def.Build(s.Node, env)
			steps[i] = sift.Step{Name: s.Name, Stage: st, Workers: s.Workers}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// Path resolves p against the recipe's directory.
func (r *Recipe) Path(p string) string { return Env{Dir: r.Dir}.Path(p) }
