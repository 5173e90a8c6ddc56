package pgwire

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestTableTypesBothFormats stores a row of every column type in a managed
// table and reads it back in the simple protocol (text) and the extended
// one (binary where pgx asks for it): both must give the same values, and
// the described types must match what is sent.
func TestTableTypesBothFormats(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	ctx := context.Background()
	if _, err := results(t, conn, `CREATE TABLE a (b BOOLEAN, i1 TINYINT, i2 SMALLINT, i4 INT, i8 BIGINT, f4 REAL, f8 DOUBLE,
 dc DECIMAL(10,3), vc VARCHAR(20), ch CHAR(3), tx TEXT, by VARBINARY, d DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, js JSON);
INSERT INTO a VALUES (FALSE, -7, 300, 70000, -5000000000, 0.25, -1.125, 1234.5, 'var', 'abc', 'line1
line2', CAST('xyz' AS VARBINARY), DATE '1999-12-31', CAST('23:59:59.999999' AS TIME), TIMESTAMP '1970-01-01 00:00:00',
 CAST('2000-01-01 00:00:00.000001' AS TIMESTAMPTZ), CAST('[1, 2]' AS JSON)),
 (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT * FROM a ORDER BY i4 NULLS LAST"
	text, err := results(t, conn, q)
	if err != nil {
		t.Fatal(err)
	}
	want := `b|i1|i2|i4|i8|f4|f8|dc|vc|ch|tx|by|d|tm|ts|tz|js
f|-7|300|70000|-5000000000|0.25|-1.125|1234.500|var|abc|line1
line2|\x78797a|1999-12-31|23:59:59.999999|1970-01-01 00:00:00|2000-01-01 00:00:00.000001+00|[1, 2]
NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL
SELECT 2
`
	if text != want {
		t.Errorf("text: got\n%s\nwant\n%s", text, want)
	}
	// Extended protocol: pgx decodes each column by its described type
	// and format; a described type that did not match the values sent
	// would fail here.
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe} {
		rows, err := conn.Query(ctx, q, mode)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			var cells []string
			for _, v := range vals {
				cells = append(cells, fmt.Sprintf("%v", v))
			}
			got = append(got, strings.Join(cells, "|"))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		var oids []string
		for _, f := range rows.FieldDescriptions() {
			oids = append(oids, fmt.Sprintf("%d/%d/%d", f.DataTypeOID, f.TypeModifier, f.Format))
		}
		wantOIDs := "16/-1/1 21/-1/1 21/-1/1 23/-1/1 20/-1/1 700/-1/1 701/-1/1 1700/655367/1 1043/24/0 1042/7/0 25/-1/0 17/-1/1 1082/-1/1 1083/-1/1 1114/-1/1 1184/-1/1 114/-1/0"
		if s := strings.Join(oids, " "); s != wantOIDs {
			t.Errorf("mode %v: fields %s\nwant %s", mode, s, wantOIDs)
		}
		if len(got) != 2 || !strings.HasPrefix(got[0], "false|-7|300|70000|-5000000000|0.25|-1.125|") ||
			got[1] != strings.TrimSuffix(strings.Repeat("<nil>|", 17), "|") {
			t.Errorf("mode %v: rows\n%s", mode, strings.Join(got, "\n"))
		}
	}
}
