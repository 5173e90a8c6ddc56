package planner

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/etlc/etlc/catalog"
)

func TestRegistryTable(t *testing.T) {
	r := NewRegistry()
	if len(r.Funcs()) < 100 {
		t.Fatalf("only %d functions", len(r.Funcs()))
	}
	for _, f := range r.Funcs() {
		if f.Name != strings.ToLower(f.Name) || len(f.Sigs) == 0 {
			t.Errorf("bad entry %q", f.Name)
		}
		for _, s := range f.Sigs {
			if !strings.Contains(s.String(), "->") {
				t.Errorf("%s: signature %q", f.Name, s)
			}
		}
	}
	// Everything the TPC-H queries and the SCD2 example call.
	for _, n := range []string{"sum", "avg", "count", "min", "max", "extract", "substring", "like", "in_list",
		"md5", "sha2", "concat", "concat_ws", "coalesce", "nullif", "current_timestamp", "now",
		"lower", "upper", "length", "char_length", "trim", "ltrim", "rtrim", "replace", "lpad", "rpad", "left",
		"right", "position", "split_part", "starts_with", "abs", "round", "floor", "ceil", "power", "sqrt", "ln",
		"log", "exp", "mod", "sign", "date_trunc", "date_part", "date_add", "date_sub", "datediff", "to_date",
		"to_timestamp", "year", "month", "day", "current_date", "sha1", "sha256", "hash", "greatest", "least",
		"if", "iff", "ifnull", "nvl", "regexp_like", "regexp_replace", "json_extract", "json_value", "stddev",
		"variance", "bool_and", "bool_or", "string_agg", "group_concat", "approx_count_distinct", "first", "last",
		"row_number", "rank", "dense_rank", "percent_rank", "ntile", "lag", "lead", "first_value", "last_value"} {
		if _, ok := r.Lookup(n); !ok {
			t.Errorf("function %s is missing", n)
		}
	}
	for _, n := range r.Names() {
		if n == "add" || strings.HasPrefix(n, "__") {
			t.Errorf("Names lists operator %q", n)
		}
	}
}

func TestResolve(t *testing.T) {
	r := NewRegistry()
	dec := catalog.Decimal
	vc := catalog.String
	cases := []struct {
		fn   string
		args []catalog.Type
		want string // result type, or "error"
	}{
		{"add", []catalog.Type{dec(15, 2), dec(15, 2)}, "DECIMAL(16,2)"},
		{"mul", []catalog.Type{dec(15, 2), dec(16, 2)}, "DECIMAL(32,4)"},
		{"div", []catalog.Type{catalog.Int32, catalog.Int32}, "DECIMAL(21,11)"},
		{"div", []catalog.Type{catalog.Float64, catalog.Int32}, "DOUBLE"},
		{"intdiv", []catalog.Type{catalog.Int64, catalog.Int32}, "BIGINT"},
		{"mod", []catalog.Type{catalog.Int32, catalog.Int32}, "INT"},
		{"add", []catalog.Type{catalog.Int16, catalog.Int32}, "INT"},
		{"add", []catalog.Type{catalog.Date, catalog.Interval}, "TIMESTAMP"},
		{"add", []catalog.Type{catalog.Date, catalog.Int32}, "DATE"},
		{"sub", []catalog.Type{catalog.Date, catalog.Date}, "INT"},
		{"sub", []catalog.Type{catalog.Timestamp, catalog.Timestamp}, "INTERVAL"},
		{"add", []catalog.Type{vc, vc}, "error"},
		{"sum", []catalog.Type{catalog.Int32}, "BIGINT"},
		{"sum", []catalog.Type{dec(15, 2)}, "DECIMAL(38,2)"},
		{"sum", []catalog.Type{vc}, "error"},
		{"avg", []catalog.Type{dec(15, 2)}, "DECIMAL(19,6)"},
		{"avg", []catalog.Type{catalog.Int32}, "DOUBLE"},
		{"count", nil, "BIGINT"},
		{"min", []catalog.Type{catalog.Date}, "DATE"},
		{"coalesce", []catalog.Type{catalog.Int32, catalog.Int64, dec(10, 2)}, "DECIMAL(21,2)"},
		{"coalesce", []catalog.Type{catalog.Date, catalog.Timestamp}, "TIMESTAMP"},
		{"greatest", []catalog.Type{catalog.Int32, catalog.Float64}, "DOUBLE"},
		{"concat", []catalog.Type{catalog.Int32, vc, catalog.Date}, "VARCHAR"},
		{"eq", []catalog.Type{catalog.Date, catalog.Int32}, "error"},
		{"eq", []catalog.Type{vc, catalog.Date}, "error"},
		{"eq", []catalog.Type{dec(38, 2), dec(38, 6)}, "BOOLEAN"},
		{"round", []catalog.Type{dec(15, 2), catalog.Int32}, "DECIMAL(16,2)"},
		{"floor", []catalog.Type{dec(15, 2)}, "DECIMAL(14,0)"},
		{"lower", []catalog.Type{catalog.Int32}, "error"},
		{"substring", []catalog.Type{vc, catalog.Int32, catalog.Int32}, "VARCHAR"},
		{"sqrt", []catalog.Type{catalog.Int64}, "DOUBLE"},
		{"extract", []catalog.Type{vc, catalog.Date}, "BIGINT"},
		{"lag", []catalog.Type{dec(12, 2), catalog.Int64, catalog.Int32}, "DECIMAL(12,2)"},
		{"if", []catalog.Type{catalog.Bool, catalog.Int32, catalog.Int64}, "BIGINT"},
		{"md5", []catalog.Type{vc}, "VARCHAR"},
	}
	for _, c := range cases {
		f, ok := r.Lookup(c.fn)
		if !ok {
			t.Fatalf("no function %s", c.fn)
		}
		res, err := r.Resolve(f, c.args)
		got := "error"
		if err == nil {
			got = res.Result.String()
		}
		if got != c.want {
			t.Errorf("%s%v = %s, want %s", c.fn, c.args, got, c.want)
		}
	}
	// The chosen signature converts arguments to its parameter types.
	f, _ := r.Lookup("substring")
	res, err := r.Resolve(f, []catalog.Type{catalog.String, catalog.Int32})
	if err != nil || res.Params[1] != catalog.Int64 {
		t.Fatalf("substring params = %v, %v", res, err)
	}
}

