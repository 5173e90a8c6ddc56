package connector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// stagingPrefix starts the name of a run's staging directory under the
// sink's path: _staging-<run id>/.
const stagingPrefix = "_staging-"

// stagedManifestName is the copy of the new manifest a run writes into its
// staging directory before it moves any file into place.
const stagedManifestName = "_MANIFEST"

// Sink writes one statement's output to a file sink and makes it visible
// atomically.
//
// # Layout
//
// The sink's path is a directory (local) or prefix (S3). Committed data
// files are <path>/[col=value/...]part-<run id>-<n>.<ext>; each run's names
// are new, so a run never overwrites a file another run committed.
// <path>/_SUCCESS holds the Manifest: the list of committed files. While a
// run writes, its files live under <path>/_staging-<run id>/ with the same
// relative layout. Readers (Scan) skip every name starting with '_' or '.',
// and read exactly the files the manifest lists when there is one.
//
// # Commit protocol
//
//  1. Write: every file is written under _staging-<run>/ (S3: uploaded
//     there). Nothing outside the staging directory changes.
//  2. Commit closes the files, then writes _staging-<run>/_MANIFEST, the
//     new manifest (append: the previous manifest's files, or the visible
//     files when there was no manifest, plus this run's; overwrite: this
//     run's only).
//  3. If <path> has no _SUCCESS yet, it publishes one listing the files
//     visible now, so that manifest-aware readers go on seeing exactly the
//     old output while files move in.
//  4. Moves each staged file to its final name (local: rename, atomic per
//     file; S3: copy, then delete the staged object).
//  5. Publishes <path>/_SUCCESS = the new manifest (local: write
//     _SUCCESS.tmp-<run>, rename over _SUCCESS; S3: one PUT). This is the
//     commit point.
//  6. Overwrite: deletes the files of the old output (visible files the
//     new manifest does not list).
//  7. Removes _staging-<run>/.
//
// # What a reader sees
//
// A manifest-aware reader (this package's Scan) reads _SUCCESS and sees
// the old output up to step 5 and the new output from step 5 on, never a
// mix and never a partial file. A reader that only lists the directory
// and skips '_' and '.' names (Spark, Trino, Athena) never sees staged
// files, nor any file of a run that failed before step 4; during steps
// 4 to 6 of an overwrite it may see old and new files side by side.
//
// # Failures and crashes
//
// Abort (or any error before step 5) removes the staging directory; the
// previous output is untouched. A process killed (SIGKILL, a lost pod)
// leaves its staging directory behind; the next OpenSink on the same path
// recovers every _staging-<run>/ it finds before it writes anything:
//
//   - _SUCCESS names that run (killed after step 5): roll forward, doing
//     steps 6 and 7;
//   - otherwise (killed before step 5): roll back, deleting the files the
//     staged _MANIFEST says the run moved in (step 4) and the staging
//     directory. The old output, and the _SUCCESS step 3 may have written
//     for it, stay as they were.
//
// One writer per sink path at a time is assumed: a second writer opening
// the path would take the first one's staging directory for a crashed
// run's. The engine runs the statements that write a sink one at a time.
// A prepared run that must outlive its statement (a transaction block's
// staged write) is held (Sink.Hold): recovery through the same
// FileConnector leaves its staging directory alone until it is published
// (PublishAll) or aborted.
type Sink struct {
	c          *FileConnector
	opts       Options
	fs         FS
	dir        string
	runID      string
	staging    string
	fields     []Field
	schema     *arrow.Schema
	dataIdx    []int
	partIdx    []int
	dataFields []Field
	dataSchema *arrow.Schema
	mem        memory.Allocator
	files      map[string]*sinkFile
	order      []string
	rows       int64
	state      int // 0 open, 1 committed, 2 aborted, 3 prepared
	prepared   *Manifest
	held       bool
	// push is set for a push into a stream (OpenPush): one file moved into
	// place, no manifest.
	push bool
	// kafka is set for a push into a Kafka stream (OpenKafkaPush): the
	// rows go to a Kafka transaction, not to files.
	kafka *kafkaPush
	// hook, when set (tests), is called at each step of Commit; a non-nil
	// error stops Commit there, as a crash would.
	hook func(step string) error
}

type sinkFile struct {
	rel  string
	w    formatWriter
	cw   *countingWriter
	rows int64
}

