package exec

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

// benchRecords builds n rows of (k BIGINT in [0, keys), v BIGINT, f DOUBLE,
// s VARCHAR) in batches of DefaultBatchSize, built directly on buffers.
func benchRecords(b *testing.B, mem *Memory, n, keys int, seed int64) (*arrow.Schema, []arrow.Record) {
	rng := rand.New(rand.NewSource(seed))
	s := schemaOf(tInt64, tInt64, tFloat, tString)
	var recs []arrow.Record
	for lo := 0; lo < n; lo += DefaultBatchSize {
		m := min(DefaultBatchSize, n-lo)
		k := make([]int64, m)
		v := make([]int64, m)
		f := make([]float64, m)
		str := make([]string, m)
		for i := range k {
			k[i] = int64(rng.Intn(keys))
			v[i] = int64(rng.Intn(1000))
			f[i] = rng.Float64()
			str[i] = fmt.Sprintf("key-%07d", rng.Intn(keys))
		}
		sa, err := makeStrings(mem.Alloc, str, nil)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, newRecord(s, []arrow.Array{
			makeFixed(mem.Alloc, tInt64, k, nil), makeFixed(mem.Alloc, tInt64, v, nil),
			makeFixed(mem.Alloc, tFloat, f, nil), sa}, m))
	}
	return s, recs
}

func runBench(b *testing.B, rows int, mk func() Operator) {
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		recs, err := Collect(context.Background(), mk())
		if err != nil {
			b.Fatal(err)
		}
		ReleaseRecords(recs)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkHashAggregate(b *testing.B) {
	const n = 1 << 20
	for _, keys := range []int{1000, 100000} {
		for _, strKey := range []bool{false, true} {
			b.Run(fmt.Sprintf("groups=%d/string=%v", keys, strKey), func(b *testing.B) {
				mem := NewMemory(0)
				s, recs := benchRecords(b, mem, n, keys, 1)
				defer ReleaseRecords(recs)
				key := col(b, s, 0)
				if strKey {
					key = col(b, s, 3)
				}
				aggs := []AggSpec{agg(b, s, AggCountStar, tInt64), agg(b, s, AggSum, tInt64, 1), agg(b, s, AggAvg, tFloat, 2)}
				out := schemaOf(key.Type(), tInt64, tInt64, tFloat)
				runBench(b, n, func() Operator {
					return NewHashAggregate(NewRecordSource(s, recs), []expr2{key}, nil, aggs, out, mem)
				})
			})
		}
	}
}

func BenchmarkHashJoin(b *testing.B) {
	const n = 1 << 20
	mem := NewMemory(0)
	// Build: n rows with unique keys; probe: n rows whose keys all match.
	s := schemaOf(tInt64, tInt64)
	mk := func(perm []int) []arrow.Record {
		var recs []arrow.Record
		for lo := 0; lo < n; lo += DefaultBatchSize {
			k := make([]int64, DefaultBatchSize)
			v := make([]int64, DefaultBatchSize)
			for i := range k {
				k[i] = int64(perm[lo+i])
				v[i] = int64(i)
			}
			recs = append(recs, newRecord(s, []arrow.Array{makeFixed(mem.Alloc, tInt64, k, nil), makeFixed(mem.Alloc, tInt64, v, nil)}, DefaultBatchSize))
		}
		return recs
	}
	rng := rand.New(rand.NewSource(1))
	build, probe := mk(rng.Perm(n)), mk(rng.Perm(n))
	defer ReleaseRecords(build)
	defer ReleaseRecords(probe)
	spec := JoinSpec{Kind: JoinInner, LeftKeys: []expr2{col(b, s, 0)}, RightKeys: []expr2{col(b, s, 0)}}
	runBench(b, 2*n, func() Operator {
		return NewHashJoin(NewRecordSource(s, probe), NewRecordSource(s, build), spec, pairSchemaOf(s, s), mem)
	})
}

func BenchmarkSort(b *testing.B) {
	const n = 1 << 20
	mem := NewMemory(0)
	s, recs := benchRecords(b, mem, n, 1<<30, 2)
	defer ReleaseRecords(recs)
	b.Run("bigint", func(b *testing.B) {
		runBench(b, n, func() Operator { return NewSort(NewRecordSource(s, recs), []SortKey{{Expr: col(b, s, 0)}}, mem) })
	})
	b.Run("varchar,double desc", func(b *testing.B) {
		keys := []SortKey{{Expr: col(b, s, 3)}, {Expr: col(b, s, 2), Desc: true}}
		runBench(b, n, func() Operator { return NewSort(NewRecordSource(s, recs), keys, mem) })
	})
	b.Run("top100", func(b *testing.B) {
		runBench(b, n, func() Operator {
			return NewTopN(NewRecordSource(s, recs), []SortKey{{Expr: col(b, s, 2)}}, 0, 100, mem)
		})
	})
}
