package session

import (
	"strings"
	"unicode"
)

// Some queries PostgreSQL clients send read only catalog relations that
// etlc always leaves empty (row-level security policies, extended
// statistics, publications, triggers, rules, inheritance, foreign tables)
// and use PostgreSQL features etlc's SQL does not have to compute their
// columns: ARRAY(subquery), = ANY(array column), generate_series in FROM,
// array subscripts. psql's \d sends three of them for every table.
//
// Such a query has no rows whatever its select list says, so when it does
// not compile, emptyCatalogQuery recognises it from its text and gives an
// equivalent query: the same number of columns, named as PostgreSQL would
// name them, no rows. Every UNION branch must read, as the first relation
// of its top-level FROM, one of the empty relations, joined only with
// inner or left joins, without GROUP BY, HAVING or a top-level aggregate
// (any of those could make rows out of none).

// emptyRelations are the emulated catalog relations that never have rows.
var emptyRelations = map[string]bool{
	"pg_policy": true, "pg_statistic_ext": true, "pg_publication": true, "pg_publication_rel": true,
	"pg_publication_namespace": true, "pg_trigger": true, "pg_rewrite": true, "pg_inherits": true,
	"pg_foreign_table": true, "pg_foreign_server": true, "pg_foreign_data_wrapper": true,
	"pg_event_trigger": true, "pg_partitioned_table": true, "pg_sequence": true, "pg_extension": true,
	"pg_enum": true, "pg_range": true, "pg_rewrite_rule": true, "pg_matviews": true, "pg_sequences": true,
}

// aggregateNames are the aggregates that would give one row over none.
var aggregateNames = map[string]bool{
	"count": true, "sum": true, "min": true, "max": true, "avg": true, "string_agg": true,
	"array_agg": true, "bool_and": true, "bool_or": true, "json_agg": true, "jsonb_agg": true, "every": true,
}

// qtok is a token of the quick scan: a word (lower case unless quoted), a
// quoted string, or one punctuation character.
type qtok struct {
	text   string
	word   bool
	quoted bool // a "quoted identifier"
}

// quickTokens splits SQL text into tokens, dropping comments and white
// space; ok is false when a quote or comment does not end.
func quickTokens(s string) ([]qtok, bool) {
	var out []qtok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return out, true
			}
			i += j
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, false
			}
			i += j + 4
		case c == '\'' || c == '"':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= len(s) {
				return nil, false
			}
			if c == '"' {
				out = append(out, qtok{text: strings.ReplaceAll(s[i+1:j], `""`, `"`), word: true, quoted: true})
			} else {
				out = append(out, qtok{text: s[i : j+1]})
			}
			i = j + 1
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || s[j] >= '0' && s[j] <= '9' || unicode.IsLetter(rune(s[j])) || s[j] >= 0x80) {
				j++
			}
			out = append(out, qtok{text: strings.ToLower(s[i:j]), word: true})
			i = j
		default:
			out = append(out, qtok{text: string(c)})
			i++
		}
	}
	return out, true
}

// emptyCatalogQuery returns the column names of a query that reads only
// always-empty catalog relations (see above), and whether it is one.
func emptyCatalogQuery(text string) ([]string, bool) {
	toks, ok := quickTokens(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text), ";")))
	if !ok || len(toks) == 0 || toks[0].text != "select" || !toks[0].word {
		return nil, false
	}
	// Split into UNION branches at depth 0, stopping at a top-level ORDER
	// BY or LIMIT, which apply to the whole.
	var branches [][]qtok
	depth, start := 0, 0
	end := len(toks)
	for i, t := range toks {
		switch {
		case t.text == "(" && !t.word:
			depth++
		case t.text == ")" && !t.word:
			depth--
		case t.text == ";" && !t.word:
			return nil, false // more than one statement
		case depth == 0 && t.word && !t.quoted && (t.text == "union" || t.text == "intersect" || t.text == "except"):
			branches = append(branches, toks[start:i])
			start = i + 1
			if start < len(toks) && toks[start].text == "all" {
				start++
			}
		}
	}
	branches = append(branches, toks[start:end])
	var cols []string
	for bi, br := range branches {
		c, ok := emptyBranch(br)
		if !ok {
			return nil, false
		}
		if bi == 0 {
			cols = c
		} else if len(c) != len(cols) {
			return nil, false
		}
	}
	return cols, true
}

// emptyBranch checks one SELECT of a union and returns its column names.
func emptyBranch(toks []qtok) ([]string, bool) {
	if len(toks) == 0 || toks[0].text != "select" {
		return nil, false
	}
	depth := 0
	from := -1
	var items [][]qtok
	itemStart := 1
	if len(toks) > 1 && toks[1].text == "distinct" {
		itemStart = 2
	}
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		if !t.word && t.text == "(" {
			depth++
			continue
		}
		if !t.word && t.text == ")" {
			depth--
			continue
		}
		if depth != 0 {
			continue
		}
		if from < 0 {
			if !t.word && t.text == "," {
				items = append(items, toks[itemStart:i])
				itemStart = i + 1
			}
			if t.word && !t.quoted && t.text == "from" {
				items = append(items, toks[itemStart:i])
				from = i
			}
			if t.word && !t.quoted && aggregateNames[t.text] && i+1 < len(toks) && toks[i+1].text == "(" {
				return nil, false
			}
			continue
		}
		if t.word && !t.quoted && (t.text == "right" || t.text == "full" || t.text == "group" || t.text == "having") {
			return nil, false
		}
	}
	if from < 0 || from+1 >= len(toks) {
		return nil, false
	}
	// The first relation: [pg_catalog .] name.
	i := from + 1
	rel := toks[i]
	if rel.text == "pg_catalog" && i+2 < len(toks) && toks[i+1].text == "." {
		rel = toks[i+2]
	}
	if !rel.word || !emptyRelations[rel.text] {
		return nil, false
	}
	names := make([]string, len(items))
	for k, it := range items {
		names[k] = columnName(it)
	}
	return names, true
}

// columnName is the name PostgreSQL gives a select-list item: its alias,
// the column's name, the function's name, or ?column?.
func columnName(it []qtok) string {
	n := len(it)
	if n == 0 {
		return "?column?"
	}
	if n >= 2 && it[n-2].word && !it[n-2].quoted && it[n-2].text == "as" && it[n-1].word {
		return it[n-1].text
	}
	if it[0].word && !it[0].quoted && it[0].text == "case" && it[n-1].text == "end" {
		return "case"
	}
	if n == 1 && !it[0].quoted && (it[0].text == "null" || it[0].text == "true" || it[0].text == "false") {
		return "?column?"
	}
	// name, a.name
	simple := true
	for k, t := range it {
		if k%2 == 0 && !t.word || k%2 == 1 && t.text != "." {
			simple = false
		}
	}
	if simple && n%2 == 1 {
		return it[n-1].text
	}
	if n >= 2 && it[n-1].word && !it[n-2].word && it[n-2].text == ")" {
		return it[n-1].text // f(x) alias
	}
	// [schema .] f ( ... )
	for k := 0; k+1 < n; k++ {
		if it[k].word && it[k+1].text == "(" {
			return it[k].text
		}
		if !it[k].word && it[k].text != "." {
			break
		}
	}
	return "?column?"
}

// emptyQueryText is the query that stands for an always-empty catalog
// query: its columns, as text, and no rows.
func emptyQueryText(cols []string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`CAST(NULL AS VARCHAR) AS "` + strings.ReplaceAll(c, `"`, `""`) + `"`)
	}
	b.WriteString(" WHERE FALSE")
	return b.String()
}
