package pgwire

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

func TestCheckDescribed(t *testing.T) {
	cols := []planner.Column{{Name: "a", Type: catalog.Int32}, {Name: "b", Type: catalog.String}}
	schema := func(a arrow.DataType) *arrow.Schema {
		return arrow.NewSchema([]arrow.Field{{Name: "a", Type: a}, {Name: "b", Type: arrow.BinaryTypes.String}}, nil)
	}
	for _, c := range []struct {
		dt      arrow.DataType
		formats []int16
		err     string
	}{
		{arrow.PrimitiveTypes.Int32, []int16{1}, ""},
		{arrow.Null, []int16{1}, ""},
		{arrow.PrimitiveTypes.Int64, nil, ""}, // text: any type reads
		{arrow.PrimitiveTypes.Int64, []int16{1, 0}, `cached plan must not change result type: column "a" was described as int4 but returns int64; prepare the statement again`},
	} {
		err := checkDescribed(cols, schema(c.dt), c.formats)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.err {
			t.Errorf("%s %v: %q, want %q", c.dt, c.formats, got, c.err)
		}
	}
	if err := checkDescribed(cols[:1], schema(arrow.PrimitiveTypes.Int32), nil); err == nil {
		t.Error("column count mismatch accepted")
	}
}
