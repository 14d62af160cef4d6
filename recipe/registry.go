package recipe

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/siftdata/sift"
	"github.com/siftdata/sift/internal/yamlnode"
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

	commits *commits // set by Run: see Create
}

// Path resolves p against the recipe directory. Empty stays empty.
func (e Env) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || e.Dir == "" {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// Readier is implemented by stages whose build starts loading something
// large (a model) in the background, so that a run reads its first rows
// meanwhile. Ready waits for the load and returns its error. [Run] fails
// with that error as soon as it is known, and at the latest before it
// commits any output, even when no row reaches the stage.
type Readier interface {
	Ready() error
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
	Type    string // YAML shape: int, number, string, bool, [elem], {key, ...} for a nested spec
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
// the offending field. The stages of one recipe are built concurrently
// (loading a model and a thesaurus at once), so build must not rely on
// another stage's build having run, and must guard any state it shares.
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
		d.Params = append(d.Params, Param{Name: key, Type: yamlShape(f.Type), Default: strings.TrimSpace(string(y)), Doc: f.Tag.Get("doc")})
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
		if err := checkWhole(node, d.spec, ""); err != nil {
			return nil, fmt.Errorf("stage %s: %w", d.Name, err)
		}
		if err := yamlnode.Decode(node, p.Interface(), yaml.DisallowUnknownField()); err != nil {
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

// yamlShape describes how a value of type t is written in YAML; a nested
// spec is shown by its keys, e.g. {order, corpus}.
func yamlShape(t reflect.Type) string {
	if _, ok := reflect.PointerTo(t).MethodByName("UnmarshalYAML"); ok {
		return "custom" // decodes itself from several shapes: the doc says which
	}
	switch t.Kind() {
	case reflect.Pointer:
		return yamlShape(t.Elem())
	case reflect.Struct:
		var keys []string
		for i := 0; i < t.NumField(); i++ {
			if key := yamlKey(t.Field(i)); key != "" {
				keys = append(keys, key)
			}
		}
		return "{" + strings.Join(keys, ", ") + "}"
	case reflect.Slice, reflect.Array:
		return "[" + yamlShape(t.Elem()) + "]"
	case reflect.Map:
		return "{" + yamlShape(t.Key()) + ": " + yamlShape(t.Elem()) + "}"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

// yamlKey returns the YAML key of a spec field, or "" if it has none.
func yamlKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if key == "-" || !f.IsExported() {
		return ""
	}
	return key
}

// checkWhole returns an error for a fractional number given where t wants
// an integer, which the YAML decoder would silently truncate (min: 1.5
// becoming 1). key is n's key path, for the message.
func checkWhole(n ast.Node, t reflect.Type, key string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := n.(type) {
	case *ast.TagNode:
		return checkWhole(v.Value, t, key)
	case *ast.AnchorNode:
		return checkWhole(v.Value, t, key)
	}
	join := func(k string) string {
		if key == "" {
			return k
		}
		return key + "." + k
	}
	switch t.Kind() {
	case reflect.Struct:
		for _, kv := range mappingValues(n) {
			for i := 0; i < t.NumField(); i++ {
				if yamlKey(t.Field(i)) == kv.Key.String() {
					if err := checkWhole(kv.Value, t.Field(i).Type, join(kv.Key.String())); err != nil {
						return err
					}
				}
			}
		}
	case reflect.Map:
		for _, kv := range mappingValues(n) {
			if err := checkWhole(kv.Value, t.Elem(), join(kv.Key.String())); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if seq, ok := n.(*ast.SequenceNode); ok {
			for i, x := range seq.Values {
				if err := checkWhole(x, t.Elem(), fmt.Sprintf("%s[%d]", key, i)); err != nil {
					return err
				}
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if f, ok := n.(*ast.FloatNode); ok && f.Value != math.Trunc(f.Value) {
			return fmt.Errorf("%s key %s: %s is not a whole number", pos(n), key, f.String())
		}
	}
	return nil
}
