package session

import (
	"reflect"
	"testing"
)

func TestEmptyCatalogQuery(t *testing.T) {
	for _, tc := range []struct {
		q    string
		cols []string // nil: not an always-empty query
	}{
		{`SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '16385' ORDER BY 1;`,
			[]string{"polname", "polpermissive", "case", "pg_get_expr", "pg_get_expr", "cmd"}},
		{`SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,
  'd' = any(stxkind) AS ndist_enabled
FROM pg_catalog.pg_statistic_ext WHERE stxrelid = '16385' ORDER BY nsp, stxname;`,
			[]string{"oid", "?column?", "nsp", "stxname", "ndist_enabled"}},
		{`SELECT pubname, NULL, NULL FROM pg_catalog.pg_publication p
  JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
  JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid = '16385'
UNION
SELECT pubname, pg_get_expr(pr.prqual, c.oid), (SELECT string_agg(attname, ', ') FROM pg_catalog.generate_series(0, 3) s, pg_catalog.pg_attribute WHERE attnum = prattrs[s])
FROM pg_catalog.pg_publication p JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
UNION
SELECT pubname, NULL, NULL FROM pg_catalog.pg_publication p WHERE p.puballtables
ORDER BY 1;`,
			[]string{"pubname", "?column?", "?column?"}},
		// Not always empty: an aggregate makes a row of none, another
		// relation may have rows, a right join keeps the other side.
		{`SELECT count(*) FROM pg_catalog.pg_policy`, nil},
		{`SELECT relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_policy p ON p.polrelid = c.oid`, nil},
		{`SELECT relname FROM pg_catalog.pg_policy p RIGHT JOIN pg_catalog.pg_class c ON p.polrelid = c.oid`, nil},
		{`SELECT polname FROM pg_policy GROUP BY polname`, nil},
		{`SELECT 1 FROM pg_policy; SELECT 2`, nil},
		{`INSERT INTO t SELECT * FROM pg_policy`, nil},
		{`SELECT pubname FROM pg_publication UNION SELECT relname FROM pg_class`, nil},
	} {
		cols, ok := emptyCatalogQuery(tc.q)
		if ok != (tc.cols != nil) || !reflect.DeepEqual(cols, tc.cols) {
			t.Errorf("emptyCatalogQuery(%.60q) = %q, %v; want %q", tc.q, cols, ok, tc.cols)
		}
	}
	if got, want := emptyQueryText([]string{"a", `b"c`}), `SELECT CAST(NULL AS VARCHAR) AS "a", CAST(NULL AS VARCHAR) AS "b""c" WHERE FALSE`; got != want {
		t.Errorf("emptyQueryText = %s, want %s", got, want)
	}
}
