package pgwire

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// allTypesQuery returns one row with a value of every type etlc has.
const allTypesQuery = `SELECT TRUE AS b, CAST(1 AS SMALLINT) AS i2, CAST(-2 AS INT) AS i4, CAST(3000000000 AS BIGINT) AS i8,
 CAST(1.5 AS REAL) AS f4, CAST(2.25 AS DOUBLE) AS f8, CAST('-12.50' AS DECIMAL(12,2)) AS dc, CAST('123456789.000001' AS DECIMAL(20,6)) AS dc2,
 'héllo' AS txt, '' AS empty, CAST('ab' AS BYTEA) AS bt, DATE '2024-03-01' AS d, CAST('10:11:12.5' AS TIME) AS tm,
 TIMESTAMP '2024-03-01 10:11:12.5' AS ts, CAST('2024-03-01 10:11:12' AS TIMESTAMPTZ) AS tstz,
 INTERVAL '1 year 2 months 3 days 04:05:06' AS iv, CAST(NULL AS VARCHAR) AS n`

func TestTypesText(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	rs, err := conn.PgConn().Exec(context.Background(), allTypesQuery).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, f := range rs[0].FieldDescriptions {
		v := "NULL"
		if raw := rs[0].Rows[0][i]; raw != nil {
			v = string(raw)
		}
		got = append(got, f.Name+" "+itoa(int64(f.DataTypeOID))+" "+itoa(int64(f.TypeModifier))+" "+v)
	}
	want := []string{
		"b 16 -1 t", "i2 21 -1 1", "i4 23 -1 -2", "i8 20 -1 3000000000", "f4 700 -1 1.5", "f8 701 -1 2.25",
		"dc 1700 786438 -12.50", "dc2 1700 1310730 123456789.000001", "txt 25 -1 héllo", "empty 25 -1 ",
		`bt 17 -1 \x6162`, "d 1082 -1 2024-03-01", "tm 1083 -1 10:11:12.5", "ts 1114 -1 2024-03-01 10:11:12.5",
		"tstz 1184 -1 2024-03-01 10:11:12+00", "iv 1186 -1 1 year 2 mons 3 days 04:05:06", "n 25 -1 NULL",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tag := rs[0].CommandTag.String(); tag != "SELECT 1" {
		t.Errorf("tag %q", tag)
	}
}

func itoa(n int64) string { return big.NewInt(n).String() }

// TestTypesBinary reads every type in binary format through the extended
// protocol and decodes it with pgx's own codecs.
func TestTypesBinary(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	var (
		b        bool
		i2       int16
		i4       int32
		i8       int64
		f4       float32
		f8       float64
		dc, dc2  pgtype.Numeric
		txt, emp string
		bt       []byte
		d        time.Time
		tm       pgtype.Time
		tsv      time.Time
		tstz     time.Time
		iv       pgtype.Interval
		n        *string
	)
	rows, err := conn.Query(context.Background(), allTypesQuery)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range rows.FieldDescriptions() {
		if f.Format != 1 && f.DataTypeOID != 25 && f.DataTypeOID != 705 {
			t.Errorf("column %d (%s) is not in binary format", i, f.Name)
		}
	}
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if err := rows.Scan(&b, &i2, &i4, &i8, &f4, &f8, &dc, &dc2, &txt, &emp, &bt, &d, &tm, &tsv, &tstz, &iv, &n); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("b", b, true)
	check("i2", i2, int16(1))
	check("i4", i4, int32(-2))
	check("i8", i8, int64(3000000000))
	check("f4", f4, float32(1.5))
	check("f8", f8, 2.25)
	check("dc", dc.Int.String()+"e"+itoa(int64(dc.Exp)), "-1250e-2")
	check("dc2", dc2.Int.String()+"e"+itoa(int64(dc2.Exp)), "123456789000001e-6")
	check("txt", txt, "héllo")
	check("empty", emp, "")
	check("bt", string(bt), "ab")
	check("d", d.Format("2006-01-02"), "2024-03-01")
	check("tm", tm.Microseconds, int64(36672500000))
	check("ts", tsv.UTC().Format(time.RFC3339Nano), "2024-03-01T10:11:12.5Z")
	check("tstz", tstz.UTC().Format(time.RFC3339Nano), "2024-03-01T10:11:12Z")
	check("iv", iv, pgtype.Interval{Months: 14, Days: 3, Microseconds: 14706000000, Valid: true})
	check("n", n, (*string)(nil))
}

// TestNumericBinaryRoundTrip checks the numeric encoder and decoder on
// values around the base-10000 digit boundaries.
func TestNumericBinaryRoundTrip(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	for _, v := range []string{"0", "0.00", "1", "-1", "10000", "9999.9999", "0.0001", "-0.00010", "123456789012345678.123456", "100000000", "0.5"} {
		scale := 0
		if i := strings.IndexByte(v, '.'); i >= 0 {
			scale = len(v) - i - 1
		}
		// Binary out: pgx decodes the numeric; text back for comparison.
		var got pgtype.Numeric
		q := "SELECT CAST('" + v + "' AS DECIMAL(38," + itoa(int64(scale)) + "))"
		if err := conn.QueryRow(context.Background(), q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		var text string
		if err := conn.QueryRow(context.Background(), q, pgx.QueryExecModeSimpleProtocol).Scan(&text); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if s := numericString(got, scale); s != v {
			t.Errorf("%s: binary decodes to %s (%s e%d)", v, s, got.Int, got.Exp)
		}
		if text != v {
			t.Errorf("%s: text %q", v, text)
		}
		// Binary in: the same value as a binary parameter.
		var back string
		if err := conn.QueryRow(context.Background(), "SELECT CAST(CAST($1 AS DECIMAL(38,"+itoa(int64(scale))+")) AS VARCHAR)", got).Scan(&back); err != nil {
			t.Fatalf("%s as a parameter: %v", v, err)
		}
		if back != v && !(strings.HasPrefix(v, "-0") && back == v[1:]) {
			t.Errorf("%s: as a parameter it reads back %q", v, back)
		}
	}
}

// numericString renders a pgtype.Numeric with scale digits after the point.
func numericString(n pgtype.Numeric, scale int) string {
	v := new(big.Int).Set(n.Int)
	exp := int(n.Exp)
	for ; exp > 0; exp-- {
		v.Mul(v, big.NewInt(10))
	}
	for ; exp < -scale; exp++ {
		v.Quo(v, big.NewInt(10))
	}
	for ; exp > -scale; exp-- {
		v.Mul(v, big.NewInt(10))
	}
	neg := v.Sign() < 0
	digits := new(big.Int).Abs(v).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits
}
