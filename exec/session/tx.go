package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// A transaction block (BEGIN ... COMMIT) stages its writes instead of
// publishing them. Every INSERT, INSERT OVERWRITE, MERGE, CREATE TABLE AS
// and COPY FROM in the block writes its files and prepares them
// (connector.Sink.Prepare: the files are closed and the new manifest is
// staged, nothing is visible) and the sink is held (connector.Sink.Hold)
// so that other writers of the path leave its staging directory alone.
// Statements of the block that read a table or sink the block wrote read
// its published files and the block's staged ones (an INSERT OVERWRITE of
// the block hides what was before it). COMMIT publishes the staged writes,
// one connector.PublishAll per target: each target's writes commit as one
// manifest write. ROLLBACK, an error in the block and the end of the
// session discard them.
//
// Two blocks, or a block and a statement outside one, that write the same
// target both commit when the block only appends to it: the appends add
// up. A block that replaces the target's rows (INSERT OVERWRITE, MERGE)
// or checked them (a unique index) fails at COMMIT with 40001 when another
// writer committed to the target after the block first read or wrote it,
// and a block whose target was dropped or replaced meanwhile fails the
// same way: the block's writes are discarded, retry the transaction.
//
// SAVEPOINT name marks the block's writes so far; ROLLBACK TO SAVEPOINT
// name discards the writes staged after the mark (the savepoint stays,
// later ones go) and makes a failed block usable again; RELEASE SAVEPOINT
// name forgets the savepoint and those after it, keeping the writes. A
// statement that fails in a block with savepoints keeps the block's
// earlier writes staged (for a ROLLBACK TO); in a block without, they are
// discarded at once, as nothing can bring them back. CREATE and DROP are
// not undone by ROLLBACK TO, as they are not by ROLLBACK.

// codeSerialization is PostgreSQL's serialization_failure.
const codeSerialization = "40001"

// codeFailedBlock is PostgreSQL's in_failed_sql_transaction.
const codeFailedBlock = "25P02"

// txBlock is a session's open transaction block.
type txBlock struct {
	// begin is where the block's BEGIN is.
	begin parser.Position
	// readOnly is set by BEGIN READ ONLY: statements that write or change
	// the catalog fail with 25006.
	readOnly bool
	// implicit marks the implicit block of a script run with
	// ExecOptions.Implicit: it ends with the script (see implicitBlock).
	implicit bool
	// failed is set when a statement of the block failed: its writes are
	// discarded and COMMIT rolls back.
	failed bool
	// writes are the staged writes, in the order they ran.
	writes []*stagedWrite
	// nextSeq numbers the staged writes; savepoints are the open
	// savepoints, oldest first.
	nextSeq    int
	savepoints []savepoint
	// seen holds the version of each target when the block first read or
	// wrote it, by catalog key; guarded by mu (scans in parallel workers
	// record what they read).
	mu   sync.Mutex
	seen map[string]targetVersion
	// kafka holds, by bootstrap servers, the block's latest push into a
	// Kafka stream of that cluster: the block's later pushes there
	// produce in its Kafka transaction (see openKafkaPush).
	kafka map[string]*connector.Sink
}

// stagedWrite is one statement's prepared, unpublished output.
type stagedWrite struct {
	// seq orders the block's writes for ROLLBACK TO SAVEPOINT.
	seq       int
	key       string
	obj       catalog.Object
	sink      *connector.Sink
	overwrite bool
	// checked is set when the write was checked against the target's
	// unique indexes (the block's view of its rows matters).
	checked            bool
	rows, files, bytes int64
	// rs and counted are the run whose target summary counted the
	// write's rows, and those counts: a discard in that run takes them
	// back.
	rs      *runState
	counted TargetSummary
	// published is set when COMMIT published the write.
	published bool
}

// targetVersion counts the changes of one target in this engine: data
// goes up with every publish, gen when a table's files are dropped (DROP,
// CREATE [OR REPLACE] TABLE).
type targetVersion struct{ data, gen uint64 }

// targetVersion returns a target's version.
func (e *Engine) targetVersion(name string) targetVersion {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.versions[catalogKey(name)]
}

// bumpVersion notes a publish (gen false) or a drop of a target's files.
func (e *Engine) bumpVersion(name string, gen bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := catalogKey(name)
	v := e.versions[k]
	if gen {
		v.gen++
	} else {
		v.data++
	}
	e.versions[k] = v
}

