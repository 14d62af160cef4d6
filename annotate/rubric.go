package annotate

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/siftdata/sift/internal/yamlnode"
)

// Kind is a dimension's level of measurement. It decides how labels are
// aggregated and which difference function Krippendorff's alpha uses.
type Kind string

// The kinds of dimension.
const (
	Ordinal  Kind = "ordinal"  // ranked scores (the default): alpha's ordinal metric
	Nominal  Kind = "nominal"  // unordered categories: alpha's nominal metric
	Interval Kind = "interval" // scores whose differences are meaningful: squared differences
	Ratio    Kind = "ratio"    // non-negative scores with a true zero: alpha's ratio metric
)

func (k Kind) valid() bool {
	switch k {
	case Ordinal, Nominal, Interval, Ratio:
		return true
	}
	return false
}

// Dimension is one scored aspect of a row.
type Dimension struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Min and Max bound the scores of a numeric dimension, inclusive.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// Values are the categories of a nominal dimension, in display order.
	Values []string `json:"values,omitempty"`
	// Description and DescriptionZH tell annotators what to judge, in
	// English and Chinese.
	Description   string `json:"description,omitempty"`
	DescriptionZH string `json:"description_zh,omitempty"`
}

// Numeric reports whether d's labels are numbers (every kind but nominal).
func (d Dimension) Numeric() bool { return d.Kind != Nominal }

// Category returns the index of category v of a nominal dimension, or -1.
func (d Dimension) Category(v string) int {
	for i, c := range d.Values {
		if c == v {
			return i
		}
	}
	return -1
}

// Check reports whether v is a valid label of d: a score within [Min, Max]
// for numeric dimensions, a category index for nominal ones.
func (d Dimension) Check(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s: %v is not a score", d.Name, v)
	}
	if d.Kind == Nominal {
		if v != math.Trunc(v) || v < 0 || int(v) >= len(d.Values) {
			return fmt.Errorf("%s: %v is not a category", d.Name, v)
		}
		return nil
	}
	if v < d.Min || v > d.Max {
		return fmt.Errorf("%s: %s %w [%s, %s]", d.Name, fmtNum(v), errRange, fmtNum(d.Min), fmtNum(d.Max))
	}
	return nil
}

// Format returns label v of d as text: the category name of a nominal
// dimension, the number otherwise.
func (d Dimension) Format(v float64) string {
	if d.Kind == Nominal && v >= 0 && int(v) < len(d.Values) {
		return d.Values[int(v)]
	}
	return fmtNum(v)
}

// Parse reads a label of d from text: a category name (or its index) for a
// nominal dimension, a number otherwise. The result is checked with Check.
func (d Dimension) Parse(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if d.Kind == Nominal {
		if i := d.Category(s); i >= 0 {
			return float64(i), nil
		}
		return 0, fmt.Errorf("%s: %q is not one of %s", d.Name, s, strings.Join(d.Values, ", "))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number", d.Name, s)
	}
	return v, d.Check(v)
}

var errRange = errors.New("out of range")

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Rubric is the list of dimensions annotators score.
type Rubric []Dimension

// DefaultRubric is the method's three-level scale: grammar correctness 0–1,
// information accuracy 0–3 and task completion 0–5, all ordinal.
func DefaultRubric() Rubric {
	return Rubric{
		{Name: "grammar", Kind: Ordinal, Min: 0, Max: 1,
			Description:   "Grammar: 1 if the response is grammatical and fluent, 0 if it has errors",
			DescriptionZH: "语法正确性：语法通顺为 1，有语法错误为 0"},
		{Name: "accuracy", Kind: Ordinal, Min: 0, Max: 3,
			Description:   "Information accuracy: 0 wrong or made up, 1 mostly wrong, 2 mostly right, 3 fully correct",
			DescriptionZH: "信息准确性：0 错误或捏造，1 大部分错误，2 大部分正确，3 完全正确"},
		{Name: "completion", Kind: Ordinal, Min: 0, Max: 5,
			Description:   "Task completion: 0 ignores the task … 5 completes every part of it",
			DescriptionZH: "任务完成度：0 未回应任务 … 5 完整完成任务的每个部分"},
	}
}

// Index returns the position of the dimension called name, or -1.
func (r Rubric) Index(name string) int {
	for i, d := range r {
		if d.Name == name {
			return i
		}
	}
	return -1
}

// Names lists the dimension names in order.
func (r Rubric) Names() []string {
	out := make([]string, len(r))
	for i, d := range r {
		out[i] = d.Name
	}
	return out
}

// Validate checks r: at least one dimension, non-empty unique names, a
// known kind, min < max for numeric dimensions and at least two distinct
// categories for nominal ones. It sets an empty Kind to ordinal, in place.
func (r Rubric) Validate() error {
	if len(r) == 0 {
		return errors.New("rubric: no dimensions")
	}
	for i := range r {
		if err := r.checkDim(i); err != nil {
			return err
		}
	}
	return nil
}

