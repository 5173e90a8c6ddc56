package parser

import (
	"strconv"
	"strings"
)

// String returns the canonical type text, arguments included, e.g.
// "DECIMAL(12,2)", "VARCHAR", "TIMESTAMPTZ" or "INT[]". It is the text the
// lowering puts in __etl_cast(x, 'T').
func (t TypeName) String() string {
	base, arr := t.Name, ""
	if i := strings.IndexByte(base, '['); i >= 0 {
		base, arr = base[:i], base[i:]
	}
	if len(t.Args) == 0 {
		return base + arr
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteByte('(')
	for i, a := range t.Args {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(a))
	}
	b.WriteByte(')')
	b.WriteString(arr)
	return b.String()
}

// typeAliases folds PostgreSQL, MySQL and Spark spellings to the names the
// catalog knows. Keys are upper-case words joined by one space.
var typeAliases = map[string]string{
	"INTEGER":                     "INT",
	"INT4":                        "INT",
	"INT":                         "INT",
	"MEDIUMINT":                   "INT",
	"INT8":                        "BIGINT",
	"BIGINT":                      "BIGINT",
	"LONG":                        "BIGINT",
	"SIGNED":                      "BIGINT",
	"SIGNED INTEGER":              "BIGINT",
	"INT2":                        "SMALLINT",
	"SMALLINT":                    "SMALLINT",
	"SHORT":                       "SMALLINT",
	"INT1":                        "TINYINT",
	"TINYINT":                     "TINYINT",
	"BYTE":                        "TINYINT",
	"FLOAT8":                      "DOUBLE",
	"DOUBLE":                      "DOUBLE",
	"DOUBLE PRECISION":            "DOUBLE",
	"FLOAT4":                      "REAL",
	"REAL":                        "REAL",
	"NUMERIC":                     "DECIMAL",
	"DECIMAL":                     "DECIMAL",
	"DEC":                         "DECIMAL",
	"FIXED":                       "DECIMAL",
	"TEXT":                        "VARCHAR",
	"STRING":                      "VARCHAR",
	"VARCHAR":                     "VARCHAR",
	"CHARACTER VARYING":           "VARCHAR",
	"CHAR VARYING":                "VARCHAR",
	"NVARCHAR":                    "VARCHAR",
	"NATIONAL CHARACTER VARYING":  "VARCHAR",
	"NATIONAL CHAR VARYING":       "VARCHAR",
	"TINYTEXT":                    "VARCHAR",
	"MEDIUMTEXT":                  "VARCHAR",
	"LONGTEXT":                    "VARCHAR",
	"CLOB":                        "VARCHAR",
	"NAME":                        "VARCHAR",
	"CHARACTER":                   "CHAR",
	"CHAR":                        "CHAR",
	"NCHAR":                       "CHAR",
	"NATIONAL CHARACTER":          "CHAR",
	"NATIONAL CHAR":               "CHAR",
	"BOOL":                        "BOOLEAN",
	"BOOLEAN":                     "BOOLEAN",
	"TIMESTAMP WITH TIME ZONE":    "TIMESTAMPTZ",
	"TIMESTAMPTZ":                 "TIMESTAMPTZ",
	"TIMESTAMP_LTZ":               "TIMESTAMPTZ",
	"TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
	"TIMESTAMP_NTZ":               "TIMESTAMP",
	"TIMESTAMP":                   "TIMESTAMP",
	"DATETIME":                    "TIMESTAMP",
	"TIME WITHOUT TIME ZONE":      "TIME",
	"TIME WITH TIME ZONE":         "TIMETZ",
	"TIME":                        "TIME",
	"DATE":                        "DATE",
	"BYTEA":                       "VARBINARY",
	"VARBINARY":                   "VARBINARY",
	"BINARY":                      "VARBINARY",
	"BINARY VARYING":              "VARBINARY",
	"BLOB":                        "VARBINARY",
	"TINYBLOB":                    "VARBINARY",
	"MEDIUMBLOB":                  "VARBINARY",
	"LONGBLOB":                    "VARBINARY",
	"JSONB":                       "JSON",
	"JSON":                        "JSON",
	"INTERVAL":                    "INTERVAL",
}