// touch records the version of a target the open block reads or writes
// for the first time.
func (s *Session) touch(name string) {
	if s.tx == nil {
		return
	}
	k := catalogKey(name)
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	if _, ok := s.tx.seen[k]; !ok {
		s.tx.seen[k] = s.eng.targetVersion(name)
	}
}

// stagedFiles returns what a scan of target name reads in the open block
// when the block wrote it: whether it did, whether the published files are
// hidden by an overwrite of the block, and the staged files to read after
// them.
func (s *Session) stagedFiles(name string) (wrote, overwritten bool, files []connector.SourceFile) {
	if s.tx == nil {
		return false, false, nil
	}
	k := catalogKey(name)
	for _, w := range s.tx.writes {
		if w.key != k {
			continue
		}
		wrote = true
		if w.overwrite {
			overwritten, files = true, nil
		}
		files = append(files, w.sink.StagedFiles()...)
	}
	return wrote, overwritten, files
}

// InBlock reports whether a transaction block is open: BEGIN ran and
// neither COMMIT nor ROLLBACK since.
func (s *Session) InBlock() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tx != nil
}

// Rollback ends the open transaction block, if any, discarding its staged
// writes. The wire server calls it for a COMMIT or ROLLBACK it answers
// itself in a failed block.
func (s *Session) Rollback(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endBlock(ctx)
	s.setActivity("idle", "")
}

// endBlock discards the open block's writes and ends it.
func (s *Session) endBlock(ctx context.Context) {
	if s.tx != nil {
		s.tx.discard(ctx)
		s.tx = nil
	}
}

// discard aborts the block's staged writes: their files go away, and the
// run summary that counted them (when it is the running one) forgets
// their rows.
func (tx *txBlock) discard(ctx context.Context) {
	actx := context.WithoutCancel(ctx)
	for _, w := range tx.writes {
		if !w.published {
			w.sink.Abort(actx)
			w.uncount()
		}
	}
	tx.writes = nil
}

// uncount takes a discarded write's rows out of its run's summary.
func (w *stagedWrite) uncount() {
	if w.rs == nil || !w.rs.running {
		return
	}
	t := w.rs.targets[w.key]
	if t == nil {
		return
	}
	t.Inserted -= w.counted.Inserted
	t.Updated -= w.counted.Updated
	t.Deleted -= w.counted.Deleted
	if t.Inserted == 0 && t.Updated == 0 && t.Deleted == 0 && t.Commits == 0 {
		delete(w.rs.targets, w.key)
	}
	w.rs = nil
}

// countStaged gives the writes a statement staged (tx.writes[from:]) the
// counts the statement added to the run's target summaries (before holds
// the summaries' counts when the statement started).
func (tx *txBlock) countStaged(rs *runState, from int, before map[string]TargetSummary) {
	done := map[string]bool{}
	for _, w := range tx.writes[from:] {
		t := rs.targets[w.key]
		if t == nil || done[w.key] {
			continue
		}
		done[w.key] = true
		b := before[w.key]
		w.rs = rs
		w.counted = TargetSummary{Inserted: t.Inserted - b.Inserted, Updated: t.Updated - b.Updated, Deleted: t.Deleted - b.Deleted}
	}
}

// savepoint is a SAVEPOINT of a block: the writes numbered seq and
// after are the ones a ROLLBACK TO it discards.
type savepoint struct {
	name string
	seq  int
}

// fail marks the block failed. Without savepoints its writes are
// discarded at once (only COMMIT or ROLLBACK can follow); with savepoints
// they stay staged for a ROLLBACK TO SAVEPOINT.
func (tx *txBlock) fail(ctx context.Context) {
	tx.failed = true
	if len(tx.savepoints) == 0 {
		tx.discard(ctx)
	}
}

// codeNoActiveTx is PostgreSQL's no_active_sql_transaction.
const codeNoActiveTx = "25P01"