func (r Rubric) checkDim(i int) error {
	d := &r[i]
	if d.Kind == "" {
		d.Kind = Ordinal
	}
	switch {
	case d.Name == "":
		return fmt.Errorf("dimension %d: no name", i+1)
	case !d.Kind.valid():
		return fmt.Errorf("%s: unknown kind %q (known: ordinal, nominal, interval, ratio)", d.Name, d.Kind)
	case r.Index(d.Name) != i:
		return fmt.Errorf("%s: duplicate dimension name", d.Name)
	}
	if d.Kind == Nominal {
		if len(d.Values) < 2 {
			return fmt.Errorf("%s: a nominal dimension needs at least two values", d.Name)
		}
		for j, v := range d.Values {
			if v == "" || d.Category(v) != j {
				return fmt.Errorf("%s: value %q is empty or repeated", d.Name, v)
			}
		}
		return nil
	}
	if len(d.Values) > 0 {
		return fmt.Errorf("%s: values are for nominal dimensions; give min and max", d.Name)
	}
	if !(d.Min < d.Max) {
		return fmt.Errorf("%s: min %s >= max %s", d.Name, fmtNum(d.Min), fmtNum(d.Max))
	}
	if d.Kind == Ratio && d.Min < 0 {
		return fmt.Errorf("%s: a ratio dimension cannot go below 0 (min %s)", d.Name, fmtNum(d.Min))
	}
	return nil
}

// dimYAML is a dimension as written in a rubric file or recipe.
type dimYAML struct {
	Name          string   `yaml:"name"`
	Kind          Kind     `yaml:"kind"`
	Min           *float64 `yaml:"min"`
	Max           *float64 `yaml:"max"`
	Values        []string `yaml:"values"`
	Description   string   `yaml:"description"`
	DescriptionZH string   `yaml:"description_zh"`
}

// ParseRubric reads a rubric from YAML or JSON: a list of dimensions, or a
// mapping whose "rubric" key holds that list. Errors carry [line:column].
func ParseRubric(data []byte) (Rubric, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, errors.New(yaml.FormatError(err, false, false))
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, errors.New("rubric: empty")
	}
	return RubricFromNode(f.Docs[0].Body)
}

// LoadRubric reads the rubric file at path (YAML or JSON). Errors name the
// file and carry [line:column].
func LoadRubric(path string) (Rubric, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := ParseRubric(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// RubricFromNode reads a rubric from a parsed YAML node, as ParseRubric.
func RubricFromNode(n ast.Node) (Rubric, error) {
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) == 1 && m.Values[0].Key.String() == "rubric" {
		n = m.Values[0].Value
	} else if kv, ok := n.(*ast.MappingValueNode); ok && kv.Key.String() == "rubric" {
		n = kv.Value
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return nil, fmt.Errorf("%s rubric: want a list of dimensions", nodePos(n))
	}
	var r Rubric
	for _, item := range seq.Values {
		var d dimYAML
		if err := yamlnode.Decode(item, &d, yaml.DisallowUnknownField()); err != nil {
			msg := yaml.FormatError(err, false, false)
			if strings.Contains(msg, "unknown field") {
				msg += " (allowed: name, kind, min, max, values, description, description_zh)"
			}
			return nil, errors.New(msg)
		}
		dim := Dimension{Name: d.Name, Kind: d.Kind, Values: d.Values, Description: d.Description, DescriptionZH: d.DescriptionZH}
		if dim.Kind == "" {
			dim.Kind = Ordinal
		}
		if dim.Kind != Nominal {
			if d.Min == nil || d.Max == nil {
				return nil, fmt.Errorf("%s %s: min and max are required", nodePos(item), dimName(d.Name))
			}
			dim.Min, dim.Max = *d.Min, *d.Max
		} else if d.Min != nil || d.Max != nil {
			return nil, fmt.Errorf("%s %s: a nominal dimension takes values, not min and max", nodePos(item), dimName(d.Name))
		}
		r = append(r, dim)
		if err := r.checkDim(len(r) - 1); err != nil {
			return nil, fmt.Errorf("%s %w", nodePos(item), err)
		}
	}
	if len(r) == 0 {
		return nil, fmt.Errorf("%s rubric: no dimensions", nodePos(n))
	}
	return r, nil
}

func dimName(s string) string {
	if s == "" {
		return "dimension"
	}
	return s
}

func nodePos(n ast.Node) string {
	t := n.GetToken()
	if t == nil {
		return "[0:0]"
	}
	return fmt.Sprintf("[%d:%d]", t.Position.Line, t.Position.Column)
}

// RubricSpec is a rubric in a recipe: either inline, as a list of
// dimensions, or the path of a YAML/JSON rubric file (relative to the
// recipe). Empty means the default rubric.
type RubricSpec struct {
	Path   string
	Inline Rubric
}

// UnmarshalYAML reads a path or an inline list, with [line:column] errors.
func (s *RubricSpec) UnmarshalYAML(n ast.Node) error {
	switch v := n.(type) {
	case *ast.StringNode:
		s.Path, s.Inline = v.Value, nil
		return nil
	case *ast.NullNode:
		*s = RubricSpec{}
		return nil
	}
	r, err := RubricFromNode(n)
	if err != nil {
		return err
	}
	s.Path, s.Inline = "", r
	return nil
}

// MarshalYAML writes the path, the inline list or null.
func (s RubricSpec) MarshalYAML() (any, error) {
	switch {
	case s.Path != "":
		return s.Path, nil
	case s.Inline != nil:
		return s.Inline, nil
	}
	return nil, nil
}

// Resolve returns the rubric, loading the file with resolve(path) as its
// location.
func (s RubricSpec) Resolve(resolve func(string) string) (Rubric, error) {
	switch {
	case s.Path != "":
		return LoadRubric(resolve(s.Path))
	case s.Inline != nil:
		return s.Inline, nil
	}
	return DefaultRubric(), nil
}
