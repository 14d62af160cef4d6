package schema

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/xeipuuv/gojsonschema"
)

func TestJSONSchema(t *testing.T) {
	for _, tc := range []struct {
		doc   string
		valid bool
	}{
		{`{"id":"a","text":""}`, true},
		{`{"id":"a","messages":[{"role":"tool","content":"x"}],"source":"s","meta":{"k":[1]}}`, true},
		{`{"id":"a","text":"t","messages":[{"role":"user","content":"x"}]}`, false},
		{`{"id":"a"}`, false},
		{`{"id":"a","text":null}`, false},
		{`{"id":"a","messages":[]}`, false},
		{`{"id":"a","messages":[{"role":"human","content":"x"}]}`, false},
		{`{"id":"a","messages":[{"role":"user","content":null}]}`, false},
		{`{"id":"a","messages":[{"role":"user","content":"x","name":"n"}]}`, false},
		{`{"id":"a","text":"t","extra":1}`, false},
		{`{"id":"a","text":"t","meta":"{}"}`, false},
		{`{"id":1,"text":"t"}`, false},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			res, err := unifiedSchema().Validate(gojsonschema.NewStringLoader(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid() != tc.valid {
				t.Fatalf("valid = %v, want %v: %v", res.Valid(), tc.valid, res.Errors())
			}
		})
	}
}

// TestSchemasAgree checks that the JSON Schema and the Arrow schema name the
// same fields, and the same roles as the engine.
func TestSchemasAgree(t *testing.T) {
	var js struct {
		Properties map[string]struct {
			Items struct {
				Properties struct {
					Role struct{ Enum []string }
				}
			}
		}
	}
	if err := json.Unmarshal(JSONSchema, &js); err != nil {
		t.Fatal(err)
	}
	var props, cols []string
	for k := range js.Properties {
		props = append(props, k)
	}
	for _, f := range ArrowSchema.Fields() {
		cols = append(cols, f.Name)
	}
	slices.Sort(props)
	slices.Sort(cols)
	if !slices.Equal(props, cols) {
		t.Fatalf("JSON Schema properties %v, Arrow fields %v", props, cols)
	}
	roles := js.Properties["messages"].Items.Properties.Role.Enum
	for _, r := range roles {
		if !roleKnown(r) {
			t.Errorf("JSON Schema role %q is not an engine role", r)
		}
	}
	if len(roles) != 4 {
		t.Errorf("JSON Schema roles %v, want the engine's 4", roles)
	}
	if !arrow.TypeEqual(ArrowSchema.Field(2).Type, arrow.ListOf(arrow.StructOf(
		arrow.Field{Name: "role", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "content", Type: arrow.BinaryTypes.String}))) {
		t.Errorf("messages is %s", ArrowSchema.Field(2).Type)
	}
}

func roleKnown(r string) bool { return roleAlias[r] == r }