// OpenSink opens a sink for one statement's output of the given columns
// (the batches Write takes have them, in order). It first recovers what
// runs that crashed left at the path (see Sink); mode error_if_exists
// fails when the path holds output.
func (c *FileConnector) OpenSink(ctx context.Context, opts Options, fields []Field) (s *Sink, err error) {
	defer recoverErr(&err, opts.Path)
	fs, name, err := c.Resolve(ctx, opts.Path)
	if err != nil {
		return nil, err
	}
	if hasGlob(name) {
		return nil, fmt.Errorf("sink path %q: a sink writes a directory, not a glob", opts.Path)
	}
	if _, err := fs.Stat(ctx, strings.TrimSuffix(name, "/")); err == nil {
		return nil, fmt.Errorf("sink path %q is a file; a sink writes a directory", opts.Path)
	}
	s = &Sink{c: c, opts: opts, fs: fs, dir: dirName(name), fields: fields, schema: ArrowSchema(fields), mem: c.mem(), files: map[string]*sinkFile{}}
	isPart := make([]bool, len(fields))
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	for _, p := range opts.PartitionBy {
		j := -1
		for i, f := range fields {
			if f.Name == p || (j < 0 && strings.EqualFold(f.Name, p)) {
				j = i
			}
		}
		if j < 0 {
			hint := ""
			if cl := closest(p, names); cl != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", cl)
			}
			return nil, &OptionError{Key: "partition_by", Message: fmt.Sprintf("no column %q in the output%s", p, hint)}
		}
		if isPart[j] {
			return nil, &OptionError{Key: "partition_by", Message: fmt.Sprintf("column %q is named twice", p)}
		}
		isPart[j] = true
		s.partIdx = append(s.partIdx, j)
	}
	for i, f := range fields {
		if !isPart[i] {
			s.dataIdx = append(s.dataIdx, i)
			s.dataFields = append(s.dataFields, f)
		}
	}
	if len(s.dataFields) == 0 {
		return nil, &OptionError{Key: "partition_by", Message: "leaves no column to write into the files"}
	}
	if err := checkWritable(&opts, s.dataFields); err != nil {
		return nil, err
	}
	s.dataSchema = ArrowSchema(s.dataFields)
	if err := s.recover(ctx); err != nil {
		return nil, fmt.Errorf("recovering %s: %w", fs.URI(s.dir), err)
	}
	if opts.Mode == ModeErrorIfExists {
		if err := s.checkEmpty(ctx); err != nil {
			return nil, err
		}
	}
	s.runID = newRunID()
	s.staging = s.dir + stagingPrefix + s.runID + "/"
	return s, nil
}

// OpenPush opens a sink that pushes rows into a file stream's directory
// (or S3 prefix): the rows go into one new file, written under the hidden
// staging directory and moved into place at Commit, so that a stream
// reader, which skips names starting with '_' or '.', sees the whole file
// or nothing. A push writes no _SUCCESS manifest: a stream's directory is
// read by listing, and a manifest would hide the files other producers
// drop there. Partitioning and the mode of opts are ignored (a push
// appends). A push of no rows writes no file.
func (c *FileConnector) OpenPush(ctx context.Context, opts Options, fields []Field) (*Sink, error) {
	opts.PartitionBy = nil
	opts.Mode = ModeAppend
	s, err := c.OpenSink(ctx, opts, fields)
	if err != nil {
		return nil, err
	}
	s.push = true
	return s, nil
}

// newRunID returns a sortable, unique run id: UTC time and random bits.
func newRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405.000000Z") + "-" + hex.EncodeToString(b[:])
}

// RunID is the id of the sink's run, part of its file names.
func (s *Sink) RunID() string { return s.runID }

func (s *Sink) checkEmpty(ctx context.Context) error {
	m, err := readManifest(ctx, s.fs, s.dir)
	if err != nil {
		return err
	}
	vis, err := s.visible(ctx)
	if err != nil {
		return err
	}
	if (m != nil && len(m.Files) > 0) || len(vis) > 0 {
		return fmt.Errorf("sink path %s already holds output (mode = 'error_if_exists')", s.fs.URI(s.dir))
	}
	return nil
}