// savepointStmt runs SAVEPOINT, RELEASE SAVEPOINT and ROLLBACK TO
// SAVEPOINT (see txBlock).
func (r *stmtRun) savepointStmt(ctx context.Context, u *parser.Transaction) error {
	s := r.s
	name := u.Savepoint.Name
	what := map[string]string{"SAVEPOINT": "SAVEPOINT", "RELEASE": "RELEASE SAVEPOINT", "ROLLBACK TO": "ROLLBACK TO SAVEPOINT"}[u.Word]
	r.res.Tag = u.Word
	if u.Word == "ROLLBACK TO" {
		r.res.Tag = "ROLLBACK"
	}
	tx := s.tx
	if tx == nil || tx.implicit {
		// A savepoint in an implicit block could not survive its end at
		// the first error: PostgreSQL refuses it too.
		return &codeError{code: codeNoActiveTx, msg: what + " can only be used in transaction blocks"}
	}
	if u.Word == "SAVEPOINT" {
		tx.savepoints = append(tx.savepoints, savepoint{name: name, seq: tx.nextSeq})
		return nil
	}
	i := len(tx.savepoints) - 1
	for ; i >= 0 && tx.savepoints[i].name != name; i-- {
	}
	if i < 0 {
		return &codeError{code: "3B001", msg: fmt.Sprintf("savepoint %q does not exist", name)}
	}
	if u.Word == "RELEASE" {
		tx.savepoints = tx.savepoints[:i]
		return nil
	}
	sp := tx.savepoints[i]
	for _, w := range tx.writes {
		if w.seq >= sp.seq && !w.published && w.obj.Kind == catalog.ObjectStream && w.obj.Options["connector"] == "kafka" {
			// The block's pushes into Kafka share one Kafka transaction,
			// which cannot be undone in part.
			return &codeError{code: parser.CodeFeature, msg: fmt.Sprintf("ROLLBACK TO SAVEPOINT cannot undo the push into Kafka stream %q", w.obj.Name),
				detail: "the pushes of a transaction block into Kafka are one Kafka transaction; ROLLBACK the whole block"}
		}
	}
	tx.savepoints = tx.savepoints[:i+1]
	actx := context.WithoutCancel(ctx)
	tx.writes = slices.DeleteFunc(tx.writes, func(w *stagedWrite) bool {
		if w.seq >= sp.seq && !w.published {
			w.sink.Abort(actx)
			w.uncount()
			return true
		}
		return false
	})
	tx.failed = false
	return nil
}

// forget discards the block's staged writes of one target (a DROP or a
// CREATE TABLE of the block removes the target's files, staging included)
// and its version, so that the block's next use records the new one.
func (s *Session) forget(ctx context.Context, name string) {
	if s.tx == nil {
		return
	}
	k := catalogKey(name)
	actx := context.WithoutCancel(ctx)
	s.tx.writes = slices.DeleteFunc(s.tx.writes, func(w *stagedWrite) bool {
		if w.key == k {
			w.sink.Abort(actx)
			w.uncount()
			return true
		}
		return false
	})
	delete(s.tx.seen, k)
}

// writes reports whether a statement writes data or changes the catalog.
func writes(st planner.BoundStmt) bool {
	switch st := st.(type) {
	case *planner.InsertStmt, *planner.MergeStmt, *planner.CreateStmt, *planner.PipelineStmt,
		*planner.DropStmt, *planner.CreateIndexStmt, *planner.DropIndexStmt:
		return true
	case *planner.ExplainStmt:
		return st.Stmt.Analyze && writes(st.Inner)
	case *planner.UtilityStmt:
		switch st.Stmt.(type) {
		case *parser.PipelineCmd, *parser.Analyze:
			return true
		}
	}
	return false
}

// transaction runs BEGIN, COMMIT and ROLLBACK. Every isolation level runs
// as described at txBlock.
func (r *stmtRun) transaction(ctx context.Context, u *parser.Transaction) error {
	s := r.s
	word := u.Word
	r.res.Tag = word
	switch word {
	case "SAVEPOINT", "RELEASE", "ROLLBACK TO":
		return r.savepointStmt(ctx, u)
	case "BEGIN":
		switch {
		case s.tx == nil:
			s.tx = &txBlock{begin: r.info.Pos, readOnly: u.ReadOnly, seen: map[string]targetVersion{}}
		case s.tx.implicit:
			// The statements before it join the block, as in PostgreSQL.
			s.tx.implicit, s.tx.begin, s.tx.readOnly = false, r.info.Pos, u.ReadOnly
		}
		return nil
	case "ROLLBACK":
		s.endBlock(ctx)
		return nil
	}
	tx := s.tx
	if tx == nil {
		return nil
	}
	s.tx = nil
	if tx.failed {
		r.res.Tag = "ROLLBACK"
		tx.discard(ctx)
		return nil
	}
	return r.commitBlock(ctx, tx)
}

