package exec

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"
)

// sharedCTE is a common table expression referenced more than once in a
// plan: the first reader to open runs it to completion and keeps its
// batches (accounted); every reader replays them; the last reader to
// close releases them.
type sharedCTE struct {
	name    string
	input   Operator
	readers int // readers that have not closed yet
	started bool
	err     error
	recs    []arrow.Record
	acct    memAccount
}

func (s *sharedCTE) materialize(ctx context.Context) error {
	if s.started {
		return s.err
	}
	s.started = true
	op := s.input
	s.input = nil
	recs, err := Collect(ctx, op)
	if err != nil {
		s.err = err
		return err
	}
	s.recs = recs
	var n int64
	for _, r := range recs {
		n += recordBytes(r)
	}
	if err := s.acct.set(n); err != nil {
		s.err = err
		return err
	}
	return nil
}

func (s *sharedCTE) closeReader() error {
	s.readers--
	if s.readers > 0 {
		return nil
	}
	releaseRecords(s.recs)
	s.recs = nil
	s.acct.close()
	if s.input != nil {
		// Never opened: the plan was not needed after all.
		op := s.input
		s.input = nil
		return op.Close()
	}
	return nil
}

// cteReader is one reference to a shared CTE.
type cteReader struct {
	shared *sharedCTE
	schema *arrow.Schema
	src    *RecordSource
	closed bool
}

func (c *cteReader) Schema() *arrow.Schema { return c.schema }

func (c *cteReader) Open(ctx context.Context) error {
	if err := c.shared.materialize(ctx); err != nil {
		return err
	}
	c.src = NewRecordSource(c.schema, c.shared.recs)
	return c.src.Open(ctx)
}

func (c *cteReader) Next(ctx context.Context) (Batch, bool, error) {
	if c.src == nil {
		return Batch{}, false, nil
	}
	return c.src.Next(ctx)
}

func (c *cteReader) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.src != nil {
		c.src.Close()
	}
	return c.shared.closeReader()
}