// visible returns the relative names of the visible files under the path.
func (s *Sink) visible(ctx context.Context) ([]string, error) {
	all, err := s.fs.List(ctx, s.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range all {
		rel := strings.TrimPrefix(f.Name, s.dir)
		if !hidden(rel) {
			out = append(out, rel)
		}
	}
	return out, nil
}

// currentFiles returns the files the path's output holds now: the
// manifest's (cur), or without one every visible file but those in skip,
// of unknown rows and size.
func (s *Sink) currentFiles(ctx context.Context, cur *Manifest, skip map[string]bool) ([]ManifestFile, error) {
	if cur != nil {
		return slices.Clone(cur.Files), nil
	}
	vis, err := s.visible(ctx)
	if err != nil {
		return nil, err
	}
	var files []ManifestFile
	for _, rel := range vis {
		if !skip[rel] {
			files = append(files, ManifestFile{Path: rel, Rows: -1, Bytes: -1})
		}
	}
	return files, nil
}

// Write writes a batch whose columns are the sink's fields.
func (s *Sink) Write(ctx context.Context, rec arrow.Record) (err error) {
	defer recoverErr(&err, s.where())
	if s.state != 0 {
		return errors.New("write to a sink that is committed or aborted")
	}
	if int(rec.NumCols()) != len(s.fields) {
		return fmt.Errorf("batch has %d columns, the sink %d", rec.NumCols(), len(s.fields))
	}
	for i, f := range s.fields {
		if !arrow.TypeEqual(rec.Column(i).DataType(), f.Type.Arrow()) {
			return fmt.Errorf("column %q: batch type %s, sink type %s", f.Name, rec.Column(i).DataType(), f.Type)
		}
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if s.kafka != nil {
		err := s.kafka.write(ctx, rec, s.rows)
		s.rows += rec.NumRows()
		return err
	}
	s.rows += rec.NumRows()
	if len(s.partIdx) == 0 {
		return s.writeTo(ctx, "", s.project(rec))
	}
	// Group the rows by partition directory.
	n := int(rec.NumRows())
	keys := make([]string, n)
	groups := map[string][]int64{}
	var order []string
	var buf []byte
	for i := 0; i < n; i++ {
		buf = buf[:0]
		for _, p := range s.partIdx {
			f := s.fields[p]
			buf = append(buf, escapePartition(f.Name)...)
			buf = append(buf, '=')
			col := rec.Column(p)
			if col.IsNull(i) {
				buf = append(buf, hiveNull...)
			} else {
				buf = append(buf, escapePartition(string(appendValue(nil, f.Type, col, i)))...)
			}
			buf = append(buf, '/')
		}
		k := string(buf)
		keys[i] = k
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], int64(i))
	}
	data := s.project(rec)
	defer data.Release()
	if len(order) == 1 {
		data.Retain()
		return s.writeTo(ctx, order[0], data)
	}
	for _, k := range order {
		sub, err := takeRows(ctx, s.mem, data, groups[k])
		if err != nil {
			return err
		}
		if err := s.writeTo(ctx, k, sub); err != nil {
			return err
		}
	}
	return nil
}

// project returns the data columns of rec (a new reference).
func (s *Sink) project(rec arrow.Record) arrow.Record {
	cols := make([]arrow.Array, len(s.dataIdx))
	for k, i := range s.dataIdx {
		cols[k] = rec.Column(i)
	}
	return array.NewRecord(s.dataSchema, cols, rec.NumRows())
}

// takeRows returns the rows of rec at the given indexes.
func takeRows(ctx context.Context, mem memory.Allocator, rec arrow.Record, rows []int64) (arrow.Record, error) {
	ib := array.NewInt64Builder(mem)
	ib.AppendValues(rows, nil)
	idx := ib.NewArray()
	ib.Release()
	defer idx.Release()
	ctx = compute.WithAllocator(ctx, mem)
	cols := make([]arrow.Array, rec.NumCols())
	for k := range cols {
		a, err := compute.TakeArray(ctx, rec.Column(k), idx)
		if err != nil {
			for _, c := range cols[:k] {
				c.Release()
			}
			return nil, err
		}
		cols[k] = a
	}
	out := array.NewRecord(rec.Schema(), cols, int64(len(rows)))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// writeTo writes a batch of data columns (and releases it) into the
// staged file of the partition directory dir.
func (s *Sink) writeTo(ctx context.Context, dir string, rec arrow.Record) error {
	defer rec.Release()
	f, err := s.file(ctx, dir)
	if err != nil {
		return err
	}
	if err := f.w.write(rec); err != nil {
		return fmt.Errorf("write %s: %w", s.fs.URI(s.staging+f.rel), err)
	}
	f.rows += rec.NumRows()
	return nil
}

// file returns the open staged file of a partition directory.
func (s *Sink) file(ctx context.Context, dir string) (*sinkFile, error) {
	if f := s.files[dir]; f != nil {
		return f, nil
	}
	rel := fmt.Sprintf("%spart-%s-%05d%s", dir, s.runID, len(s.order), fileExtension(&s.opts))
	w, err := s.fs.Create(ctx, s.staging+rel)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", s.fs.URI(s.staging+rel), err)
	}
	cw := &countingWriter{w: w}
	fw, err := newFormatWriter(s.mem, &s.opts, s.dataFields, cw)
	if err != nil {
		w.Abort()
		return nil, err
	}
	f := &sinkFile{rel: rel, w: fw, cw: cw}
	s.files[dir] = f
	s.order = append(s.order, dir)
	return f, nil
}

func (s *Sink) step(name string) error {
	if s.hook != nil {
		return s.hook(name)
	}
	return nil
}