// A script run with ExecOptions.Implicit (a simple Query message of the
// wire protocol) that holds several statements runs them in an implicit
// transaction block when no block is open, as PostgreSQL does: their
// writes are staged and published together when the script ends without
// an error, and discarded when a statement fails. BEGIN in the script
// turns the implicit block into a regular one (the statements before it
// join it); COMMIT and ROLLBACK end it, and the statements after them run
// in a new implicit block. SAVEPOINT is refused in an implicit block
// (25P01). CREATE OR REPLACE TABLE ... AS of an existing table, which
// cannot run in a block, commits the implicit block so far and runs on
// its own.

// beginImplicit opens an implicit block when none is open.
func (s *Session) beginImplicit(pos parser.Position) {
	if s.tx == nil {
		s.tx = &txBlock{begin: pos, implicit: true, seen: map[string]targetVersion{}}
	}
}

// endImplicit ends the open implicit block, if any: it commits it when
// commit is set and the block did not fail, and discards it otherwise.
func (s *Session) endImplicit(ctx context.Context, rs *runState, commit bool) error {
	tx := s.tx
	if tx == nil || !tx.implicit {
		return nil
	}
	s.tx = nil
	if !commit || tx.failed {
		tx.discard(ctx)
		return nil
	}
	r := &stmtRun{s: s, rs: rs, res: &StmtResult{}, info: StmtInfo{Kind: "COMMIT", Pos: rs.src.Position(0)}}
	if err := r.commitBlock(ctx, tx); err != nil {
		return r.stmtError(err)
	}
	return nil
}

// runsAlone reports whether a statement cannot run in a block that
// stages writes: CREATE OR REPLACE TABLE ... AS of an existing table.
func (s *Session) runsAlone(st planner.BoundStmt) bool {
	cs, ok := st.(*planner.CreateStmt)
	if !ok || cs.Query == nil || cs.Object == nil || cs.Object.Kind != catalog.ObjectTable || cs.Mode != catalog.CreateOrReplace {
		return false
	}
	old, exists := s.eng.cat.Lookup(cs.Object.Name)
	return exists && old.Kind == catalog.ObjectTable
}

