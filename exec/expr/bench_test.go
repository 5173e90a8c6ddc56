package expr

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/planner"
)

const benchRows = 8192

// benchRecord is an 8192-row batch: a, b BIGINT; d, e DECIMAL(12,2);
// s VARCHAR; n VARCHAR of integers; 1% NULLs in a and s; q DECIMAL(12,2)
// of 0.00 .. 0.10 (a TPC-H discount).
func benchRecord() (arrow.Record, *table) {
	mem := memory.DefaultAllocator
	rng := rand.New(rand.NewPCG(1, 2))
	ab := array.NewInt64Builder(mem)
	bb := array.NewInt64Builder(mem)
	db := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 12, Scale: 2})
	eb := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 12, Scale: 2})
	sb := array.NewStringBuilder(mem)
	nb := array.NewStringBuilder(mem)
	qb := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 12, Scale: 2})
	words := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
	for i := 0; i < benchRows; i++ {
		if i%100 == 7 {
			ab.AppendNull()
			sb.AppendNull()
		} else {
			ab.Append(rng.Int64N(1 << 40))
			sb.Append(fmt.Sprintf("%s-%d-%s", words[i%len(words)], i, words[(i*7)%len(words)]))
		}
		bb.Append(rng.Int64N(1 << 40))
		db.Append(decimal128.FromI64(rng.Int64N(1e10)))
		eb.Append(decimal128.FromI64(rng.Int64N(1e10)))
		nb.Append(fmt.Sprint(rng.Int64N(1e9)))
		qb.Append(decimal128.FromI64(rng.Int64N(11)))
	}
	cols := []arrow.Array{ab.NewArray(), bb.NewArray(), db.NewArray(), eb.NewArray(), sb.NewArray(), nb.NewArray(), qb.NewArray()}
	tb := parseTable(&testing.T{}, "a BIGINT, b BIGINT, d DECIMAL(12,2), e DECIMAL(12,2), s VARCHAR, n VARCHAR, q DECIMAL(12,2)")
	fields := make([]arrow.Field, len(cols))
	for i := range cols {
		fields[i] = arrow.Field{Name: tb.names[i], Type: cols[i].DataType(), Nullable: true}
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), cols, benchRows)
	for _, c := range cols {
		c.Release()
	}
	return rec, tb
}

func benchExpr(b *testing.B, src string) {
	rec, tb := benchRecord()
	defer rec.Release()
	e, err := parseTestExpr(src, tb, planner.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ev, err := Compile(e, rec.Schema(), &Env{Alloc: &poolAlloc{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := ev.Eval(ctx, rec)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

func BenchmarkAddInt64(b *testing.B)            { benchExpr(b, "add(a, b)") }
func BenchmarkAddInt64Const(b *testing.B)       { benchExpr(b, "add(a, 42)") }
func BenchmarkAddDecimal(b *testing.B)          { benchExpr(b, "add(d, e)") }
func BenchmarkMulDecimal(b *testing.B)          { benchExpr(b, "mul(d, e)") }
func BenchmarkPriceDecimal(b *testing.B)        { benchExpr(b, "mul(mul(d, sub(1, q)), add(1, q))") }
func BenchmarkDivDecimal(b *testing.B)          { benchExpr(b, "div(d, add(e, 1))") }
func BenchmarkCompareInt64(b *testing.B)        { benchExpr(b, "lt(a, b)") }
func BenchmarkCompareInt64Const(b *testing.B)   { benchExpr(b, "lt(a, 549755813888)") }
func BenchmarkCompareDecimalConst(b *testing.B) { benchExpr(b, "lt(d, 12345678.90)") }
func BenchmarkCompareString(b *testing.B)       { benchExpr(b, "eq(s, 'gamma-2-beta')") }
func BenchmarkLikePrefix(b *testing.B)          { benchExpr(b, "like(s, 'gamma%')") }
func BenchmarkLikeContains(b *testing.B)        { benchExpr(b, "like(s, '%-1%')") }
func BenchmarkLikeGeneral(b *testing.B)         { benchExpr(b, "like(s, 'g%a-_%ta')") }
func BenchmarkCaseLazy(b *testing.B)            { benchExpr(b, "case when gt(a, b) then intdiv(a, b) else 0 end") }
func BenchmarkCastTextToInt(b *testing.B)       { benchExpr(b, "cast(n AS BIGINT)") }
func BenchmarkCastTextToDecimal(b *testing.B)   { benchExpr(b, "cast(n AS DECIMAL(12,2))") }