// Commit makes the output visible (see Sink for the protocol) and returns
// the manifest it published. On an error before the commit point the
// output is discarded as by Abort.
func (s *Sink) Commit(ctx context.Context) (m *Manifest, err error) {
	if s.state != 0 {
		return nil, errors.New("commit of a sink that is committed or aborted")
	}
	if _, err := s.Prepare(ctx); err != nil {
		return nil, err
	}
	return s.Publish(ctx)
}

// Prepare does steps 1 to 3 of the commit protocol (see Sink): the files
// are closed and the new manifest is staged, but nothing is visible yet.
// After Prepare, Publish makes the output visible; Abort discards it. A
// process that records the run id (RunID) durably after Prepare can, after
// a crash, publish the prepared run with FileConnector.PublishStaged
// instead of letting the next OpenSink roll it back: this is how the
// stream runtime commits sink output and its checkpoint together.
func (s *Sink) Prepare(ctx context.Context) (m *Manifest, err error) {
	defer recoverErr(&err, s.where())
	if s.state != 0 {
		return nil, errors.New("prepare of a sink that is committed, prepared or aborted")
	}
	defer func() {
		if err != nil {
			s.Abort(context.WithoutCancel(ctx))
		}
	}()
	if s.kafka != nil {
		return s.prepareKafka(ctx)
	}
	if s.push {
		return s.preparePush()
	}
	// An unpartitioned output always has a file, so that an empty result
	// still carries its schema (Parquet) or header (CSV).
	if len(s.partIdx) == 0 && len(s.order) == 0 {
		if _, err := s.file(ctx, ""); err != nil {
			return nil, err
		}
	}
	newFiles := make([]ManifestFile, 0, len(s.order))
	for _, dir := range s.order {
		f := s.files[dir]
		if err := f.w.close(); err != nil {
			return nil, fmt.Errorf("write %s: %w", s.fs.URI(s.staging+f.rel), err)
		}
		f.w = nil
		newFiles = append(newFiles, ManifestFile{Path: f.rel, Rows: f.rows, Bytes: f.cw.n, RunID: s.runID})
	}
	if err := s.step("closed"); err != nil {
		return nil, err
	}
	old, err := readManifest(ctx, s.fs, s.dir)
	if err != nil {
		return nil, err
	}
	vis, err := s.visible(ctx)
	if err != nil {
		return nil, err
	}
	if s.opts.Mode == ModeErrorIfExists && ((old != nil && len(old.Files) > 0) || len(vis) > 0) {
		return nil, fmt.Errorf("sink path %s already holds output (mode = 'error_if_exists')", s.fs.URI(s.dir))
	}
	m = &Manifest{Version: 1, RunID: s.runID, Mode: s.opts.Mode.String(), Format: s.opts.Format}
	if s.opts.Mode == ModeAppend {
		if old != nil {
			m.Files = append(m.Files, old.Files...)
		} else {
			for _, rel := range vis {
				m.Files = append(m.Files, ManifestFile{Path: rel, Rows: -1, Bytes: -1})
			}
		}
	}
	m.Files = append(m.Files, newFiles...)
	for _, f := range m.Files {
		if f.Rows > 0 {
			m.Rows += f.Rows
		}
	}
	if err := s.writeManifest(ctx, s.staging+stagedManifestName, m); err != nil {
		return nil, err
	}
	if old == nil {
		initial := &Manifest{Version: 1, Mode: "initial", Format: s.opts.Format, CommittedAt: now()}
		for _, rel := range vis {
			initial.Files = append(initial.Files, ManifestFile{Path: rel, Rows: -1, Bytes: -1})
		}
		if err := s.publish(ctx, initial); err != nil {
			return nil, err
		}
	}
	if err := s.step("staged"); err != nil {
		return nil, err
	}
	s.prepared = m
	s.state = 3
	return m, nil
}

// Publish does steps 4 to 7 of the commit protocol for a prepared sink
// and returns the manifest it published. On an error before the commit
// point the output is discarded as by Abort.
func (s *Sink) Publish(ctx context.Context) (m *Manifest, err error) {
	defer recoverErr(&err, s.where())
	if s.state != 3 {
		return nil, errors.New("publish of a sink that is not prepared")
	}
	if s.kafka != nil {
		return s.publishKafka(ctx)
	}
	if s.push {
		return s.publishPush(ctx)
	}
	m = s.prepared
	published := false
	var moved []string
	defer func() {
		if err != nil && !published {
			// Take back the files already moved into place, then the
			// staging directory; the old _SUCCESS does not list them.
			cctx := context.WithoutCancel(ctx)
			for _, rel := range moved {
				s.fs.Remove(cctx, s.dir+rel)
			}
			if _, ok := s.fs.(LocalFS); ok && len(moved) > 0 {
				removeEmptyDirs(s.dir)
			}
			s.state = 0
			s.Abort(cctx)
		}
	}()
	i := 0
	for _, f := range m.Files {
		if f.RunID != s.runID {
			continue
		}
		moved = append(moved, f.Path) // before: a failed S3 move may have copied
		if err := s.moveIntoPlace(ctx, f.Path); err != nil {
			return nil, err
		}
		i++
		if err := s.step(fmt.Sprintf("moved %d", i)); err != nil {
			return nil, err
		}
	}
	m.CommittedAt = now()
	if err := s.publish(ctx, m); err != nil {
		return nil, err
	}
	published = true
	s.state = 1
	s.release()
	if err := s.step("published"); err != nil {
		return m, err
	}
	if err := s.finish(ctx, m); err != nil {
		return m, fmt.Errorf("committed, but cleaning up failed (the next run finishes it): %w", err)
	}
	return m, nil
}