func TestLiterals(t *testing.T) {
	for _, c := range []struct{ in, typ, val string }{
		{"0.06", "DECIMAL(2,2)", "0.06"},
		{"100.00", "DECIMAL(5,2)", "100.00"},
		{"7.0", "DECIMAL(2,1)", "7.0"},
		{"0.0001", "DECIMAL(4,4)", "0.0001"},
		{"24", "DECIMAL(2,0)", "24"},
		{"-1.5", "DECIMAL(2,1)", "-1.5"},
	} {
		n, typ, err := parseDecimalLiteral(c.in)
		if err != nil || typ.String() != c.typ || FormatValue(n, typ) != c.val {
			t.Errorf("parseDecimalLiteral(%q) = %s %s %v, want %s %s", c.in, FormatValue(n, typ), typ, err, c.typ, c.val)
		}
	}
	for _, c := range []struct {
		in   string
		want arrow.MonthDayNanoInterval
	}{
		{"90 day", arrow.MonthDayNanoInterval{Days: 90}},
		{"3 month", arrow.MonthDayNanoInterval{Months: 3}},
		{"1 year 2 months", arrow.MonthDayNanoInterval{Months: 14}},
		{"5 minutes", arrow.MonthDayNanoInterval{Nanoseconds: 300e9}},
		{"1 day 02:00:00", arrow.MonthDayNanoInterval{Days: 1, Nanoseconds: 7200e9}},
		{"10s", arrow.MonthDayNanoInterval{Nanoseconds: 10e9}},
		{"1.5 hours", arrow.MonthDayNanoInterval{Nanoseconds: 5400e9}},
		{"250 ms", arrow.MonthDayNanoInterval{Nanoseconds: 250e6}},
	} {
		got, err := parseInterval(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseInterval(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "1.5 months", "5"} {
		if _, err := parseInterval(bad); err == nil {
			t.Errorf("parseInterval(%q) succeeded", bad)
		}
	}
	d, err := parseDate("1998-12-01")
	if err != nil || d != 10561 || FormatValue(d, catalog.Date) != "DATE '1998-12-01'" {
		t.Errorf("parseDate = %d, %v", d, err)
	}
	ts, err := parseTimestamp("2000-01-01 00:00:01.5", false)
	if err != nil || ts != 946684801500000 {
		t.Errorf("parseTimestamp = %d, %v", ts, err)
	}
	tz, err := parseTimestamp("2000-01-01 02:00:00+02:00", true)
	if err != nil || tz != 946684800000000 {
		t.Errorf("parseTimestamp tz = %d, %v", tz, err)
	}
	if _, err := parseTimestamp("2000-13-01", false); err == nil {
		t.Error("bad timestamp accepted")
	}
	v, err := convertConst(int64(24), catalog.Int32, catalog.Decimal(15, 2))
	if err != nil || v.(decimal128.Num) != decimal128.FromI64(2400) {
		t.Errorf("24 as DECIMAL(15,2) = %v, %v", v, err)
	}
	if _, err := convertConst(int64(300), catalog.Int32, catalog.Int8); err == nil {
		t.Error("300 fits TINYINT")
	}
	for _, c := range []struct {
		v    any
		t    catalog.Type
		want string
	}{
		{nil, catalog.Int32, "NULL"},
		{true, catalog.Bool, "TRUE"},
		{int64(-3), catalog.Int64, "-3"},
		{2.5, catalog.Float64, "2.5::DOUBLE"},
		{"it's", catalog.String, "'it''s'"},
		{[]byte{1, 255}, catalog.Binary, "X'01FF'"},
		{int64(3723000001), catalog.Time, "TIME '01:02:03.000001'"},
		{int64(0), catalog.TimestampTZ, "TIMESTAMPTZ '1970-01-01 00:00:00+00'"},
		{arrow.MonthDayNanoInterval{Months: 13, Days: 1, Nanoseconds: 1e9}, catalog.Interval, "INTERVAL '1 year 1 month 1 day 00:00:01'"},
		{decimal128.FromI64(-5), catalog.Decimal(3, 2), "-0.05"},
	} {
		if got := FormatValue(c.v, c.t); got != c.want {
			t.Errorf("FormatValue(%v, %s) = %s, want %s", c.v, c.t, got, c.want)
		}
	}
}
