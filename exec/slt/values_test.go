package slt

import (
	"strings"
	"testing"
	"time"
)

func TestFormatValue(t *testing.T) {
	ts := time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
	cases := []struct {
		v    any
		typ  byte
		want string
	}{
		{nil, 'I', "NULL"},
		{nil, 'T', "NULL"},
		{nil, 'R', "NULL"},
		{int64(-42), 'I', "-42"},
		{int8(7), 'I', "7"},
		{uint64(18446744073709551615), 'I', "18446744073709551615"},
		{true, 'I', "1"},
		{false, 'I', "0"},
		{float64(3), 'I', "3"},
		{Numeric("15"), 'I', "15"},
		{Numeric("2.000"), 'I', "2"},
		{" 12 ", 'I', "12"},
		{int32(2), 'R', "2.000"},
		{1.0 / 3, 'R', "0.333"},
		{float32(2.5), 'R', "2.500"},
		{-0.0001, 'R', "0.000"},
		{2.0005, 'R', "2.001"},
		{Numeric("2.0005"), 'R', "2.001"},
		{Numeric("-2.0005"), 'R', "-2.001"},
		{Numeric("-0.0004"), 'R', "0.000"},
		{Numeric("1234567.891"), 'R', "1234567.891"},
		{Numeric("NaN"), 'R', "NaN"},
		{"1.5", 'R', "1.500"},
		{true, 'R', "1.000"},
		{"abc", 'T', "abc"},
		{"", 'T', "(empty)"},
		{[]byte("b\tc\nd"), 'T', "b@c@d"},
		{" z", 'T', " z"},
		{true, 'T', "true"},
		{false, 'T', "false"},
		{int16(-5), 'T', "-5"},
		{Numeric("1.50"), 'T', "1.50"},
		{0.1, 'T', "0.1"},
		{1e20, 'T', "1e+20"},
		{Date(ts), 'T', "2024-01-15"},
		{ts, 'T', "2024-01-15 10:30:00"},
		{ts.Add(500 * time.Millisecond), 'T', "2024-01-15 10:30:00.5"},
		{ts.Add(123456 * time.Microsecond), 'T', "2024-01-15 10:30:00.123456"},
	}
	for _, c := range cases {
		got, err := FormatValue(c.v, c.typ)
		if err != nil {
			t.Errorf("FormatValue(%#v, %c): %v", c.v, c.typ, err)
			continue
		}
		if got != c.want {
			t.Errorf("FormatValue(%#v, %c) = %q, want %q", c.v, c.typ, got, c.want)
		}
	}
}

func TestFormatValueErrors(t *testing.T) {
	cases := []struct {
		v    any
		typ  byte
		want string
	}{
		{3.5, 'I', "not a whole number"},
		{Numeric("2.5"), 'I', "not a whole number"},
		{"abc", 'I', "text \"abc\" in an I column"},
		{"abc", 'R', "text \"abc\" in an R column"},
		{struct{}{}, 'T', "struct {} value in a T column"},
		{1, 'X', "not I, R or T"},
	}
	for _, c := range cases {
		_, err := FormatValue(c.v, c.typ)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FormatValue(%#v, %c) error = %v, want one containing %q", c.v, c.typ, err, c.want)
		}
	}
}

func TestFormatRows(t *testing.T) {
	got, err := FormatRows("ITR", [][]any{{int64(1), "a", 0.5}, {nil, "", nil}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"1", "a", "0.500"}, {"NULL", "(empty)", "NULL"}}
	if strings.Join(got[0], ",")+";"+strings.Join(got[1], ",") != strings.Join(want[0], ",")+";"+strings.Join(want[1], ",") {
		t.Errorf("FormatRows = %q, want %q", got, want)
	}
	if _, err := FormatRows("II", [][]any{{int64(1)}}); err == nil || !strings.Contains(err.Error(), "row 1 has 1 columns, the query declares 2") {
		t.Errorf("FormatRows with a short row: error = %v", err)
	}
}

func TestSortValues(t *testing.T) {
	rows := [][]string{{"b", "1"}, {"a", "2"}, {"b", "0"}, {"NULL", "9"}, {"a", "10"}}
	cases := []struct {
		mode SortMode
		want string
	}{
		{NoSort, "b 1 a 2 b 0 NULL 9 a 10"},
		{RowSort, "NULL 9 a 10 a 2 b 0 b 1"},
		{ValueSort, "0 1 10 2 9 NULL a a b b"},
	}
	for _, c := range cases {
		if got := strings.Join(SortValues(c.mode, rows), " "); got != c.want {
			t.Errorf("SortValues(%s) = %q, want %q", c.mode, got, c.want)
		}
	}
	if rows[0][0] != "b" || rows[1][0] != "a" {
		t.Errorf("SortValues changed its input: %q", rows)
	}
}

func TestHashAndResultLines(t *testing.T) {
	// md5 of "1\n2\n3\n", as md5sum prints it.
	if got := HashValues([]string{"1", "2", "3"}); got != "c0710d6b4f15dfa88f600b0e6b624077" {
		t.Errorf("HashValues = %s", got)
	}
	if got := HashValues(nil); got != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Errorf("HashValues(nil) = %s, want the md5 of nothing", got)
	}
	if got := ResultLines([]string{"1", "2", "3"}, 3); strings.Join(got, ",") != "1,2,3" {
		t.Errorf("ResultLines at the threshold = %q", got)
	}
	if got := ResultLines([]string{"1", "2", "3"}, 2); len(got) != 1 || got[0] != "3 values hashing to c0710d6b4f15dfa88f600b0e6b624077" {
		t.Errorf("ResultLines over the threshold = %q", got)
	}
	if got := ResultLines([]string{"1", "2", "3"}, 0); len(got) != 3 {
		t.Errorf("ResultLines with threshold 0 = %q, want the values", got)
	}
}

func TestCheck(t *testing.T) {
	f, err := Parse("c.slt", strings.NewReader(`query IT
SELECT 1, 'a'
----
1
a

query I
SELECT 3 values
----
3 values hashing to c0710d6b4f15dfa88f600b0e6b624077
`))
	if err != nil {
		t.Fatal(err)
	}
	plain, hashed := &f.Records[0], &f.Records[1]
	if err := plain.Check([]string{"1", "a"}); err != nil {
		t.Errorf("Check(equal) = %v", err)
	}
	err = plain.Check([]string{"1", "b", "2", "c"})
	if err == nil {
		t.Fatal("Check(different) = nil")
	}
	want := "result differs:\n! row 1: want 1 | a\n!        got  1 | b\n! row 2: want (none)\n!        got  2 | c\n"
	if err.Error() != want {
		t.Errorf("Check(different) =\n%s\nwant\n%s", err, want)
	}
	if err := hashed.Check([]string{"1", "2", "3"}); err != nil {
		t.Errorf("Check(hash equal) = %v", err)
	}
	if err := hashed.Check([]string{"1", "2", "4"}); err == nil || !strings.Contains(err.Error(), "want 3 values hashing to c0710d6b") {
		t.Errorf("Check(hash different) = %v", err)
	}
}