// commitBlock publishes a block's staged writes: it takes the write locks
// of the targets (in name order), checks for conflicting commits of other
// writers, then publishes each target's writes as one commit.
func (r *stmtRun) commitBlock(ctx context.Context, tx *txBlock) (err error) {
	eng := r.s.eng
	if len(tx.writes) == 0 {
		return nil
	}
	var keys []string
	groups := map[string][]*stagedWrite{}
	for _, w := range tx.writes {
		if _, ok := groups[w.key]; !ok {
			keys = append(keys, w.key)
		}
		groups[w.key] = append(groups[w.key], w)
	}
	locked := slices.Sorted(slices.Values(keys))
	for _, k := range locked {
		unlock := eng.lockTarget(k)
		defer unlock()
	}
	defer func() {
		if err != nil {
			tx.discard(ctx)
		}
	}()
	for _, k := range locked {
		ws := groups[k]
		if err := tx.conflict(eng, ws); err != nil {
			return err
		}
	}
	// Publishing is not cancelled half way: each target's publish is one
	// step, and the targets go one after the other. With several targets,
	// a record of the runs lets Open finish a COMMIT a crash interrupted.
	pctx := context.WithoutCancel(ctx)
	record := ""
	// A push into a stream is one file moved into place, which a crash
	// recovery could not publish without a manifest: streams stay out of
	// the record (a crash during COMMIT loses their staged files).
	var recorded []string
	for _, k := range keys {
		if groups[k][0].obj.Kind != catalog.ObjectStream {
			recorded = append(recorded, k)
		}
	}
	if len(recorded) > 1 {
		rec := &commitRecord{}
		for _, k := range recorded {
			ws := groups[k]
			t := commitTarget{Kind: ws[0].obj.Kind.String(), Name: ws[0].obj.Name}
			if ws[0].obj.Kind == catalog.ObjectSink {
				t.Options = ws[0].obj.Options
			}
			for _, w := range ws {
				t.Runs = append(t.Runs, w.sink.RunID())
			}
			rec.Targets = append(rec.Targets, t)
		}
		// Named after the first run it lists: unique.
		if record, err = eng.writeCommitRecord(rec, rec.Targets[0].Runs[0]); err != nil {
			return fmt.Errorf("recording the commit in %s: %w", eng.commitsDir(), err)
		}
	}
	defer func() {
		// Not deferred past a panic's recovery on purpose: a crash keeps
		// the record for Open.
		if record != "" && err != nil {
			os.Remove(record)
		}
	}()
	var done []string
	pubs := map[string]*connector.Manifest{}
	for _, k := range keys {
		ws := groups[k]
		obj := &ws[len(ws)-1].obj
		sinks := make([]*connector.Sink, len(ws))
		for i, w := range ws {
			sinks[i] = w.sink
		}
		var m *connector.Manifest
		var perr error
		if obj.Kind == catalog.ObjectStream {
			m, perr = publishPushes(pctx, sinks)
		} else {
			m, perr = connector.PublishAll(pctx, sinks)
		}
		if perr != nil && m == nil {
			if len(done) > 0 {
				return &codeError{code: "58030", msg: fmt.Sprintf("committing %s %q failed after %s committed: %v", obj.Kind, obj.Name, strings.Join(done, ", "), perr),
					detail: "the targets of a transaction block publish one after the other; the ones named committed, the others did not"}
			}
			return fmt.Errorf("committing %s %q: %w", obj.Kind, obj.Name, perr)
		}
		eng.bumpVersion(k, false)
		for _, w := range ws {
			w.published = true
		}
		pubs[k] = m
		done = append(done, fmt.Sprintf("%s %q", obj.Kind, obj.Name))
		for _, w := range ws {
			t := r.rs.target(&w.obj)
			t.Commits++
			t.FilesWritten += w.files
			t.BytesWritten += w.bytes
			r.res.FilesWritten += w.files
			r.res.BytesWritten += w.bytes
			switch w.obj.Kind {
			case catalog.ObjectSink:
				eng.noteCommit(w.obj.Name, w.files, w.rows, w.bytes)
			case catalog.ObjectTable:
				eng.noteTableWrite(pctx, &w.obj, w.rows, w.overwrite)
			}
		}
		if eng.commitHook != nil {
			eng.commitHook("published " + k)
		}
	}
	if record != "" {
		if rerr := os.Remove(record); rerr != nil {
			return fmt.Errorf("committed, but removing the commit record failed: %w", rerr)
		}
		record = ""
	}
	for _, k := range keys {
		obj := &groups[k][0].obj
		if obj.Kind == catalog.ObjectSink && obj.Options["catalog"] == "glue" {
			if gerr := registerGlue(pctx, eng, obj, pubs[k]); gerr != nil {
				return fmt.Errorf("sink %q committed its output, but registering it in the Glue Data Catalog failed (the next successful run registers it): %w", obj.Name, gerr)
			}
		}
	}
	return nil
}

// publishPushes moves the files of a block's pushes into a stream into
// place, one after the other. A failure leaves the pushes before it
// published (each is one file a running pipeline may have read already)
// and returns a nil manifest only when none was.
func publishPushes(ctx context.Context, sinks []*connector.Sink) (*connector.Manifest, error) {
	var m *connector.Manifest
	for i, sk := range sinks {
		pm, err := sk.Publish(ctx)
		if err != nil {
			for _, rest := range sinks {
				rest.Abort(ctx)
			}
			if m != nil {
				return m, fmt.Errorf("pushing into the stream after %d of its %d pushes: %w", i, len(sinks), err)
			}
			return nil, err
		}
		if m == nil {
			m = &connector.Manifest{Version: 1}
		}
		m.Files = append(m.Files, pm.Files...)
	}
	return m, nil
}

// conflict returns the serialization failure of a target's staged writes
// when another writer changed the target in a way they cannot be
// published over (see txBlock).
func (tx *txBlock) conflict(eng *Engine, ws []*stagedWrite) error {
	obj := &ws[0].obj
	seen, cur := tx.seen[ws[0].key], eng.targetVersion(obj.Name)
	if cur.gen != seen.gen {
		return &codeError{code: codeSerialization, msg: "could not serialize access due to concurrent update",
			detail: fmt.Sprintf("%s %q was dropped or replaced by another session after this transaction block first used it; the block's writes are discarded", obj.Kind, obj.Name)}
	}
	replaces := false
	for _, w := range ws {
		replaces = replaces || w.overwrite || w.checked
	}
	if replaces && cur.data != seen.data {
		return &codeError{code: codeSerialization, msg: "could not serialize access due to concurrent update",
			detail: fmt.Sprintf("another session committed a write to %s %q after this transaction block first used it, and the block replaces or checks its rows; the block's writes are discarded", obj.Kind, obj.Name)}
	}
	return nil
}

