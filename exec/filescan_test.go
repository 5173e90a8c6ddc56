package exec

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
)

// FileScans is the tests' ScanFactory of file sources and streams (connector =
// 'file'): it reads them with the connector package, which applies the
// source's on_error policy.
type FileScans struct {
	// Conn reads the files.
	Conn *connector.FileConnector
	// Quarantine receives the bad rows of a source read with on_error =
	// 'quarantine', as batches of connector.QuarantineSchema, while the
	// scan runs; it must release rec. Nil drops them (they are still
	// counted in the scan's statistics).
	Quarantine func(ctx context.Context, obj *catalog.Object, rec arrow.Record) error
}

// OpenScan implements ScanFactory. It validates the source's options and
// schema now; listing and reading the files happen when the operator
// opens.
func (f *FileScans) OpenScan(ctx context.Context, obj *catalog.Object, columns []int) (Operator, error) {
	if obj.Kind != catalog.ObjectSource && obj.Kind != catalog.ObjectStream {
		return nil, fmt.Errorf("exec: %s %s is not read through the file connector", obj.Kind, obj.Name)
	}
	if c := obj.Options["connector"]; c != "" && c != "file" {
		return nil, fmt.Errorf("exec: %s %s uses connector %q, not file", obj.Kind, obj.Name, c)
	}
	opts, err := connector.ParseOptions(obj.Options, connector.RoleSource)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", obj.Kind, obj.Name, err)
	}
	fields := make([]connector.Field, len(obj.Columns))
	for i, c := range obj.Columns {
		fields[i] = connector.Field{Name: c.Name, Type: c.Type, NotNull: c.NotNull}
	}
	out := make([]connector.Field, len(columns))
	for k, i := range columns {
		if i < 0 || i >= len(fields) {
			return nil, fmt.Errorf("exec: column %d of %s %s does not exist (%d columns)", i, obj.Kind, obj.Name, len(fields))
		}
		out[k] = fields[i]
	}
	return &fileScan{f: f, obj: obj, opts: opts, spec: connector.ScanSpec{Fields: fields, Columns: columns},
		schema: connector.ArrowSchema(out)}, nil
}

// fileScan is the operator over one connector.Scan.
type fileScan struct {
	f      *FileScans
	obj    *catalog.Object
	opts   connector.Options
	spec   connector.ScanSpec
	schema *arrow.Schema
	scan   *connector.Scan
	done   bool
}

func (s *fileScan) Schema() *arrow.Schema { return s.schema }

func (s *fileScan) Open(ctx context.Context) error {
	sc, err := s.f.Conn.Scan(ctx, s.opts, s.spec)
	if err != nil {
		return fmt.Errorf("%s %s: %w", s.obj.Kind, s.obj.Name, err)
	}
	s.scan = sc
	return nil
}

func (s *fileScan) Next(ctx context.Context) (Batch, bool, error) {
	if s.done || s.scan == nil {
		return Batch{}, false, nil
	}
	rec, err := s.scan.Next(ctx)
	if qerr := s.quarantine(ctx); qerr != nil {
		if rec != nil {
			rec.Release()
		}
		return Batch{}, false, qerr
	}
	if errors.Is(err, io.EOF) {
		s.done = true
		return Batch{}, false, nil
	}
	if err != nil {
		return Batch{}, false, fmt.Errorf("%s %s: %w", s.obj.Kind, s.obj.Name, err)
	}
	return Batch{Kind: BatchData, Rec: relabel(s.schema, rec)}, true, nil
}

// quarantine hands over the bad rows collected so far.
func (s *fileScan) quarantine(ctx context.Context) error {
	q := s.scan.TakeQuarantine()
	if q == nil {
		return nil
	}
	if s.f.Quarantine == nil {
		q.Release()
		return nil
	}
	return s.f.Quarantine(ctx, s.obj, q)
}

// Stats returns what the scan has read so far.
func (s *fileScan) Stats() connector.ScanStats {
	if s.scan == nil {
		return connector.ScanStats{}
	}
	return s.scan.Stats()
}

func (s *fileScan) Close() error {
	if s.scan == nil {
		return nil
	}
	err := s.scan.Close()
	s.scan = nil
	return err
}
