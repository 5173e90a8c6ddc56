package planner

// tableEntry is one row of the built-in function table.
type tableEntry struct {
	name    string
	kind    FuncKind
	aliases []string
	sigs    []string
}

func scalar(name string, aliases []string, sigs ...string) tableEntry {
	return tableEntry{name: name, kind: FuncScalar, aliases: aliases, sigs: sigs}
}

func aggregate(name string, aliases []string, sigs ...string) tableEntry {
	return tableEntry{name: name, kind: FuncAggregate, aliases: aliases, sigs: sigs}
}

func window(name string, sigs ...string) tableEntry {
	return tableEntry{name: name, kind: FuncWindow, sigs: sigs}
}

// builtinTable is the registry as data: every function, its aliases and its
// signatures, preferred first. Signature syntax: "params -> result" where a
// param is a type name (BIGINT, DOUBLE, VARCHAR, DATE, ...) or a family
// (T: unified with the other T parameters; any, numeric, integer, string,
// temporal), "..." marks a repeating last parameter, and the result is a
// type name, T, arg1 or a named rule (see resultType).
func builtinTable() []tableEntry {
	return []tableEntry{
		// Arithmetic operators.
		scalar("add", nil,
			"numeric, numeric -> arith",
			"DATE, INTERVAL -> date_interval",
			"INTERVAL, DATE -> date_interval",
			"DATE, integer -> DATE",
			"integer, DATE -> DATE",
			"TIMESTAMP, INTERVAL -> TIMESTAMP",
			"INTERVAL, TIMESTAMP -> TIMESTAMP",
			"TIMESTAMPTZ, INTERVAL -> TIMESTAMPTZ",
			"INTERVAL, TIMESTAMPTZ -> TIMESTAMPTZ",
			"TIME, INTERVAL -> TIME",
			"INTERVAL, INTERVAL -> INTERVAL"),
		scalar("sub", nil,
			"numeric, numeric -> arith",
			"DATE, INTERVAL -> date_interval",
			"DATE, integer -> DATE",
			"DATE, DATE -> INT",
			"TIMESTAMP, INTERVAL -> TIMESTAMP",
			"TIMESTAMPTZ, INTERVAL -> TIMESTAMPTZ",
			"TIMESTAMP, TIMESTAMP -> INTERVAL",
			"TIMESTAMPTZ, TIMESTAMPTZ -> INTERVAL",
			"TIME, INTERVAL -> TIME",
			"TIME, TIME -> INTERVAL",
			"INTERVAL, INTERVAL -> INTERVAL"),
		scalar("mul", nil,
			"numeric, numeric -> arith",
			"INTERVAL, numeric -> INTERVAL",
			"numeric, INTERVAL -> INTERVAL"),
		scalar("div", nil,
			"numeric, numeric -> arith",
			"INTERVAL, numeric -> INTERVAL"),
		scalar("intdiv", nil, "numeric, numeric -> arith"),
		scalar("mod", nil, "numeric, numeric -> arith"),
		scalar("neg", nil, "numeric -> arg1", "INTERVAL -> INTERVAL"),

		// Comparison and logic.
		scalar("eq", nil, "T, T -> BOOLEAN"),
		scalar("ne", nil, "T, T -> BOOLEAN"),
		scalar("lt", nil, "T, T -> BOOLEAN"),
		scalar("le", nil, "T, T -> BOOLEAN"),
		scalar("gt", nil, "T, T -> BOOLEAN"),
		scalar("ge", nil, "T, T -> BOOLEAN"),
		scalar("is_distinct_from", nil, "T, T -> BOOLEAN"),
		scalar("is_not_distinct_from", nil, "T, T -> BOOLEAN"),
		scalar("and", nil, "BOOLEAN, BOOLEAN -> BOOLEAN"),
		scalar("or", nil, "BOOLEAN, BOOLEAN -> BOOLEAN"),
		scalar("not", nil, "BOOLEAN -> BOOLEAN"),
		scalar("is_null", nil, "any -> BOOLEAN"),
		scalar("is_not_null", nil, "any -> BOOLEAN"),
		scalar("is_true", nil, "BOOLEAN -> BOOLEAN"),
		scalar("is_not_true", nil, "BOOLEAN -> BOOLEAN"),
		scalar("is_false", nil, "BOOLEAN -> BOOLEAN"),
		scalar("is_not_false", nil, "BOOLEAN -> BOOLEAN"),
		scalar("in_list", nil, "T, T... -> BOOLEAN"),

		// Pattern matching. The optional third argument is the escape character.
		scalar("like", nil, "string, string -> BOOLEAN", "string, string, string -> BOOLEAN"),
		scalar("not_like", nil, "string, string -> BOOLEAN", "string, string, string -> BOOLEAN"),
		scalar("ilike", nil, "string, string -> BOOLEAN", "string, string, string -> BOOLEAN"),
		scalar("not_ilike", nil, "string, string -> BOOLEAN", "string, string, string -> BOOLEAN"),
		scalar("regexp", nil, "string, string -> BOOLEAN"),
		scalar("not_regexp", nil, "string, string -> BOOLEAN"),
		scalar("regexp_i", []string{"__etl_regexp_i"}, "string, string -> BOOLEAN"),
		scalar("regexp_like", nil, "string, string -> BOOLEAN", "string, string, string -> BOOLEAN"),
		scalar("regexp_replace", nil, "string, string, string -> VARCHAR", "string, string, string, string -> VARCHAR"),
		scalar("regexp_extract", []string{"regexp_substr"}, "string, string -> VARCHAR", "string, string, integer -> VARCHAR"),

		// Strings.
		scalar("concat", nil, "any... -> VARCHAR"),
		scalar("concat_strict", nil, "any... -> VARCHAR"),
		scalar("concat_ws", nil, "string, any... -> VARCHAR"),
		scalar("lower", []string{"lcase"}, "string -> VARCHAR"),
		scalar("upper", []string{"ucase"}, "string -> VARCHAR"),
		scalar("length", []string{"char_length", "character_length", "len"}, "string -> BIGINT", "VARBINARY -> BIGINT"),
		scalar("octet_length", nil, "string -> BIGINT", "VARBINARY -> BIGINT"),
		scalar("trim", []string{"btrim"}, "string -> VARCHAR", "string, string -> VARCHAR"),
		scalar("ltrim", nil, "string -> VARCHAR", "string, string -> VARCHAR"),
		scalar("rtrim", nil, "string -> VARCHAR", "string, string -> VARCHAR"),
		scalar("replace", nil, "string, string, string -> VARCHAR"),
		scalar("lpad", nil, "string, BIGINT -> VARCHAR", "string, BIGINT, string -> VARCHAR"),
		scalar("rpad", nil, "string, BIGINT -> VARCHAR", "string, BIGINT, string -> VARCHAR"),
		scalar("left", nil, "string, BIGINT -> VARCHAR"),
		scalar("right", nil, "string, BIGINT -> VARCHAR"),
		scalar("substring", []string{"substr"}, "string, BIGINT -> VARCHAR", "string, BIGINT, BIGINT -> VARCHAR"),
		scalar("position", nil, "string, string -> BIGINT"),
		scalar("split_part", nil, "string, string, BIGINT -> VARCHAR"),
		scalar("starts_with", nil, "string, string -> BOOLEAN"),
		scalar("ends_with", nil, "string, string -> BOOLEAN"),
		scalar("contains", nil, "string, string -> BOOLEAN"),
		scalar("reverse", nil, "string -> VARCHAR"),
		scalar("repeat", nil, "string, BIGINT -> VARCHAR"),
		scalar("initcap", nil, "string -> VARCHAR"),
		scalar("ascii", nil, "string -> INT"),
		scalar("chr", []string{"char"}, "BIGINT -> VARCHAR"),

		// Hashes.
		scalar("md5", nil, "string -> VARCHAR", "VARBINARY -> VARCHAR"),
		scalar("sha1", nil, "string -> VARCHAR", "VARBINARY -> VARCHAR"),
		scalar("sha2", nil, "string, BIGINT -> VARCHAR", "VARBINARY, BIGINT -> VARCHAR"),
		scalar("sha256", nil, "string -> VARCHAR", "VARBINARY -> VARCHAR"),
		scalar("hash", nil, "any... -> BIGINT"),

		// Numbers.
		scalar("abs", nil, "numeric -> arg1"),
		scalar("round", nil, "numeric -> round", "numeric, BIGINT -> round"),
		scalar("floor", nil, "numeric -> floor"),
		scalar("ceil", []string{"ceiling"}, "numeric -> floor"),
		scalar("trunc", []string{"truncate"}, "numeric -> floor", "numeric, BIGINT -> round"),
		scalar("power", []string{"pow"}, "DOUBLE, DOUBLE -> DOUBLE"),
		scalar("sqrt", nil, "DOUBLE -> DOUBLE"),
		scalar("cbrt", nil, "DOUBLE -> DOUBLE"),
		scalar("ln", nil, "DOUBLE -> DOUBLE"),
		scalar("log", nil, "DOUBLE -> DOUBLE", "DOUBLE, DOUBLE -> DOUBLE"),
		scalar("log10", nil, "DOUBLE -> DOUBLE"),
		scalar("log2", nil, "DOUBLE -> DOUBLE"),
		scalar("exp", nil, "DOUBLE -> DOUBLE"),
		scalar("sign", nil, "numeric -> INT"),
		scalar("pi", nil, " -> DOUBLE"),
		scalar("random", []string{"rand"}, " -> DOUBLE"),

		// Dates and times.
		scalar("date_trunc", nil, "VARCHAR, TIMESTAMP -> TIMESTAMP", "VARCHAR, TIMESTAMPTZ -> TIMESTAMPTZ"),
		scalar("extract", []string{"date_part"}, "VARCHAR, temporal -> BIGINT"),
		scalar("date_add", []string{"adddate"}, "DATE, BIGINT -> DATE", "TIMESTAMP, INTERVAL -> TIMESTAMP", "TIMESTAMPTZ, INTERVAL -> TIMESTAMPTZ"),
		scalar("date_sub", []string{"subdate"}, "DATE, BIGINT -> DATE", "TIMESTAMP, INTERVAL -> TIMESTAMP", "TIMESTAMPTZ, INTERVAL -> TIMESTAMPTZ"),
		scalar("datediff", []string{"date_diff"}, "DATE, DATE -> INT", "TIMESTAMP, TIMESTAMP -> INT", "TIMESTAMPTZ, TIMESTAMPTZ -> INT", "VARCHAR, TIMESTAMP, TIMESTAMP -> BIGINT"),
		scalar("to_date", nil, "string -> DATE", "string, string -> DATE"),
		scalar("to_timestamp", nil, "string -> TIMESTAMP", "string, string -> TIMESTAMP", "DOUBLE -> TIMESTAMPTZ"),
		scalar("make_date", nil, "BIGINT, BIGINT, BIGINT -> DATE"),
		scalar("year", nil, "temporal -> BIGINT"),
		scalar("quarter", nil, "temporal -> BIGINT"),
		scalar("month", nil, "temporal -> BIGINT"),
		scalar("week", nil, "temporal -> BIGINT"),
		scalar("day", []string{"dayofmonth"}, "temporal -> BIGINT"),
		scalar("dayofweek", nil, "temporal -> BIGINT"),
		scalar("dayofyear", nil, "temporal -> BIGINT"),
		scalar("hour", nil, "temporal -> BIGINT"),
		scalar("minute", nil, "temporal -> BIGINT"),
		scalar("second", nil, "temporal -> BIGINT"),
		scalar("current_date", []string{"curdate"}, " -> DATE"),
		scalar("current_timestamp", []string{"now", "localtimestamp"}, " -> TIMESTAMPTZ"),

		// Conditionals.
		scalar("coalesce", nil, "T, T... -> T"),
		scalar("nullif", nil, "T, T -> T"),
		scalar("greatest", nil, "T, T... -> T"),
		scalar("least", nil, "T, T... -> T"),
		scalar("if", []string{"iff"}, "BOOLEAN, T, T -> T"),
		scalar("ifnull", []string{"nvl"}, "T, T -> T"),

		// JSON.
		scalar("json_extract", nil, "string, VARCHAR -> JSON"),
		scalar("json_value", []string{"json_extract_string"}, "string, VARCHAR -> VARCHAR"),

		// Aggregates. count() with no argument is count(*).
		aggregate("count", nil, " -> BIGINT", "any -> BIGINT"),
		aggregate("sum", nil, "numeric -> sum", "INTERVAL -> sum"),
		aggregate("avg", []string{"mean"}, "numeric -> avg", "INTERVAL -> avg"),
		aggregate("min", nil, "any -> arg1"),
		aggregate("max", nil, "any -> arg1"),
		aggregate("stddev", []string{"stddev_samp", "std"}, "DOUBLE -> DOUBLE"),
		aggregate("stddev_pop", nil, "DOUBLE -> DOUBLE"),
		aggregate("variance", []string{"var_samp"}, "DOUBLE -> DOUBLE"),
		aggregate("var_pop", nil, "DOUBLE -> DOUBLE"),
		aggregate("bool_and", []string{"every"}, "BOOLEAN -> BOOLEAN"),
		aggregate("bool_or", nil, "BOOLEAN -> BOOLEAN"),
		aggregate("string_agg", []string{"listagg"}, "string, string -> VARCHAR"),
		aggregate("group_concat", nil, "any -> VARCHAR", "any, string -> VARCHAR"),
		aggregate("approx_count_distinct", nil, "any -> BIGINT"),
		aggregate("array_agg", nil, "any -> array1"),
		aggregate("first", []string{"any_value"}, "any -> arg1"),
		aggregate("last", nil, "any -> arg1"),

		// Bitwise operators on integers: a & b, a | b.
		scalar("bitand", nil, "SMALLINT, SMALLINT -> SMALLINT", "INT, INT -> INT", "BIGINT, BIGINT -> BIGINT"),
		scalar("bitor", nil, "SMALLINT, SMALLINT -> SMALLINT", "INT, INT -> INT", "BIGINT, BIGINT -> BIGINT"),

		// Array functions: the binder checks their array arguments and
		// gives their result types (see bind_array.go).
		scalar("__etl_array", nil, " -> arg1", "any... -> arg1"),
		scalar("__etl_array_elem", nil, "any, integer -> arg1"),
		scalar("__etl_any_eq", nil, "any, any -> BOOLEAN"),
		scalar("array_length", nil, "any, integer -> INT"),
		scalar("array_upper", nil, "any, integer -> INT"),
		scalar("array_lower", nil, "any, integer -> INT"),
		scalar("cardinality", nil, "any -> INT"),
		scalar("array_cat", nil, "any, any -> arg1"),
		scalar("array_append", nil, "any, any -> arg1"),
		scalar("array_prepend", nil, "any, any -> arg1"),
		scalar("array_position", nil, "any, any -> INT"),
		scalar("array_to_string", nil, "any, string -> VARCHAR", "any, string, string -> VARCHAR"),

		// Window-only functions.
		window("row_number", " -> BIGINT"),
		window("rank", " -> BIGINT"),
		window("dense_rank", " -> BIGINT"),
		window("percent_rank", " -> DOUBLE"),
		window("cume_dist", " -> DOUBLE"),
		window("ntile", "BIGINT -> BIGINT"),
		window("lag", "any -> arg1", "any, BIGINT -> arg1", "T, BIGINT, T -> T"),
		window("lead", "any -> arg1", "any, BIGINT -> arg1", "T, BIGINT, T -> T"),
		window("first_value", "any -> arg1"),
		window("last_value", "any -> arg1"),
		window("nth_value", "any, BIGINT -> arg1"),
	}
}
