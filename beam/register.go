package siftbeam

import (
	"context"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// The SDK calls registered DoFns and emitters without reflection.
func init() {
	register.DoFn5x1[context.Context, File, func(Part), func(RejLine), func(Tally), error](&readFn{})
	register.DoFn5x1[context.Context, Part, func(Part), func(RejLine), func(Tally), error](&stepsFn{})
	register.DoFn7x1[context.Context, int64, func(*Part) bool, func(*Drop) bool, func(Part), func(RejLine), func(Tally), error](&applyFn{})
	register.DoFn2x1[Part, func(string, RowRef), error](&exactKeysFn{})
	register.DoFn3x0[string, func(*RowRef) bool, func(int64, Drop)](&exactKeepFn{})
	register.DoFn3x1[Part, func(int64, Cand), func(Tally), error](&simKeysFn{})
	register.DoFn5x0[int64, func(*Cand) bool, func(string, Near), func(int64, Cand), func(Tally)](&simPairsFn{})
	register.DoFn3x0[string, func(*Near) bool, func(int64, Drop)](&nearKeepFn{})
	register.DoFn1x2[Part, int, Part](&shardPartFn{})
	register.DoFn1x2[RejLine, int, RejLine](&shardRejFn{})
	register.DoFn5x1[context.Context, int, func(*bool) bool, func(*Part) bool, func(Tally), error](&writeFn{})
	register.DoFn4x1[int, func(*bool) bool, func(*RejLine) bool, func(Tally), error](&writeRejFn{})
	register.DoFn1x1[Tally, error](&reportFn{})
	register.Function1x2(shardKey)
	register.Function1x2(keyPart)
	register.Function2x1(mergeTally)

	register.Emitter1[Part]()
	register.Emitter1[RejLine]()
	register.Emitter1[Tally]()
	register.Emitter2[string, RowRef]()
	register.Emitter2[int64, Drop]()
	register.Emitter2[int64, Cand]()
	register.Emitter2[string, Near]()
	register.Emitter2[int64, Part]()
	register.Iter1[Part]()
	register.Iter1[Drop]()
	register.Iter1[RowRef]()
	register.Iter1[Cand]()
	register.Iter1[Near]()
	register.Iter1[RejLine]()
	register.Iter1[bool]()
}
