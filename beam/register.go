package siftbeam

import (
	"context"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// The SDK calls registered DoFns and emitters without reflection.
func init() {
	register.DoFn2x1[File, func(int, Range), error](&splitFn{})
	register.Function2x3(countLines)
	register.Function3x0(numberRanges)
	register.Function1x2(rangeKey)
	register.Function2x0(noDecisions)
	register.DoFn8x1[context.Context, int64, func(*Range) bool, func(*Decision) bool, func(Stored), func(StoredRej), func(Tally), func(string, Keepers), error](&passFn{})
	register.DoFn3x1[string, func(*Keepers) bool, func(Tally), error](&clusterFn{})
	register.DoFn7x1[context.Context, int64, func(*Range) bool, func(*Decision) bool, func(int64, ExactChunk), func(StoredRej), func(Tally), error](&exactKeysFn{})
	register.DoFn5x1[int64, func(*ExactChunk) bool, func(int64, Decision), func(int64, Decision), func(Tally), error](&exactKeepFn{})
	register.DoFn7x1[context.Context, int64, func(*Range) bool, func(*Decision) bool, func(int64, SimChunk), func(StoredRej), func(Tally), error](&simKeysFn{})
	register.DoFn6x1[int64, func(*SimChunk) bool, func(int64, Decision), func(int64, Decision), func(int64, SimChunk), func(Tally), error](&simPairsFn{})
	register.DoFn5x1[context.Context, int64, func(*Range) bool, func(*Decision) bool, func(int64, Decision), error](&setsFn{})
	register.DoFn7x1[context.Context, int64, func(*Range) bool, func(*Decision) bool, func(int64, Blobs), func(StoredRej), func(Tally), error](&scoreFn{})
	register.DoFn1x3[Blobs, int64, Decision, error](&thresholdsFn{})
	register.Function2x2(rangeOnly)
	register.Function4x0(spread)
	register.Function2x2(splitDigest)
	register.Function2x1(concatBlobs)
	register.DoFn1x2[Stored, int, Stored](&shardPartFn{})
	register.DoFn1x2[StoredRej, int, StoredRej](&shardRejFn{})
	register.DoFn5x1[context.Context, int, func(*bool) bool, func(*Stored) bool, func(Tally), error](&writeFn{})
	register.DoFn4x1[int, func(*bool) bool, func(*StoredRej) bool, func(Tally), error](&writeRejFn{})
	register.DoFn1x1[Tally, error](&reportFn{})
	register.Function1x2(shardKey)
	register.Function2x1(mergeTally)

	register.Emitter1[Stored]()
	register.Emitter1[Range]()
	register.Emitter2[int, Range]()
	register.Emitter1[StoredRej]()
	register.Emitter1[Tally]()
	register.Emitter2[int64, ExactChunk]()
	register.Emitter2[int64, Decision]()
	register.Emitter2[int64, SimChunk]()
	register.Emitter2[string, Keepers]()
	register.Emitter2[int64, Blobs]()
	register.Iter1[Stored]()
	register.Iter1[Range]()
	register.Iter1[Keepers]()
	register.Iter1[Decision]()
	register.Iter1[ExactChunk]()
	register.Iter1[SimChunk]()
	register.Iter1[StoredRej]()
	register.Iter1[bool]()
	register.Iter1[int64]()
}
