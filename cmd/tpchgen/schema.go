package main

import "github.com/apache/arrow/go/v15/arrow"

// colKind is the SQL type of one TPC-H column as etlc loads it.
type colKind int

const (
	kindBigint  colKind = iota // BIGINT: keys
	kindInt                    // INT: p_size, ps_availqty, o_shippriority, l_linenumber
	kindDecimal                // DECIMAL(15,2): l_quantity and money
	kindDate                   // DATE
	kindText                   // VARCHAR
)

// decimalType is the Arrow type of every DECIMAL(15,2) column.
var decimalType = &arrow.Decimal128Type{Precision: 15, Scale: 2}

// arrowType returns the Arrow type that a column of kind k is written as.
func (k colKind) arrowType() arrow.DataType {
	switch k {
	case kindBigint:
		return arrow.PrimitiveTypes.Int64
	case kindInt:
		return arrow.PrimitiveTypes.Int32
	case kindDecimal:
		return decimalType
	case kindDate:
		return arrow.FixedWidthTypes.Date32
	default:
		return arrow.BinaryTypes.String
	}
}

// column is one column of a TPC-H table.
type column struct {
	name string
	kind colKind
}

// tableSpec describes one TPC-H table: its name (also the .tbl file's base
// name) and its columns in dbgen's field order.
type tableSpec struct {
	name string
	cols []column
}

// schema returns the Arrow schema of t; every column is NOT NULL.
func (t tableSpec) schema() *arrow.Schema {
	fields := make([]arrow.Field, len(t.cols))
	for i, c := range t.cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.kind.arrowType(), Nullable: false}
	}
	return arrow.NewSchema(fields, nil)
}

// tpchTables returns the eight TPC-H tables in the order they are converted.
func tpchTables() []tableSpec {
	b, i, d, dt, t := kindBigint, kindInt, kindDecimal, kindDate, kindText
	return []tableSpec{
		{"region", []column{{"r_regionkey", b}, {"r_name", t}, {"r_comment", t}}},
		{"nation", []column{{"n_nationkey", b}, {"n_name", t}, {"n_regionkey", b}, {"n_comment", t}}},
		{"supplier", []column{{"s_suppkey", b}, {"s_name", t}, {"s_address", t}, {"s_nationkey", b},
			{"s_phone", t}, {"s_acctbal", d}, {"s_comment", t}}},
		{"customer", []column{{"c_custkey", b}, {"c_name", t}, {"c_address", t}, {"c_nationkey", b},
			{"c_phone", t}, {"c_acctbal", d}, {"c_mktsegment", t}, {"c_comment", t}}},
		{"part", []column{{"p_partkey", b}, {"p_name", t}, {"p_mfgr", t}, {"p_brand", t}, {"p_type", t},
			{"p_size", i}, {"p_container", t}, {"p_retailprice", d}, {"p_comment", t}}},
		{"partsupp", []column{{"ps_partkey", b}, {"ps_suppkey", b}, {"ps_availqty", i},
			{"ps_supplycost", d}, {"ps_comment", t}}},
		{"orders", []column{{"o_orderkey", b}, {"o_custkey", b}, {"o_orderstatus", t},
			{"o_totalprice", d}, {"o_orderdate", dt}, {"o_orderpriority", t}, {"o_clerk", t},
			{"o_shippriority", i}, {"o_comment", t}}},
		{"lineitem", []column{{"l_orderkey", b}, {"l_partkey", b}, {"l_suppkey", b}, {"l_linenumber", i},
			{"l_quantity", d}, {"l_extendedprice", d}, {"l_discount", d}, {"l_tax", d},
			{"l_returnflag", t}, {"l_linestatus", t}, {"l_shipdate", dt}, {"l_commitdate", dt},
			{"l_receiptdate", dt}, {"l_shipinstruct", t}, {"l_shipmode", t}, {"l_comment", t}}},
	}
}
