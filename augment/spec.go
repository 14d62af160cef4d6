package augment

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/siftdata/sift"
	"github.com/siftdata/sift/recipe"
)

// Thesaurus file formats for [LoadThesaurus].
const (
	FormatWordNet = "wordnet" // a WordNet database folder, see ReadWordNet
	FormatTSV     = "tsv"     // head<TAB>synonym..., see ReadTSV
	FormatCSV     = "csv"     // head,synonym..., see ReadCSV
	FormatCilin   = "cilin"   // Tongyici Cilin, see ReadCilin
	FormatCompact = "compact" // sift's own format, see ReadThesaurus
)

// EnglishName stands for the embedded [English] thesaurus in a recipe's
// thesaurus list.
const EnglishName = "english"

var cilinCode = regexp.MustCompile(`^[A-Za-z]{2}\d\d[A-Za-z]\d\d[=#@]`)

// LoadThesaurus reads the thesaurus at path in format, or if format is ""
// in the format guessed from it: a folder is WordNet, .csv is CSV, a file
// starting with the compact header is compact, one starting with a Cilin
// code is Cilin, anything else TSV. Files may be gzip-compressed.
func LoadThesaurus(path, format string) (*Thesaurus, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if format == "" {
		format, err = guessFormat(path, fi.IsDir())
		if err != nil {
			return nil, err
		}
	}
	if format == FormatWordNet {
		return ReadWordNet(path)
	}
	read := map[string]func(*os.File) (*Thesaurus, error){
		FormatTSV:     func(f *os.File) (*Thesaurus, error) { return ReadTSV(f) },
		FormatCSV:     func(f *os.File) (*Thesaurus, error) { return ReadCSV(f) },
		FormatCilin:   func(f *os.File) (*Thesaurus, error) { return ReadCilin(f) },
		FormatCompact: func(f *os.File) (*Thesaurus, error) { return ReadThesaurus(f) },
	}[format]
	if read == nil {
		return nil, fmt.Errorf("format %q is not one of wordnet, tsv, csv, cilin, compact", format)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func guessFormat(path string, dir bool) (string, error) {
	name := strings.TrimSuffix(strings.ToLower(filepath.Base(path)), ".gz")
	switch {
	case dir:
		return FormatWordNet, nil
	case strings.HasSuffix(name, ".csv"):
		return FormatCSV, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r, err := maybeGunzip(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	first, _ := bufio.NewReader(r).ReadString('\n')
	first = strings.TrimPrefix(first, "\ufeff")
	switch {
	case first == compactHeader:
		return FormatCompact, nil
	case cilinCode.MatchString(first):
		return FormatCilin, nil
	}
	return FormatTSV, nil
}

// SynonymsSpec is the recipe spec of stage "augment_synonyms".
type SynonymsSpec struct {
	Ratio        float64  `yaml:"ratio" doc:"alpha: share of a row's words each copy changes (0 < ratio <= 1)"`
	Copies       int      `yaml:"copies" doc:"augmented copies per row"`
	KeepOriginal bool     `yaml:"keep_original" doc:"keep the source rows; if false, a row with copies is rejected as augmented"`
	Ops          []string `yaml:"ops" doc:"operations each copy draws one of: synonym, insert, swap, delete"`
	Seed         uint64   `yaml:"seed" doc:"random seed; a copy's randomness depends only on seed, row id and copy index"`
	Roles        []string `yaml:"roles" doc:"conversation roles augmented (text rows always are)"`
	Thesaurus    []string `yaml:"thesaurus" doc:"thesauri, merged in order: 'english' (embedded, from WordNet 3.0), WordNet folders or TSV/CSV/Cilin files"`
	Format       string   `yaml:"format" doc:"format of the thesaurus files: wordnet, tsv, csv, cilin, compact; empty to guess"`
	Phrases      bool     `yaml:"phrases" doc:"allow multi-word synonyms"`
	Nouns        bool     `yaml:"nouns" doc:"also replace nouns (WordNet's noun synonyms are mostly another sense in context)"`
	MinFit       float64  `yaml:"min_fit" doc:"how much worse (log10 probability of the neighbouring words) a synonym may fit than the word it replaces; a slot without one is skipped (skip_low_fit); negative: no check"`
	FitGain      float64  `yaml:"fit_gain" doc:"how much better (log10 probability of the neighbouring words) a synonym must fit than the word it replaces, less min_fit"`
	FitFloor     float64  `yaml:"fit_floor" doc:"least log10 probability of the neighbouring words with which a synonym must fit, whatever the word scores; -100: no floor"`
	SenseCheck   bool     `yaml:"sense_check" doc:"refuse a synonym when the words around the slot match the WordNet gloss of a sense of the word it does not share (simplified Lesk)"`
}

func init() {
	recipe.Register("augment_synonyms",
		"Adds EDA-style augmented copies of rows (synonym replacement; optional insertion, swap, deletion), leaving code, URLs, numbers, placeholders and names intact.",
		SynonymsSpec{Ratio: 0.1, Copies: 1, KeepOriginal: true, Ops: []string{string(Replace)},
			Roles: []string{"user", "system"}, Thesaurus: []string{EnglishName}, MinFit: 0, FitGain: defaultFitGain, FitFloor: defaultFitFloor, SenseCheck: true},
		func(s SynonymsSpec, env recipe.Env) (sift.Stage, error) {
			roles, err := sift.ParseRoles(s.Roles, sift.RoleUser|sift.RoleSystem)
			if err != nil {
				return nil, fmt.Errorf("roles: %w", err)
			}
			if len(s.Thesaurus) == 0 {
				return nil, fmt.Errorf("thesaurus: empty")
			}
			var ts []*Thesaurus
			for _, p := range s.Thesaurus {
				if p == EnglishName {
					ts = append(ts, English())
					continue
				}
				t, err := LoadThesaurus(env.Path(p), s.Format)
				if err != nil {
					return nil, fmt.Errorf("thesaurus: %w", err)
				}
				ts = append(ts, t)
			}
			th := ts[0]
			if len(ts) > 1 {
				th = Merge(ts...)
			}
			ops := make([]Op, len(s.Ops))
			for i, o := range s.Ops {
				ops[i] = Op(o)
			}
			return NewSynonyms(WithThesaurus(th), WithRatio(s.Ratio), WithCopies(s.Copies),
				WithKeepOriginal(s.KeepOriginal), WithOps(ops...), WithSeed(s.Seed),
				WithRoles(roles), WithPhrases(s.Phrases), WithNouns(s.Nouns), WithMinFit(s.MinFit), WithFitGain(s.FitGain),
				WithFitFloor(s.FitFloor), WithSenseCheck(s.SenseCheck))
		})
}