// preparePush closes a push's file; its manifest, which Prepare returns
// and nothing writes, lists it.
func (s *Sink) preparePush() (*Manifest, error) {
	m := &Manifest{Version: 1, RunID: s.runID, Mode: ModeAppend.String(), Format: s.opts.Format}
	for _, dir := range s.order {
		f := s.files[dir]
		if err := f.w.close(); err != nil {
			return nil, fmt.Errorf("write %s: %w", s.fs.URI(s.staging+f.rel), err)
		}
		f.w = nil
		m.Files = append(m.Files, ManifestFile{Path: f.rel, Rows: f.rows, Bytes: f.cw.n, RunID: s.runID})
		m.Rows += f.rows
	}
	s.prepared = m
	s.state = 3
	return m, nil
}

// publishPush moves a push's file into place (local: one rename; S3: one
// server-side copy, which creates the object whole) and removes the
// staging directory.
func (s *Sink) publishPush(ctx context.Context) (m *Manifest, err error) {
	m = s.prepared
	var moved []string
	defer func() {
		if err != nil && s.state != 1 {
			cctx := context.WithoutCancel(ctx)
			for _, rel := range moved {
				s.fs.Remove(cctx, s.dir+rel)
			}
			s.state = 0
			s.Abort(cctx)
		}
	}()
	for _, f := range m.Files {
		moved = append(moved, f.Path)
		if err := s.moveIntoPlace(ctx, f.Path); err != nil {
			return nil, err
		}
	}
	m.CommittedAt = now()
	s.state = 1
	s.release()
	if err := s.fs.RemoveAll(ctx, s.staging); err != nil {
		return m, fmt.Errorf("pushed, but removing %s failed (the next push removes it): %w", s.fs.URI(s.staging), err)
	}
	return m, nil
}

