package lm

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func recCmp(a, b rec) int {
	switch {
	case recLess(&a, &b):
		return -1
	case recLess(&b, &a):
		return 1
	}
	return 0
}

// checkRadix sorts a copy of a with radixSort and with slices.SortFunc and
// compares them. Recs with equal keys may come in any order.
func checkRadix(t *testing.T, a []rec, n int, maxID uint32) {
	t.Helper()
	got := slices.Clone(a)
	radixSort(got, n, maxID)
	want := slices.Clone(a)
	slices.SortFunc(want, recCmp)
	byKeyThenV := func(a, b rec) int {
		if c := recCmp(a, b); c != 0 {
			return c
		}
		return int(a.v) - int(b.v)
	}
	for i := 0; i < len(got); {
		j := i + 1
		for j < len(got) && got[j].k == got[i].k {
			j++
		}
		slices.SortFunc(got[i:j], byKeyThenV)
		i = j
	}
	slices.SortFunc(want, byKeyThenV)
	if !slices.Equal(got, want) {
		t.Fatalf("%d recs, n=%d, maxID=%d: radixSort differs from a comparison sort", len(a), n, maxID)
	}
}

func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	gen := func(size, n int, id func() uint32) []rec {
		a := make([]rec, size)
		for i := range a {
			for j := range n {
				a[i].k[j] = id()
			}
			a[i].v = uint64(i)
		}
		return a
	}
	for _, tc := range []struct {
		name  string
		size  int
		n     int
		maxID uint32
		id    func() uint32
	}{
		{"empty", 0, 3, 10, nil},
		{"zipf", 20000, 5, 1 << 20, func() uint32 { return uint32(rand.NewZipf(r, 1.1, 1, 1<<20).Uint64()) }},
		{"uniform 32-bit", 5000, MaxOrder, 1<<32 - 1, r.Uint32},
		{"few distinct", 5000, 4, 2, func() uint32 { return uint32(r.IntN(3)) }},
		{"all equal", 3000, 3, 7, func() uint32 { return 7 }},
		{"one byte", 100, 2, 255, func() uint32 { return uint32(r.IntN(256)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkRadix(t, gen(tc.size, tc.n, tc.id), tc.n, tc.maxID)
		})
	}
	// Sorted and reversed input.
	a := gen(4000, 3, func() uint32 { return uint32(r.IntN(1000)) })
	slices.SortFunc(a, recCmp)
	checkRadix(t, a, 3, 999)
	slices.Reverse(a)
	checkRadix(t, a, 3, 999)
}

func FuzzRadixSort(f *testing.F) {
	f.Add([]byte{3, 1, 2, 3, 3, 2, 1, 0, 0, 0, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		n := int(b[0])%MaxOrder + 1
		b = b[1:]
		var a []rec
		var maxID uint32
		for len(b) >= 2*n {
			var r rec
			for j := range n {
				// Two bytes an id, spread over the bits so that both high
				// and low bytes vary.
				r.k[j] = uint32(b[2*j])<<12 | uint32(b[2*j+1])
				maxID = max(maxID, r.k[j])
			}
			a = append(a, r)
			b = b[2*n:]
		}
		// Repeat to get past the insertion-sort cutoff.
		for len(a) > 0 && len(a) < 100 {
			a = append(a, a...)
		}
		checkRadix(t, a, n, maxID)
	})
}
