package recipe

import (
	"fmt"
	"html/template"
)

// profileView is the profile part of an inspect page.
type profileView struct {
	Files   [][]string
	Summary [][2]string
	Charts  []template.HTML
	Sources [][]string
}

func newProfileView(prof *Profile, rs *rowStats) *profileView {
	v := &profileView{}
	for _, f := range prof.Files {
		size := "–"
		if f.Bytes >= 0 {
			size = fmt.Sprint(f.Bytes)
		}
		v.Files = append(v.Files, []string{f.Path, string(f.Format), size, fmt.Sprint(f.Rows)})
	}
	dup := fmt.Sprintf("%.2f%% (%.0f distinct texts, exact)", 100*prof.DuplicateRate, prof.Distinct)
	if !prof.DistinctExact {
		dup = fmt.Sprintf("≈ %.2f%% (≈ %.0f distinct texts ± %.1f%%, from a k-minimum-values sketch)", 100*prof.DuplicateRate, prof.Distinct, 100*prof.DistinctRelErr)
	}
	v.Summary = [][2]string{
		{"Rows", fmt.Sprint(prof.Rows)},
		{"Unreadable", fmt.Sprint(prof.Unreadable)},
		{"Not mappable by normalize", fmt.Sprint(prof.Unmapped)},
		{"Profiled", fmt.Sprint(prof.Profiled)},
		{"Exact duplicates", dup},
	}
	if q := prof.Length; q != nil {
		v.Summary = append(v.Summary, [2]string{"Length, characters",
			fmt.Sprintf("min %s · p10 %s · median %s · p90 %s · p99 %s · max %s · mean %s", num(q.Min), num(q.P10), num(q.P50), num(q.P90), num(q.P99), num(q.Max), num(q.Mean))})
	}
	v.Charts = append(v.Charts, barChart("Rows by record shape (as normalize detects it)", sortedBars(prof.Shapes)))
	if s := rs.steps[profileStep]; s != nil {
		v.Charts = append(v.Charts, histChart("Length of the rows", "characters (log scale)", s.length, nil))
	}
	script := make([]bar, 0, len(hanClasses))
	for _, c := range hanClasses { // in class order, not by count
		script = append(script, bar{c, float64(prof.Script[c]), fmt.Sprint(prof.Script[c]), 0})
	}
	v.Charts = append(v.Charts, barChart("Rows by script: share of Han characters", script))
	srcs := map[string]int64{}
	for _, s := range prof.Sources {
		srcs[s.Source] = s.Rows
		v.Sources = append(v.Sources, []string{s.Source, fmt.Sprint(s.Rows), num(s.MedianLen),
			fmt.Sprintf("%.1f%%", 100*s.HanShare), fmt.Sprintf("%.2f%%", 100*s.Duplicates)})
	}
	v.Charts = append(v.Charts, barChart("Rows by source", sortedBars(srcs)))
	return v
}
