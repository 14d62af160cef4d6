package recipe

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/siftdata/sift"
)

// Env is what a stage factory may use besides its spec.
type Env struct {
	// Dir is the directory of the recipe file; relative paths in specs are
	// resolved against it by Path.
	Dir string
	// Inputs are the run's input files, for stages that read the input in a
	// first pass of their own (for example to train a model). Empty when the
	// input cannot be read twice.
	Inputs []string
	// First reports that the stage is the recipe's first, so it sees the
	// input's rows unchanged: a first pass over Inputs then sees exactly the
	// rows the stage will (for example for exact percentiles).
	First bool
	// Mem is the run's allocator.
	Mem memory.Allocator
}

// Path resolves p against the recipe directory. Empty stays empty.
func (e Env) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || e.Dir == "" {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// Def describes a registered stage.
type Def struct {
	Name string
	Doc  string
	// Params are the spec's fields, in declaration order.
	Params []Param

	spec  reflect.Type
	def   any
	build func(spec any, env Env) (sift.Stage, error)
}

// Param is one parameter of a stage spec.
type Param struct {
	Name    string // YAML key
	Type    string // Go type
	Default string // default value as YAML
	Doc     string // from the field's doc tag
}

var (
	mu   sync.RWMutex
	defs = map[string]*Def{}
)

// Register makes a stage available to recipes under name. S is the stage's
// typed spec: a struct whose fields carry `yaml:"key"` and `doc:"text"`
// tags. defaults holds the value of every key a recipe leaves out; build
// turns a decoded spec into a stage and returns configuration errors naming
// the offending field.
//
// Register panics if name is already taken or S is not a struct: both are
// programming errors, found at init time.
func Register[S any](name, doc string, defaults S, build func(spec S, env Env) (sift.Stage, error)) {
	t := reflect.TypeOf(defaults)
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("recipe: spec of %s is %s, want a struct", name, t))
	}
	d := &Def{Name: name, Doc: doc, spec: t, def: defaults,
		build: func(s any, env Env) (sift.Stage, error) { return build(s.(S), env) }}
	v := reflect.ValueOf(defaults)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		y, _ := yaml.MarshalWithOptions(v.Field(i).Interface(), yaml.Flow(true))
		d.Params = append(d.Params, Param{Name: key, Type: f.Type.String(), Default: strings.TrimSpace(string(y)), Doc: f.Tag.Get("doc")})
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := defs[name]; dup {
		panic("recipe: stage " + name + " registered twice")
	}
	defs[name] = d
}

// Lookup returns the stage registered under name.
func Lookup(name string) (*Def, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := defs[name]
	return d, ok
}

// Defs lists the registered stages by name.
func Defs() []*Def {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]*Def, 0, len(defs))
	for _, d := range defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names lists the registered stage names, sorted.
func Names() []string {
	var out []string
	for _, d := range Defs() {
		out = append(out, d.Name)
	}
	return out
}

// Decode decodes a spec from a YAML node (nil for all defaults) into a copy
// of the defaults. Unknown keys and wrong types are errors with line:column
// and, for unknown keys, the allowed ones.
func (d *Def) Decode(node ast.Node) (any, error) {
	p := reflect.New(d.spec)
	p.Elem().Set(reflect.ValueOf(d.def))
	if node != nil && node.Type() != ast.NullType {
		if err := yaml.NodeToValue(node, p.Interface(), yaml.DisallowUnknownField()); err != nil {
			msg := yaml.FormatError(err, false, false)
			for i := 0; i < d.spec.NumField(); i++ { // name keys, not Go fields
				f := d.spec.Field(i)
				key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				msg = strings.ReplaceAll(msg, "Go struct field "+d.spec.Name()+"."+f.Name+" ", "key "+key+" ")
			}
			if strings.Contains(msg, "unknown field") {
				msg += fmt.Sprintf(" (allowed: %s)", strings.Join(d.keys(), ", "))
			}
			return nil, fmt.Errorf("stage %s: %s", d.Name, msg)
		}
	}
	return p.Elem().Interface(), nil
}

// Build decodes node and builds the stage.
func (d *Def) Build(node ast.Node, env Env) (sift.Stage, error) {
	spec, err := d.Decode(node)
	if err != nil {
		return nil, err
	}
	st, err := d.build(spec, env)
	if err != nil {
		pos := ""
		if node != nil {
			t := node.GetToken()
			pos = fmt.Sprintf("[%d:%d] ", t.Position.Line, t.Position.Column)
		}
		return nil, fmt.Errorf("%sstage %s: %w", pos, d.Name, err)
	}
	return st, nil
}

func (d *Def) keys() []string {
	var k []string
	for _, p := range d.Params {
		k = append(k, p.Name)
	}
	return k
}
