package session

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/etlc/etlc/parser"
)

func TestDescribe(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, "CREATE TABLE t (id BIGINT, amount DECIMAL(12,2), name VARCHAR);")
	src := parser.NewSource("q.sql", `SELECT id, amount * 2 AS twice, name FROM t WHERE id = $1 AND name LIKE $2;
INSERT INTO t SELECT $1::BIGINT, $2::DECIMAL(12,2), 'x';
SHOW timezone;
EXPLAIN SELECT 1;
SET datestyle = 'ISO';`)
	ds, diags := s.Describe(context.Background(), src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var got []string
	for _, d := range ds {
		var cols, params []string
		for _, c := range d.Columns {
			cols = append(cols, c.Name+" "+c.Type.String())
		}
		for _, p := range d.ParamTypes {
			params = append(params, p.String())
		}
		got = append(got, fmt.Sprintf("%s params=(%s) cols=(%s) rows=%v", d.Kind,
			strings.Join(params, ","), strings.Join(cols, ","), d.Columns != nil))
	}
	want := []string{
		"SELECT params=(BIGINT,VARCHAR) cols=(id BIGINT,twice DECIMAL(14,2),name VARCHAR) rows=true",
		"INSERT params=(BIGINT,DECIMAL(12,2)) cols=() rows=false",
		"SHOW params=() cols=(timezone VARCHAR) rows=true",
		"EXPLAIN params=() cols=(QUERY PLAN VARCHAR) rows=true",
		"SET params=() cols=() rows=false",
	}
	equalLines(t, "descriptions", got, want)
	// Describe changes nothing: the table is still empty, the setting as before.
	if v, _ := s.Setting("datestyle"); v != "ISO, MDY" {
		t.Errorf("datestyle = %q after Describe", v)
	}
	if r := rows(t, s, "SELECT COUNT(*) FROM t;"); r[0] != "0" {
		t.Errorf("t has %s rows after Describe", r[0])
	}
}

func TestExecParams(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, "CREATE TABLE t (id BIGINT, amount DECIMAL(12,2), day DATE);")
	run, err := s.Exec(context.Background(), parser.NewSource("p.sql", "INSERT INTO t VALUES ($1::BIGINT, $2::DECIMAL(12,2), $3::DATE);"),
		ExecOptions{Params: []any{int64(7), "12.50", "2024-03-01"}})
	if err != nil {
		t.Fatal(err)
	}
	run.Release()
	run, err = s.Exec(context.Background(), parser.NewSource("q.sql", "SELECT id, amount, day FROM t WHERE id = $1 AND amount > $2;"),
		ExecOptions{Params: []any{"7", "0.25"}})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Release()
	var got []string
	for _, rec := range run.Statements[0].Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			var cells []string
			for _, c := range rec.Columns() {
				v, _ := FormatValue(c, i)
				cells = append(cells, v)
			}
			got = append(got, strings.Join(cells, "|"))
		}
	}
	equalLines(t, "rows", got, []string{"7|12.50|2024-03-01"})
	// A missing parameter is an error with its SQLSTATE.
	_, err = s.Exec(context.Background(), parser.NewSource("q.sql", "SELECT $1 + 1;"), ExecOptions{})
	if se := stmtErr(t, err); se.Code != "22023" {
		t.Errorf("missing parameter: code %s (%v)", se.Code, err)
	}
}

func TestDescribeParamTypesFromContext(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, "CREATE TABLE t (id INT, amount DECIMAL(12,2), name VARCHAR, day DATE, f REAL);")
	for q, want := range map[string]string{
		"INSERT INTO t VALUES ($1, $2, $3, $4, $5)":                                "INT,DECIMAL(12,2),VARCHAR,DATE,REAL",
		"INSERT INTO t (name, id) VALUES ($1, $2), ($3, 7)":                        "VARCHAR,INT,VARCHAR",
		"SELECT amount + $1, id - $2, f * $3, $4 / amount FROM t":                  "DECIMAL(12,2),INT,REAL,DECIMAL(12,2)",
		"SELECT 1 FROM t WHERE id = $1 AND amount = $2 AND day > $3 AND $4 = name": "INT,DECIMAL(12,2),DATE,VARCHAR",
		"SELECT $1 + 1, $2 + $3":                                                   "BIGINT,BIGINT,BIGINT",
		"SELECT id FROM t WHERE id IN ($1, $2) AND amount BETWEEN $3 AND $4":       "INT,INT,DECIMAL(12,2),DECIMAL(12,2)",
		"SELECT $1": "VARCHAR",
		"SELECT id FROM t WHERE amount * $1 > 10 AND id = $2::BIGINT": "DECIMAL(12,2),BIGINT",
	} {
		ds, diags := s.Describe(context.Background(), parser.NewSource("q.sql", q))
		if diags.HasErrors() {
			t.Errorf("%s: %v", q, diags)
			continue
		}
		var got []string
		for _, p := range ds[0].ParamTypes {
			got = append(got, p.String())
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: params %s, want %s", q, strings.Join(got, ","), want)
		}
	}
}
