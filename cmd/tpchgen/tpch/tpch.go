// Package tpch declares the eight TPC-H tables as cmd/tpchgen writes them
// to Parquet, for the programs and tests that read those files (the TPC-H
// answers test, bench/cmd/tpchbench, bench/cmd/tpchcpu).
package tpch

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Table is one TPC-H table: its name and its column list as SQL (what
// follows the name in CREATE SOURCE name (...)).
type Table struct {
	Name    string
	Columns string
}

// Tables returns the eight tables, smallest first: keys BIGINT; p_size,
// ps_availqty, o_shippriority, l_linenumber INT; quantities and money
// DECIMAL(15,2); dates DATE; text VARCHAR.
func Tables() []Table {
	return []Table{
		{"region", "r_regionkey BIGINT NOT NULL, r_name VARCHAR NOT NULL, r_comment VARCHAR NOT NULL"},
		{"nation", "n_nationkey BIGINT NOT NULL, n_name VARCHAR NOT NULL, n_regionkey BIGINT NOT NULL, n_comment VARCHAR NOT NULL"},
		{"supplier", "s_suppkey BIGINT NOT NULL, s_name VARCHAR NOT NULL, s_address VARCHAR NOT NULL, s_nationkey BIGINT NOT NULL, " +
			"s_phone VARCHAR NOT NULL, s_acctbal DECIMAL(15,2) NOT NULL, s_comment VARCHAR NOT NULL"},
		{"customer", "c_custkey BIGINT NOT NULL, c_name VARCHAR NOT NULL, c_address VARCHAR NOT NULL, c_nationkey BIGINT NOT NULL, " +
			"c_phone VARCHAR NOT NULL, c_acctbal DECIMAL(15,2) NOT NULL, c_mktsegment VARCHAR NOT NULL, c_comment VARCHAR NOT NULL"},
		{"part", "p_partkey BIGINT NOT NULL, p_name VARCHAR NOT NULL, p_mfgr VARCHAR NOT NULL, p_brand VARCHAR NOT NULL, " +
			"p_type VARCHAR NOT NULL, p_size INT NOT NULL, p_container VARCHAR NOT NULL, p_retailprice DECIMAL(15,2) NOT NULL, " +
			"p_comment VARCHAR NOT NULL"},
		{"partsupp", "ps_partkey BIGINT NOT NULL, ps_suppkey BIGINT NOT NULL, ps_availqty INT NOT NULL, " +
			"ps_supplycost DECIMAL(15,2) NOT NULL, ps_comment VARCHAR NOT NULL"},
		{"orders", "o_orderkey BIGINT NOT NULL, o_custkey BIGINT NOT NULL, o_orderstatus VARCHAR NOT NULL, " +
			"o_totalprice DECIMAL(15,2) NOT NULL, o_orderdate DATE NOT NULL, o_orderpriority VARCHAR NOT NULL, " +
			"o_clerk VARCHAR NOT NULL, o_shippriority INT NOT NULL, o_comment VARCHAR NOT NULL"},
		{"lineitem", "l_orderkey BIGINT NOT NULL, l_partkey BIGINT NOT NULL, l_suppkey BIGINT NOT NULL, l_linenumber INT NOT NULL, " +
			"l_quantity DECIMAL(15,2) NOT NULL, l_extendedprice DECIMAL(15,2) NOT NULL, l_discount DECIMAL(15,2) NOT NULL, " +
			"l_tax DECIMAL(15,2) NOT NULL, l_returnflag VARCHAR NOT NULL, l_linestatus VARCHAR NOT NULL, " +
			"l_shipdate DATE NOT NULL, l_commitdate DATE NOT NULL, l_receiptdate DATE NOT NULL, " +
			"l_shipinstruct VARCHAR NOT NULL, l_shipmode VARCHAR NOT NULL, l_comment VARCHAR NOT NULL"},
	}
}

// SourcesDDL returns the script that declares the eight tables as Parquet
// file sources, each reading the directory dir/<table>/ (cmd/tpchgen's
// parquet directory).
func SourcesDDL(dir string) string {
	var ddl strings.Builder
	for _, tb := range Tables() {
		fmt.Fprintf(&ddl, "CREATE SOURCE %s (%s) WITH (connector = 'file', path = '%s', format = 'parquet');\n",
			tb.Name, tb.Columns, filepath.Join(dir, tb.Name)+string(filepath.Separator))
	}
	return ddl.String()
}