// PublishStaged finishes the commit of a run that Sink.Prepare staged at
// the sink path of opts and a crash interrupted: the staged files still in
// staging are moved into place, the staged manifest is published and the
// staging directory removed. A run already published is only cleaned up;
// a run of which nothing is left (published and cleaned up) is no error.
// Call it before OpenSink on the path, which would roll the run back.
func (c *FileConnector) PublishStaged(ctx context.Context, opts Options, runID string) (err error) {
	defer recoverErr(&err, opts.Path)
	fs, name, err := c.Resolve(ctx, opts.Path)
	if err != nil {
		return err
	}
	dir := dirName(name)
	s := &Sink{opts: opts, fs: fs, dir: dir, runID: runID, staging: dir + stagingPrefix + runID + "/"}
	cur, err := readManifest(ctx, fs, dir)
	if err != nil {
		return err
	}
	if cur != nil && cur.RunID == runID {
		return s.finish(ctx, cur)
	}
	staged, err := readManifestFile(ctx, fs, s.staging+stagedManifestName)
	if err != nil {
		return err
	}
	if staged == nil {
		if cur == nil {
			return fmt.Errorf("run %s was prepared at %s but neither its staging nor its manifest is there", runID, fs.URI(dir))
		}
		for _, f := range cur.Files {
			if f.RunID == runID {
				return nil // published, and a later run's manifest lists it
			}
		}
		return fmt.Errorf("run %s was prepared at %s but neither its staging nor its manifest is there", runID, fs.URI(dir))
	}
	for _, f := range staged.Files {
		if f.RunID != runID {
			continue
		}
		if err := s.moveIfStaged(ctx, f.Path); err != nil {
			return err
		}
	}
	staged.CommittedAt = now()
	if err := s.publish(ctx, staged); err != nil {
		return err
	}
	return s.finish(ctx, staged)
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// finish does steps 6 and 7 for a published manifest.
func (s *Sink) finish(ctx context.Context, m *Manifest) error {
	if m.Mode == ModeOverwrite.String() {
		keep := map[string]bool{}
		for _, f := range m.Files {
			keep[f.Path] = true
		}
		vis, err := s.visible(ctx)
		if err != nil {
			return err
		}
		for _, rel := range vis {
			if !keep[rel] {
				if err := s.fs.Remove(ctx, s.dir+rel); err != nil {
					return err
				}
			}
		}
		if _, ok := s.fs.(LocalFS); ok {
			removeEmptyDirs(s.dir)
		}
		if err := s.step("deleted"); err != nil {
			return err
		}
	}
	return s.fs.RemoveAll(ctx, s.dir+stagingPrefix+m.RunID+"/")
}

func (s *Sink) writeManifest(ctx context.Context, name string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteAll(ctx, s.fs, name, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", s.fs.URI(name), err)
	}
	return nil
}

// publish replaces <path>/_SUCCESS atomically.
func (s *Sink) publish(ctx context.Context, m *Manifest) error {
	final := s.dir + manifestName
	// Readers through this connector list the directory afresh.
	defer s.c.metaCache().forgetListing(s.fs.URI(s.dir))
	if _, ok := s.fs.(LocalFS); !ok {
		return s.writeManifest(ctx, final, m)
	}
	tmp := final + ".tmp-" + s.runID
	if err := s.writeManifest(ctx, tmp, m); err != nil {
		return err
	}
	if err := s.fs.Rename(ctx, tmp, final); err != nil {
		return fmt.Errorf("publish %s: %w", s.fs.URI(final), err)
	}
	return nil
}

// Abort discards the run's output: the staged files are removed and the
// previous output stays as it was. It does nothing after Commit succeeded.
func (s *Sink) Abort(ctx context.Context) (err error) {
	defer recoverErr(&err, s.where())
	if s.state != 0 && s.state != 3 {
		return nil
	}
	s.state = 2
	s.release()
	if s.kafka != nil {
		s.kafka.txn.abort(ctx)
		return nil
	}
	for _, dir := range s.order {
		if f := s.files[dir]; f.w != nil {
			f.w.abort()
			f.w = nil
		}
	}
	return s.fs.RemoveAll(ctx, s.staging)
}

// recover finishes or rolls back the runs whose staging directories are
// left under the path (see Sink).
func (s *Sink) recover(ctx context.Context) error {
	kids, err := s.fs.Children(ctx, s.dir)
	if err != nil {
		return err
	}
	var runs []string
	for _, k := range kids {
		if strings.HasPrefix(k, stagingPrefix) && strings.HasSuffix(k, "/") {
			runs = append(runs, strings.TrimSuffix(strings.TrimPrefix(k, stagingPrefix), "/"))
		}
		if strings.HasPrefix(k, manifestName+".tmp-") {
			if err := s.fs.Remove(ctx, s.dir+k); err != nil {
				return err
			}
		}
	}
	sort.Strings(runs)
	if len(runs) == 0 {
		return nil
	}
	cur, err := readManifest(ctx, s.fs, s.dir)
	if err != nil {
		return err
	}
	for _, run := range runs {
		if s.c != nil && s.c.isHeld(run) {
			continue // a live, prepared run of this process
		}
		staging := s.dir + stagingPrefix + run + "/"
		if cur != nil && cur.RunID == run {
			if err := s.finish(ctx, cur); err != nil {
				return err
			}
			continue
		}
		staged, err := readManifestFile(ctx, s.fs, staging+stagedManifestName)
		if err != nil {
			return err
		}
		if staged != nil {
			listed := map[string]bool{}
			if cur != nil {
				for _, f := range cur.Files {
					listed[f.Path] = true
				}
			}
			for _, f := range staged.Files {
				if f.RunID == run && !listed[f.Path] {
					if err := s.fs.Remove(ctx, s.dir+f.Path); err != nil {
						return err
					}
				}
			}
			if _, ok := s.fs.(LocalFS); ok {
				removeEmptyDirs(s.dir)
			}
		}
		if err := s.fs.RemoveAll(ctx, staging); err != nil {
			return err
		}
	}
	return nil
}

// readManifestFile reads a manifest from a file; nil, nil when it does not exist.
func readManifestFile(ctx context.Context, fs FS, name string) (*Manifest, error) {
	data, err := ReadAll(ctx, fs, name)
	if err != nil {
		if errors.Is(err, ErrNotExist) || isS3NotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", fs.URI(name), err)
	}
	return &m, nil
}

// Hold keeps the staging directory of a prepared run from the recovery
// that OpenSink does through the same FileConnector, until PublishAll,
// Publish or Abort: a transaction block holds its staged writes while
// other statements open sinks on the same path.
func (s *Sink) Hold() {
	if s.c == nil || s.held {
		return
	}
	s.held = true
	s.c.hold(s.runID, true)
}

// release ends a Hold.
func (s *Sink) release() {
	if s.held {
		s.held = false
		s.c.hold(s.runID, false)
	}
}

// Location is the URI of the sink's directory (kafka://brokers/topic for
// a push into a Kafka stream).
func (s *Sink) Location() string { return s.where() }

// where is the sink's location.
func (s *Sink) where() string {
	if s.kafka != nil {
		return "kafka://" + s.kafka.txn.brokers + "/" + s.kafka.opts.Topic
	}
	return s.fs.URI(s.dir)
}

// Overwrites reports whether the sink replaces the path's output (mode
// overwrite) rather than adding to it.
func (s *Sink) Overwrites() bool { return s.opts.Mode == ModeOverwrite }

// StagedFiles returns the files of a prepared run, still in its staging
// directory, in the form ScanSpec.Files takes: the writer can read its own
// output before it is published. Nil before Prepare.
func (s *Sink) StagedFiles() []SourceFile {
	if s.state != 3 || s.prepared == nil {
		return nil
	}
	var out []SourceFile
	for _, f := range s.prepared.Files {
		if f.RunID != s.runID {
			continue
		}
		out = append(out, SourceFile{FileInfo: FileInfo{Name: s.staging + f.Path, Size: f.Bytes},
			Rel: f.Path, Partitions: partitionsOf(f.Path)})
	}
	return out
}

// PublishAll publishes prepared sinks of one path, in order, as one
// commit, and returns the manifest it published. Unlike Publish, which
// publishes the manifest Prepare computed, it computes the new manifest
// now: the path's current manifest (its visible files when it has none),
// to which each sink in turn adds its files, an overwriting sink first
// dropping every file before it. So runs that other writers published
// since the sinks were prepared are kept by an append and replaced by an
// overwrite. The caller keeps other writers of the path out while
// PublishAll runs.
//
// The commit point is the one write of _SUCCESS; the files move into
// place before it (see Sink). On an error before it every sink is aborted
// and the path's output is as it was; after it the sinks are published
// and a failed clean-up is finished by the next OpenSink on the path.
func PublishAll(ctx context.Context, sinks []*Sink) (m *Manifest, err error) {
	if len(sinks) == 0 {
		return nil, errors.New("publish of no sinks")
	}
	last := sinks[len(sinks)-1]
	defer recoverErr(&err, last.fs.URI(last.dir))
	for _, s := range sinks {
		if s.state != 3 {
			return nil, errors.New("publish of a sink that is not prepared")
		}
		if s.fs.URI(s.dir) != last.fs.URI(last.dir) {
			return nil, fmt.Errorf("publish of sinks of different paths (%s, %s) as one commit", s.fs.URI(s.dir), last.fs.URI(last.dir))
		}
	}
	published := false
	type move struct {
		s   *Sink
		rel string
	}
	var moved []move
	defer func() {
		if err != nil && !published {
			cctx := context.WithoutCancel(ctx)
			for _, mv := range moved {
				mv.s.fs.Remove(cctx, mv.s.dir+mv.rel)
			}
			if _, ok := last.fs.(LocalFS); ok && len(moved) > 0 {
				removeEmptyDirs(last.dir)
			}
			for _, s := range sinks {
				s.Abort(cctx)
			}
		}
	}()
	cur, err := readManifest(ctx, last.fs, last.dir)
	if err != nil {
		return nil, err
	}
	files, err := last.currentFiles(ctx, cur, nil)
	if err != nil {
		return nil, err
	}
	overwrite := false
	for _, s := range sinks {
		switch s.opts.Mode {
		case ModeOverwrite:
			files, overwrite = nil, true
		case ModeErrorIfExists:
			if len(files) > 0 {
				return nil, fmt.Errorf("sink path %s already holds output (mode = 'error_if_exists')", s.fs.URI(s.dir))
			}
		}
		for _, f := range s.prepared.Files {
			if f.RunID == s.runID {
				files = append(files, f)
			}
		}
	}
	m = &Manifest{Version: 1, RunID: last.runID, Mode: ModeAppend.String(), Format: last.opts.Format, Files: files}
	if overwrite {
		m.Mode = ModeOverwrite.String()
	}
	for _, f := range m.Files {
		if f.Rows > 0 {
			m.Rows += f.Rows
		}
	}
	for _, s := range sinks {
		for _, f := range s.prepared.Files {
			if f.RunID != s.runID {
				continue
			}
			moved = append(moved, move{s, f.Path})
			if err := s.moveIntoPlace(ctx, f.Path); err != nil {
				return nil, err
			}
		}
	}
	if err := last.step("moved"); err != nil {
		return nil, err
	}
	m.CommittedAt = now()
	if err := last.publish(ctx, m); err != nil {
		return nil, err
	}
	published = true
	for _, s := range sinks {
		s.state = 1
		s.release()
	}
	// The last run's staging directory goes last: a crash before then
	// leaves it for recovery to finish the overwrite (see Sink).
	for _, s := range sinks[:len(sinks)-1] {
		if err := s.fs.RemoveAll(ctx, s.staging); err != nil {
			return m, fmt.Errorf("committed, but cleaning up failed (the next run finishes it): %w", err)
		}
	}
	if err := last.finish(ctx, m); err != nil {
		return m, fmt.Errorf("committed, but cleaning up failed (the next run finishes it): %w", err)
	}
	return m, nil
}

// PublishStagedAll finishes, after a crash, a PublishAll of the prepared
// runs runIDs (in the order given) at the sink path of opts: a caller that
// recorded the run ids durably before PublishAll calls it before anything
// opens a sink on the path (OpenSink would roll the runs back). When the
// path's manifest already lists a file of the last run, the runs were
// published and only their staging directories are cleaned up. Otherwise
// the new manifest is computed as PublishAll does, from the path's
// manifest and each run's staged manifest (its mode and files), the files
// still in staging are moved into place and the manifest is published.
func (c *FileConnector) PublishStagedAll(ctx context.Context, opts Options, runIDs []string) (err error) {
	defer recoverErr(&err, opts.Path)
	if len(runIDs) == 0 {
		return nil
	}
	fs, name, err := c.Resolve(ctx, opts.Path)
	if err != nil {
		return err
	}
	dir := dirName(name)
	sinkOf := func(run string) *Sink {
		return &Sink{c: c, opts: opts, fs: fs, dir: dir, runID: run, staging: dir + stagingPrefix + run + "/"}
	}
	last := sinkOf(runIDs[len(runIDs)-1])
	cur, err := readManifest(ctx, fs, dir)
	if err != nil {
		return err
	}
	if cur != nil {
		published := cur.RunID == last.runID
		for _, f := range cur.Files {
			published = published || f.RunID == last.runID
		}
		if published {
			for _, run := range runIDs[:len(runIDs)-1] {
				if err := fs.RemoveAll(ctx, sinkOf(run).staging); err != nil {
					return err
				}
			}
			if cur.RunID == last.runID {
				return last.finish(ctx, cur)
			}
			return fs.RemoveAll(ctx, last.staging)
		}
	}
	staged := make([]*Manifest, len(runIDs))
	own := map[string]bool{}
	for i, run := range runIDs {
		sm, err := readManifestFile(ctx, fs, sinkOf(run).staging+stagedManifestName)
		if err != nil {
			return err
		}
		if sm == nil {
			return fmt.Errorf("run %s was prepared at %s but its staging is gone: it cannot be published", run, fs.URI(dir))
		}
		staged[i] = sm
		for _, f := range sm.Files {
			if f.RunID == run {
				own[f.Path] = true
			}
		}
	}
	// Files of these runs moved in before the crash are added below.
	files, err := last.currentFiles(ctx, cur, own)
	if err != nil {
		return err
	}
	overwrite := false
	for i, run := range runIDs {
		if staged[i].Mode == ModeOverwrite.String() {
			files, overwrite = nil, true
		}
		s := sinkOf(run)
		for _, f := range staged[i].Files {
			if f.RunID != run {
				continue
			}
			files = append(files, f)
			if err := s.moveIfStaged(ctx, f.Path); err != nil {
				return err
			}
		}
	}
	m := &Manifest{Version: 1, RunID: last.runID, Mode: ModeAppend.String(), Format: opts.Format, Files: files, CommittedAt: now()}
	if overwrite {
		m.Mode = ModeOverwrite.String()
	}
	for _, f := range m.Files {
		if f.Rows > 0 {
			m.Rows += f.Rows
		}
	}
	if err := last.publish(ctx, m); err != nil {
		return err
	}
	for _, run := range runIDs[:len(runIDs)-1] {
		if err := fs.RemoveAll(ctx, sinkOf(run).staging); err != nil {
			return err
		}
	}
	return last.finish(ctx, m)
}

// moveIntoPlace moves the staged file rel of the sink's run to its place
// in the sink's directory.
func (s *Sink) moveIntoPlace(ctx context.Context, rel string) error {
	if err := s.fs.Rename(ctx, s.staging+rel, s.dir+rel); err != nil {
		return fmt.Errorf("move %s into place: %w", s.fs.URI(s.staging+rel), err)
	}
	return nil
}

// moveIfStaged is moveIntoPlace when finishing a run after a crash: a file
// no longer staged was moved before the crash.
func (s *Sink) moveIfStaged(ctx context.Context, rel string) error {
	if _, err := s.fs.Stat(ctx, s.staging+rel); err != nil {
		if errors.Is(err, ErrNotExist) || isS3NotFound(err) {
			return nil
		}
		return err
	}
	return s.moveIntoPlace(ctx, rel)
}