// typeContinuations lists, for a type word, the words that may follow it
// as part of a multi-word type name.
var typeContinuations = map[string][]string{
	"DOUBLE":    {"PRECISION"},
	"CHARACTER": {"VARYING"},
	"CHAR":      {"VARYING"},
	"NATIONAL":  {"CHARACTER", "CHAR"},
	"BINARY":    {"VARYING"},
	"BIT":       {"VARYING"},
	"SIGNED":    {"INTEGER", "INT"},
	"UNSIGNED":  {"INTEGER", "INT"},
}

// notTypeWords are words that cannot start a type name, so that "x::"
// followed by a keyword is reported rather than taken as a type.
var notTypeWords = map[string]bool{
	"AS": true, "AND": true, "OR": true, "NOT": true, "FROM": true, "WHERE": true,
	"SELECT": true, "NULL": true, "IS": true, "IN": true, "ON": true, "BY": true,
	"THEN": true, "ELSE": true, "END": true, "WHEN": true, "WITH": true,
}

// parseType parses a type name from toks[i:end]. It returns the type and
// the index of the first token after it; ok is false when toks[i] does not
// start a type or its argument list is malformed, and next is then the
// offending token's index.
func parseType(src string, toks []token, i, end int) (t TypeName, next int, ok bool) {
	if i >= end {
		return t, i, false
	}
	first := i
	var words []string
	// An optional pg_catalog. / schema. qualification is dropped.
	if i+2 < end && toks[i].isIdent() && toks[i+1].isOp(".") && toks[i+2].isIdent() {
		i += 2
	}
	w := toks[i]
	switch w.kind {
	case tkIdent:
		up := strings.ToUpper(w.text)
		if notTypeWords[up] {
			return t, i, false
		}
		words = append(words, up)
	case tkQIdent:
		// "char" and friends: PostgreSQL spells some internal types quoted.
		words = append(words, strings.ToUpper(unquote(w.text, '"')))
	default:
		return t, i, false
	}
	i++
	for {
		conts := typeContinuations[words[len(words)-1]]
		matched := false
		for _, c := range conts {
			if i < end && toks[i].is(c) {
				words = append(words, c)
				i++
				matched = true
				break
			}
		}
		if !matched {
			break
		}
	}
	var args []int
	if i < end && toks[i].isOp("(") {
		j := i + 1
		for {
			if j >= end || toks[j].kind != tkNumber {
				return t, j, false
			}
			n, err := strconv.Atoi(toks[j].text)
			if err != nil {
				return t, j, false
			}
			args = append(args, n)
			j++
			if j < end && toks[j].isOp(",") {
				j++
				continue
			}
			if j < end && toks[j].isOp(")") {
				j++
				break
			}
			return t, j, false
		}
		i = j
	}
	last := words[len(words)-1]
	if (last == "TIMESTAMP" || last == "TIME") && i+2 < end &&
		(toks[i].is("WITH") || toks[i].is("WITHOUT")) && toks[i+1].is("TIME") && toks[i+2].is("ZONE") {
		words = append(words, strings.ToUpper(toks[i].text), "TIME", "ZONE")
		i += 3
	}
	if len(words) == 1 && i < end && toks[i].is("UNSIGNED") {
		words = append(words, "UNSIGNED") // MySQL's INT UNSIGNED; the catalog decides
		i++
	}
	arr := ""
	for i < end {
		if i+1 < end && toks[i].isOp("[") && toks[i+1].isOp("]") {
			arr += "[]"
			i += 2
			continue
		}
		if i+2 < end && toks[i].isOp("[") && toks[i+1].kind == tkNumber && toks[i+2].isOp("]") {
			arr += "[]"
			i += 3
			continue
		}
		if toks[i].is("ARRAY") {
			arr += "[]"
			i++
			continue
		}
		break
	}
	name, args := canonicalType(words, args)
	t = TypeName{Name: name + arr, Args: args, Pos: toks[first].start, Text: src[toks[first].start:toks[i-1].end]}
	return t, i, true
}

// canonicalType folds a type's words and arguments to the canonical name.
func canonicalType(words []string, args []int) (string, []int) {
	key := strings.Join(words, " ")
	if key == "FLOAT" {
		// PostgreSQL: FLOAT is DOUBLE PRECISION; FLOAT(p) is REAL up to 24 bits.
		if len(args) == 1 && args[0] >= 1 && args[0] <= 24 {
			return "REAL", nil
		}
		if len(args) <= 1 {
			return "DOUBLE", nil
		}
	}
	if c, ok := typeAliases[key]; ok {
		return c, args
	}
	return key, args
}
