package connector

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
)

// Morsels hands the pieces of one source read out to several scans that
// share the read (parallel workers): each piece is read by exactly one of
// them. A piece is a Parquet row group, or a whole file of another
// format. The first scan to need a piece lists them, in file order and row
// group order; later ones take the next piece not taken yet, so a worker
// that is done early takes more. Safe for concurrent use.
type Morsels struct {
	mu     sync.Mutex
	listed bool
	err    error
	pieces []morsel
	next   int
}

// morsel is one piece: a file of the listing and, for Parquet, one of its
// row groups (-1: the whole file) and the file's footer, parsed once for
// all its pieces (read only, shared by the scans).
type morsel struct {
	file     int
	rowGroup int
	meta     *metadata.FileMetaData
}

// NewMorsels returns a dispenser for the scans of one read.
func NewMorsels() *Morsels { return &Morsels{} }

// take returns the next piece, listing the pieces first if needed; ok is
// false when none is left.
func (m *Morsels) take(ctx context.Context, s *Scan) (morsel, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.listed {
		m.listed = true
		m.pieces, m.err = listMorsels(ctx, s)
	}
	if m.err != nil {
		return morsel{}, false, m.err
	}
	if m.next >= len(m.pieces) {
		return morsel{}, false, nil
	}
	p := m.pieces[m.next]
	m.next++
	return p, true, nil
}

// listMorsels splits the files of s into pieces: the row groups of Parquet
// files (read from their footers), whole files otherwise.
func listMorsels(ctx context.Context, s *Scan) (pieces []morsel, err error) {
	for i := range s.files {
		f := &s.files[i]
		if s.opts.Format != FormatParquet || len(s.columns) == 0 {
			pieces = append(pieces, morsel{file: i, rowGroup: -1})
			continue
		}
		uri := s.fs.URI(f.Name)
		mc := s.c.metaCache()
		md := mc.footer(uri, f.Size, f.ModTime)
		if md == nil {
			if md, err = parquetFooter(ctx, s.fs, f.Name); err == nil {
				mc.putFooter(uri, f.Size, f.ModTime, md)
			}
		}
		if err != nil {
			return nil, &RowError{File: s.fs.URI(f.Name), Reason: fmt.Sprintf("invalid parquet file: %v", err)}
		}
		for rg := 0; rg < len(md.RowGroups); rg++ {
			pieces = append(pieces, morsel{file: i, rowGroup: rg, meta: md})
		}
	}
	return pieces, nil
}

// parquetFooter reads a file's footer.
func parquetFooter(ctx context.Context, fs FS, name string) (md *metadata.FileMetaData, err error) {
	defer recoverErr(&err, name)
	f, err := fs.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	return pf.MetaData(), nil
}

// Split lists a source once and splits the read into pieces (Parquet row
// groups, files of other formats) for parallel scans: each scan is opened
// with spec.Files = files and spec.Morsels = m. n is the number of pieces;
// a read of one piece or none gains nothing from splitting.
func (c *FileConnector) Split(ctx context.Context, opts Options, spec ScanSpec) (files []SourceFile, m *Morsels, n int, err error) {
	s, err := c.Scan(ctx, opts, spec)
	if err != nil {
		return nil, nil, 0, err
	}
	defer s.Close()
	m = NewMorsels()
	m.listed = true
	if m.pieces, err = listMorsels(ctx, s); err != nil {
		return nil, nil, 0, err
	}
	return s.files, m, len(m.pieces), nil
}
