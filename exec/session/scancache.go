package session

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/exec"
)

// maxCachedScan is the most bytes of one table's batches a statement keeps
// to replay.
const maxCachedScan = 64 << 20

// scanCache keeps, for one statement, the batches of the managed tables it
// read completely, so that reading a table again (a correlated subquery
// runs its plan once per outer row) replays them from memory instead of
// reading the files again. A table does not change while a statement
// reads it: what the statement writes commits when it ends. Tables larger
// than maxCachedScan are read again each time.
type scanCache struct {
	mu   sync.Mutex
	done map[string][]arrow.Record // by table and columns
	// tooLarge lists the keys whose reads exceeded maxCachedScan.
	tooLarge map[string]bool
}

// scanKey names a read of some columns of a table.
func scanKey(table string, columns []int) string {
	return fmt.Sprintf("%s%v", catalogKey(table), columns)
}

// release drops every cached batch.
func (c *scanCache) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, recs := range c.done {
		for _, r := range recs {
			r.Release()
		}
		delete(c.done, k)
	}
}

// open returns a replay of a complete earlier read, or op wrapped so that
// a complete read of it is kept.
func (c *scanCache) open(key string, op exec.Operator) exec.Operator {
	c.mu.Lock()
	defer c.mu.Unlock()
	if recs, ok := c.done[key]; ok {
		op.Close()
		return exec.NewRecordSource(op.Schema(), recs)
	}
	if c.tooLarge[key] {
		return op
	}
	return &teeScan{c: c, key: key, op: op}
}

// teeScan passes its input's batches through and keeps them; when the
// input ends (a complete read) the cache gets them.
type teeScan struct {
	c     *scanCache
	key   string
	op    exec.Operator
	recs  []arrow.Record
	bytes int64
	off   bool
}

func (t *teeScan) Schema() *arrow.Schema { return t.op.Schema() }

func (t *teeScan) Open(ctx context.Context) error { return t.op.Open(ctx) }

func (t *teeScan) Next(ctx context.Context) (exec.Batch, bool, error) {
	b, ok, err := t.op.Next(ctx)
	if err != nil || t.off {
		return b, ok, err
	}
	if !ok {
		t.c.mu.Lock()
		if _, dup := t.c.done[t.key]; !dup {
			t.c.done[t.key] = t.recs
			t.recs = nil
		}
		t.c.mu.Unlock()
		t.drop()
		return b, ok, err
	}
	if b.Kind == exec.BatchData && b.Rec != nil {
		for _, col := range b.Rec.Columns() {
			for _, buf := range col.Data().Buffers() {
				if buf != nil {
					t.bytes += int64(buf.Len())
				}
			}
		}
		if t.bytes > maxCachedScan {
			t.c.mu.Lock()
			t.c.tooLarge[t.key] = true
			t.c.mu.Unlock()
			t.drop()
			return b, ok, err
		}
		b.Rec.Retain()
		t.recs = append(t.recs, b.Rec)
	}
	return b, ok, err
}

func (t *teeScan) drop() {
	for _, r := range t.recs {
		r.Release()
	}
	t.recs = nil
	t.off = true
}

func (t *teeScan) Close() error {
	t.drop()
	return t.op.Close()
}
