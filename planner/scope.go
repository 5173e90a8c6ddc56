package planner

import (
	"strings"

	"github.com/etlc/etlc/catalog"
)

// scopeCol is a column visible to the expressions of a query: the input
// row's column at the same position.
type scopeCol struct {
	name, qual string
	t          catalog.Type
	nullable   bool
	// hidden columns (the right-hand copy of a USING/NATURAL join column)
	// answer only to qualified names and are left out of *.
	hidden bool
}

// scope is the set of columns an expression can name, with a link to the
// enclosing query's scope for correlated subqueries.
type scope struct {
	cols  []scopeCol
	outer *scope
	// broken is set when a relation of the FROM clause could not be
	// resolved: unknown columns are then not reported again.
	broken bool
	// corr is set when an expression of this query (or a query inside it)
	// referred to a column of an enclosing query.
	corr bool
	// ctes are the WITH queries visible here, innermost first.
	ctes []*cteDef
}

type cteDef struct {
	name string
	plan Node
	cols []Column
}

func scopeFromColumns(cols []Column) *scope {
	s := &scope{}
	for _, c := range cols {
		s.cols = append(s.cols, scopeCol{name: c.Name, qual: c.Qualifier, t: c.Type, nullable: c.Nullable})
	}
	return s
}

// columns returns the scope as plan columns.
func (s *scope) columns() []Column {
	out := make([]Column, len(s.cols))
	for i, c := range s.cols {
		out[i] = Column{Name: c.name, Qualifier: c.qual, Type: c.t, Nullable: c.nullable}
	}
	return out
}

// lookupResult is the outcome of resolving a column name in one scope.
type lookupResult int

const (
	notFound lookupResult = iota
	found
	ambiguous
)

// find resolves [qual.]name among the scope's own columns.
func (s *scope) find(qual, name string) (int, lookupResult) {
	idx := -1
	for i, c := range s.cols {
		if c.name != name {
			continue
		}
		if qual != "" {
			if !strings.EqualFold(c.qual, qual) {
				continue
			}
		} else if c.hidden {
			continue
		}
		if idx >= 0 {
			return idx, ambiguous
		}
		idx = i
	}
	if idx < 0 {
		return -1, notFound
	}
	return idx, found
}

// hasQualifier reports whether some column of the scope chain is
// qualified by qual.
func (s *scope) hasQualifier(qual string) bool {
	for sc := s; sc != nil; sc = sc.outer {
		for _, c := range sc.cols {
			if strings.EqualFold(c.qual, qual) {
				return true
			}
		}
	}
	return false
}

// candidates lists the names a misspelled column could have meant.
func (s *scope) candidates(qual string) []string {
	var out []string
	for sc := s; sc != nil; sc = sc.outer {
		for _, c := range sc.cols {
			if qual == "" || strings.EqualFold(c.qual, qual) {
				out = append(out, c.name)
			}
		}
	}
	return out
}

func (s *scope) lookupCTE(name string) *cteDef {
	for sc := s; sc != nil; sc = sc.outer {
		for _, c := range sc.ctes {
			if strings.EqualFold(c.name, name) {
				return c
			}
		}
	}
	return nil
}
