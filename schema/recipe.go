package schema

import (
	"fmt"
	"os"

	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"
)

// NormalizeSpec is the recipe spec of stage "normalize".
type NormalizeSpec struct {
	Format       string   `yaml:"format" doc:"input format: auto (detect per record), text, alpaca, sharegpt, openai, pair or custom"`
	Mapping      *Mapping `yaml:"mapping" doc:"dotted paths for a custom format: id, source, text | messages (+ role, content, roles) | prompt + response, system"`
	Schema       string   `yaml:"schema" doc:"path of a JSON Schema every normalized record must also match"`
	Newlines     bool     `yaml:"newlines" doc:"turn \\r\\n and lone \\r into \\n"`
	StripControl bool     `yaml:"strip_control" doc:"remove control characters except tab, \\n and \\r"`
	Unicode      string   `yaml:"unicode" doc:"Unicode normalization: none, nfc or nfkc"`
	Trim         bool     `yaml:"trim" doc:"remove leading and trailing white space"`
}

func init() {
	recipe.Register("normalize", "Maps every input format onto the unified record and validates it against the unified JSON Schema.",
		NormalizeSpec{Format: string(Auto), Newlines: DefaultText.Newlines, Unicode: "none"},
		func(s NormalizeSpec, env recipe.Env) (sift.Stage, error) {
			opts := []Option{
				WithFormat(Format(s.Format)),
				WithText(TextOptions{Newlines: s.Newlines, StripControl: s.StripControl, Unicode: s.Unicode, Trim: s.Trim}),
			}
			if s.Mapping != nil {
				opts = append(opts, WithMapping(*s.Mapping))
			}
			if s.Schema != "" {
				b, err := os.ReadFile(env.Path(s.Schema))
				if err != nil {
					return nil, fmt.Errorf("schema: %w", err)
				}
				opts = append(opts, WithUserSchema(b))
			}
			return NewNormalizer(opts...)
		})
	for _, f := range outputFormats {
		recipe.RegisterFormat(string(f), func() recipe.OutputFormat {
			exp, _ := NewExport(f)
			enc, _ := Encoder(f)
			return recipe.OutputFormat{Check: exp, Encode: enc}
		})
	}
}
