package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/cockroachdb/pebble"
)

// TableStats describes the data of one relation for the optimizer: how many
// rows it has and, per column, how many distinct values, NULLs, and its
// smallest and largest value. They come from ANALYZE, from Parquet footers,
// or from writes to managed tables, and are kept in the catalog.
type TableStats struct {
	// Relation is the name of the source or table.
	Relation string `json:"relation"`
	// Rows is the number of rows.
	Rows float64 `json:"rows"`
	// Columns holds one entry a column that something is known about, in
	// the relation's column order.
	Columns []ColumnStats `json:"columns,omitempty"`
	// Origin says where the numbers come from: "analyze", "parquet" or
	// "write".
	Origin string `json:"origin,omitempty"`
	// Sampled is set when the distinct counts were estimated from a sample.
	Sampled bool `json:"sampled,omitempty"`
	// AnalyzedAt is when the numbers were taken.
	AnalyzedAt time.Time `json:"analyzed_at"`
}

// ColumnStats describes one column. A negative count is unknown.
type ColumnStats struct {
	Name string `json:"name"`
	// Distinct is the number of distinct non-NULL values (-1: unknown).
	Distinct float64 `json:"distinct"`
	// Nulls is the number of NULLs (-1: unknown).
	Nulls float64 `json:"nulls"`
	// HasRange is set when Min and Max hold the column's smallest and
	// largest value on a numeric scale: numbers as themselves (DECIMAL as
	// its value), DATE as days since 1970-01-01, TIME and TIMESTAMP as
	// microseconds.
	HasRange bool    `json:"has_range,omitempty"`
	Min      float64 `json:"min,omitempty"`
	Max      float64 `json:"max,omitempty"`
	// MinText and MaxText are the smallest and largest value as SQL text
	// (for etl.stats), "" when unknown.
	MinText string `json:"min_text,omitempty"`
	MaxText string `json:"max_text,omitempty"`
	// AvgWidth is the average size of a value in bytes (0: unknown).
	AvgWidth float64 `json:"avg_width,omitempty"`
}

// Column returns the statistics of the named column (compared without
// case).
func (s *TableStats) Column(name string) (ColumnStats, bool) {
	for _, c := range s.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return ColumnStats{}, false
}

// statsPrefix is the Pebble key prefix of statistics: statsPrefix + the
// relation's catalog key.
const (
	statsPrefix     = "stats/"
	statsUpperBound = "stats0"
)

// SetStats stores the statistics of a relation (replacing earlier ones). A
// persistent catalog has written them to disk when SetStats returns.
func (c *Catalog) SetStats(ctx context.Context, s TableStats) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := catalogKey(s.Relation)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	o, ok := c.objs[key]
	if !ok {
		return &ObjectError{Err: ErrNotFound, Code: CodeUndefinedTable,
			Message: fmt.Sprintf("relation %q does not exist", s.Relation)}
	}
	s.Relation = o.Name
	s.Columns = append([]ColumnStats(nil), s.Columns...)
	if c.db != nil && !o.Temporary {
		v, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("catalog: encoding statistics of %q: %w", s.Relation, err)
		}
		if err := c.db.Set([]byte(statsPrefix+key), v, pebble.Sync); err != nil {
			return fmt.Errorf("catalog: storing statistics of %q: %w", s.Relation, err)
		}
	}
	if c.stats == nil {
		c.stats = map[string]TableStats{}
	}
	c.stats[key] = s
	return nil
}

// Stats returns a copy of the statistics of the named relation.
func (c *Catalog) Stats(name string) (TableStats, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.stats[catalogKey(name)]
	if !ok {
		return TableStats{}, false
	}
	s.Columns = append([]ColumnStats(nil), s.Columns...)
	return s, true
}

// AllStats returns copies of every relation's statistics, sorted by
// relation name.
func (c *Catalog) AllStats() []TableStats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]TableStats, 0, len(c.stats))
	for _, s := range c.stats {
		s.Columns = append([]ColumnStats(nil), s.Columns...)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Relation < out[j].Relation })
	return out
}

// dropStats forgets a relation's statistics; c.mu is held.
func (c *Catalog) dropStats(key string) error {
	if _, ok := c.stats[key]; !ok {
		return nil
	}
	delete(c.stats, key)
	if c.db != nil {
		if err := c.db.Delete([]byte(statsPrefix+key), pebble.Sync); err != nil {
			return fmt.Errorf("catalog: dropping statistics: %w", err)
		}
	}
	return nil
}

// loadStats reads the stored statistics.
func (c *Catalog) loadStats(ctx context.Context) error {
	return loadJSON(ctx, c.db, statsPrefix, statsUpperBound, "statistics", func(key string, s TableStats) {
		if c.stats == nil {
			c.stats = map[string]TableStats{}
		}
		c.stats[key] = s
	})
}

// NumericValue puts a value in the canonical Go form of type t (the form
// of planner constants: int64, float64, decimal128.Num unscaled, int32 days
// for DATE, int64 microseconds for TIME and TIMESTAMP) on the numeric scale
// of ColumnStats.Min and Max. ok is false for other kinds.
func NumericValue(v any, t Type) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case decimal128.Num:
		return x.ToFloat64(int32(t.Scale)), true
	}
	return 0, false
}
