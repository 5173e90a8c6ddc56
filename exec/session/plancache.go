package session

import (
	"container/list"
	"context"
	"strconv"
	"strings"

	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// DefaultPlanCache is how many compiled statements a session keeps when
// Config.PlanCache is 0.
const DefaultPlanCache = 128

// A session keeps the programs it compiled for the queries it runs again:
// a wire client that prepares a statement once and executes it many times
// (the extended protocol's named statements, or the unnamed one sent with
// the same text: Parse describes it, Execute runs it, both from the same
// program) parses and binds it once. A program is used again only for the
// same text, the same parameter types declared by the client
// (ExecOptions.ParamTypes; the binder infers the others from the text),
// the same catalog and the same session state:
//
//   - the engine's catalog generation goes up after every statement of any
//     session that may change the catalog (CREATE, DROP, CREATE/DROP
//     INDEX, CREATE PIPELINE, ANALYZE, START/STOP PIPELINE): every
//     session's cached programs are then stale;
//   - the session's generation goes up after SET, RESET and DECLARE (a
//     setting or a script parameter may change what a statement binds
//     to).
//
// Only SELECT, INSERT, MERGE, EXPLAIN and VALIDATE programs are kept; the
// optimizer and the operators run on every execution (they read the
// files, the statistics and the parameter values of that execution), so
// a cached program never holds data: a write is seen by the next
// execution as it would be without the cache.

// planCache is one session's cache of compiled programs.
type planCache struct {
	max   int
	lru   *list.List // of *planEntry, most recent first
	byKey map[string]*list.Element
	hits  int64
	miss  int64
}

type planEntry struct {
	key  string
	prog *planner.Program
	// warnings are the compile's warnings, given again with the program.
	warnings parser.Diagnostics
}

// PlanCacheStats counts a session's plan cache lookups.
type PlanCacheStats struct {
	Hits, Misses int64
	Entries      int
}

// PlanCacheStats returns the counts of the session's plan cache.
func (s *Session) PlanCacheStats() PlanCacheStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plans == nil {
		return PlanCacheStats{}
	}
	return PlanCacheStats{Hits: s.plans.hits, Misses: s.plans.miss, Entries: s.plans.lru.Len()}
}

// planKey is the cache key of a script whose parameters the client
// declared with the given types (PostgreSQL type OIDs, 0: not given).
func (s *Session) planKey(text string, paramTypes []uint32) string {
	var b strings.Builder
	b.Grow(len(text) + 32)
	b.WriteString(strconv.FormatUint(s.eng.catalogGen.Load(), 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatUint(s.planGen, 10))
	for _, t := range paramTypes {
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(uint64(t), 10))
	}
	b.WriteByte(0)
	b.WriteString(text)
	return b.String()
}

// compileCached compiles src, or returns the program compiled for the
// same key before.
func (s *Session) compileCached(ctx context.Context, src *parser.Source, paramTypes []uint32) (*planner.Program, parser.Diagnostics) {
	max := s.eng.cfg.PlanCache
	if max == 0 {
		max = DefaultPlanCache
	}
	if max < 0 {
		return s.Compile(ctx, src)
	}
	if s.plans == nil {
		s.plans = &planCache{max: max, lru: list.New(), byKey: map[string]*list.Element{}}
	}
	c := s.plans
	key := s.planKey(src.Text, paramTypes)
	if el, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(el)
		c.hits++
		e := el.Value.(*planEntry)
		return e.prog, e.warnings
	}
	c.miss++
	prog, diags := s.Compile(ctx, src)
	if diags.HasErrors() || !cacheable(prog) {
		return prog, diags
	}
	c.byKey[key] = c.lru.PushFront(&planEntry{key: key, prog: prog, warnings: diags})
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.byKey, old.Value.(*planEntry).key)
	}
	return prog, diags
}

// cacheable reports whether a program may be kept: one statement that
// reads or writes data and changes nothing else.
func cacheable(prog *planner.Program) bool {
	if prog == nil || len(prog.Statements) != 1 {
		return false
	}
	return cacheableStmt(prog.Statements[0])
}

func cacheableStmt(st planner.BoundStmt) bool {
	switch st := st.(type) {
	case *planner.QueryStmt, *planner.InsertStmt, *planner.MergeStmt, *planner.ValidateStmt:
		return true
	case *planner.ExplainStmt:
		return st.Inner != nil && cacheableStmt(st.Inner)
	}
	return false
}

// notePlanEffects advances the generations that key cached programs
// after a statement ran (or failed: it may have changed something before
// it failed).
func (s *Session) notePlanEffects(st planner.BoundStmt) {
	switch st := st.(type) {
	case *planner.ExplainStmt:
		if st.Inner != nil {
			s.notePlanEffects(st.Inner)
		}
	case *planner.CreateStmt, *planner.DropStmt, *planner.PipelineStmt, *planner.CreateIndexStmt, *planner.DropIndexStmt:
		s.eng.catalogGen.Add(1)
	case *planner.DeclareStmt:
		s.planGen++
	case *planner.UtilityStmt:
		switch st.Stmt.(type) {
		case *parser.Set:
			s.planGen++
		case *parser.Analyze, *parser.PipelineCmd:
			s.eng.catalogGen.Add(1)
		}
	}
}
