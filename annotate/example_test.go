package annotate_test

import (
	"fmt"
	"math"
	"os"

	"github.com/siftdata/sift/annotate"
)

// Krippendorff's alpha of four observers' scores of twelve units, with
// missing values (NaN): the worked example of "Computing Krippendorff's
// Alpha-Reliability".
func ExampleAlpha() {
	nan := math.NaN()
	u := annotate.UnitsFromMatrix([][]float64{
		{1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan},
		{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3},
		{nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan},
		{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan},
	})
	for _, k := range []annotate.Kind{annotate.Nominal, annotate.Ordinal, annotate.Interval, annotate.Ratio} {
		fmt.Printf("%-8s %.3f\n", k, annotate.Alpha(u, k))
	}
	// Output:
	// nominal  0.743
	// ordinal  0.815
	// interval 0.849
	// ratio    0.797
}

// Labels from JSONL rows, their agreement, and the rows to adjudicate.
func ExampleLabels_Agreement() {
	rows := `{"id": "doc-1", "annotator": "ann1", "grammar": 1, "accuracy": 3, "completion": 5}
{"id": "doc-1", "annotator": "ann2", "grammar": 1, "accuracy": 2, "completion": 4}
{"id": "doc-2", "annotator": "ann1", "grammar": 0, "accuracy": 1, "completion": 2}
{"id": "doc-2", "annotator": "ann2", "grammar": 0, "accuracy": 0, "completion": 0}
{"id": "doc-3", "annotator": "ann1", "grammar": 1, "accuracy": 3, "completion": 3}
{"id": "doc-3", "annotator": "ann2", "grammar": 1, "accuracy": 3, "completion": null}
`
	labels, err := annotate.ParseLabels([]byte(rows), "labels.jsonl", annotate.DefaultRubric())
	if err != nil {
		fmt.Println(err)
		return
	}
	ag := labels.Agreement(annotate.AgreementOptions{})
	for _, d := range labels.Rubric.Names() {
		fmt.Printf("%s: alpha %.3f over %d values\n", d, ag[d].Alpha, ag[d].Pairable)
	}
	labels.WriteDisagreements(os.Stdout, 0.4)
	// Output:
	// grammar: alpha 1.000 over 6 values
	// accuracy: alpha 0.731 over 6 values
	// completion: alpha 0.700 over 4 values
	// {"id":"doc-2","dimension":"completion","spread":0.4,"labels":{"ann1":2,"ann2":0}}
}