// stage prepares a writer's output as a staged write of the open block.
func (w *writer) stage(ctx context.Context, tx *txBlock) error {
	_, err := w.sink.Prepare(ctx)
	w.r.dropSink(w.sink)
	if err != nil {
		return fmt.Errorf("staging the output of %s %q: %w", w.obj.Kind, w.obj.Name, err)
	}
	w.sink.Hold()
	sw := &stagedWrite{seq: tx.nextSeq, key: catalogKey(w.obj.Name), obj: w.obj.Clone(), sink: w.sink, overwrite: w.overwrite,
		checked: len(w.keys) > 0, rows: w.rows}
	for _, f := range w.sink.StagedFiles() {
		sw.files++
		sw.bytes += f.Size
	}
	tx.nextSeq++
	tx.writes = append(tx.writes, sw)
	w.r.res.Staged = true
	return nil
}

// dropSink forgets a sink the statement no longer aborts on failure.
func (r *stmtRun) dropSink(sk *connector.Sink) {
	for i, s := range r.sinks {
		if s == sk {
			r.sinks = append(r.sinks[:i], r.sinks[i+1:]...)
			return
		}
	}
}

// errFailedBlock is the error of a statement in a failed block.
var errFailedBlock = &codeError{code: codeFailedBlock,
	msg: "current transaction is aborted, commands ignored until end of transaction block"}

// isBlockEnd reports whether a statement may run in a failed block:
// COMMIT, ROLLBACK and ROLLBACK TO SAVEPOINT.
func isBlockEnd(kind string) bool {
	return kind == "COMMIT" || kind == "ROLLBACK" || kind == "ROLLBACK TO"
}

// errNotInBlock refuses a statement that cannot run in a block.
func errNotInBlock(what string) error {
	return &codeError{code: "25001", msg: what + " cannot run inside a transaction block"}
}

// commitRecord is what a COMMIT of several targets writes to the data
// directory before it publishes the first one, and removes when the last
// is published: after a crash in between, Open publishes the rest
// (connector.FileConnector.PublishStagedAll), so that the block commits
// whole.
type commitRecord struct {
	Targets []commitTarget `json:"targets"`
}

// commitTarget is one target of a commitRecord: its prepared runs in
// order.
type commitTarget struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Options are a sink's options (a table's path is its directory).
	Options map[string]string `json:"options,omitempty"`
	Runs    []string          `json:"runs"`
}

// commitsDir holds the commit records.
func (e *Engine) commitsDir() string { return filepath.Join(e.dir, "commits") }

// writeCommitRecord writes a commit record durably and returns its path.
func (e *Engine) writeCommitRecord(rec *commitRecord, id string) (string, error) {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return "", err
	}
	dir := e.commitsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	final := filepath.Join(dir, id+".json")
	tmp := final + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return final, nil
}

// finishCommits publishes what the commits a crash interrupted left
// staged (see commitRecord) and removes their records.
func (e *Engine) finishCommits(ctx context.Context) error {
	dir := e.commitsDir()
	kids, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, k := range kids {
		path := filepath.Join(dir, k.Name())
		if strings.HasSuffix(k.Name(), ".tmp") {
			os.Remove(path) // never complete: its COMMIT published nothing
			continue
		}
		if !strings.HasSuffix(k.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var rec commitRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return fmt.Errorf("commit record %s: %w", path, err)
		}
		for _, t := range rec.Targets {
			var opts connector.Options
			if t.Kind == catalog.ObjectTable.String() {
				opts, err = tableOptions(e.tableDir(t.Name), connector.ModeAppend)
			} else {
				opts, err = connector.ParseOptions(t.Options, connector.RoleSink)
			}
			if err == nil {
				err = e.conn.PublishStagedAll(ctx, opts, t.Runs)
			}
			if err != nil {
				return fmt.Errorf("finishing the COMMIT a crash interrupted (%s %q, recorded in %s; remove the file to give the rest of that commit up): %w",
					t.Kind, t.Name, path, err)
			}
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}
