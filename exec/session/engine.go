package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/connector/glue"
	"github.com/etlc/etlc/exec/stream"
	"github.com/etlc/etlc/planner"
)

// Config configures an Engine.
type Config struct {
	// Connector configures the file connector (S3 endpoint, allocator).
	Connector connector.Config
	// MemoryLimit bounds the bytes one statement's hash tables, sort
	// buffers and aggregation state may hold (0: no limit).
	MemoryLimit int64
	// Threads is the number of workers parallel pipelines run in (0: the
	// number of CPUs); a session's threads setting overrides it.
	Threads int
	// Glue configures the registration of sinks with catalog = 'glue' in
	// the AWS Glue Data Catalog (endpoint, attempts, back-off).
	Glue glue.Config
	// PlanCache is how many compiled statements each session keeps for
	// running them again (0: DefaultPlanCache; negative: none). The
	// file connector's cache of Parquet footers and listings is
	// Connector.MetaCacheBytes.
	PlanCache int
}

// Engine runs scripts against one data directory. It is safe for
// concurrent use by several sessions; statements that write the same
// target run one at a time.
type Engine struct {
	dir  string
	cfg  Config
	cat  *catalog.Catalog
	conn *connector.FileConnector
	reg  *planner.Registry

	mu      sync.Mutex
	quar    map[string]*quarantine // by source key
	sources map[string]*SourceStats
	sinks   map[string]*SinkStats
	runs    []RunRecord
	locks   map[string]*sync.Mutex // by target key
	pipes   map[string]*stream.Status
	live    map[*Session]bool // wire sessions, for pg_stat_activity
	// versions count each target's publishes and drops, by key, for the
	// conflict checks of transaction blocks.
	versions map[string]targetVersion
	// commitHook, when set (tests), is called in a block's COMMIT after
	// each target is published; a panic there stands for a crash.
	commitHook func(step string)
	closed     bool
	// glue registers sinks in the Glue Data Catalog; made on first use.
	glue *glue.Registrar
	// kafka keeps the producers of pushes into Kafka streams for the next.
	kafka connector.KafkaProducers
	// expect holds the expectation counts of each pipeline's latest run.
	expect expectRegistry
	// pm runs the streaming pipelines in the background.
	pm pipelineManager
	// stmts counts finished statements for the metrics.
	stmts stmtMetrics
	// catalogGen goes up after every statement that may change the
	// catalog: it keys the sessions' plan caches (plancache.go).
	catalogGen atomic.Uint64
}

// Open opens (creating it when needed) the data directory dir: its catalog
// and run history. It first finishes the COMMIT of a transaction block
// that a crash interrupted (see commitRecord).
func Open(ctx context.Context, dir string, cfg Config) (*Engine, error) {
	if dir == "" {
		return nil, errors.New("session: no data directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("session: data directory %s: %w", dir, err)
	}
	cat, err := catalog.Open(ctx, abs)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		dir:      abs,
		cfg:      cfg,
		cat:      cat,
		conn:     connector.NewFileConnector(cfg.Connector),
		reg:      planner.NewRegistry(),
		quar:     map[string]*quarantine{},
		sources:  map[string]*SourceStats{},
		sinks:    map[string]*SinkStats{},
		locks:    map[string]*sync.Mutex{},
		versions: map[string]targetVersion{},
	}
	runs, err := loadRuns(e.runsPath())
	if err != nil {
		cat.Close()
		return nil, err
	}
	e.runs = runs
	if err := e.finishCommits(ctx); err != nil {
		cat.Close()
		return nil, fmt.Errorf("session: %w", err)
	}
	return e, nil
}

// glueRegistrar returns the engine's Glue registrar, making it on first use.
func (e *Engine) glueRegistrar(ctx context.Context) (*glue.Registrar, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.glue != nil {
		return e.glue, nil
	}
	r, err := glue.New(ctx, e.cfg.Glue)
	if err != nil {
		return nil, err
	}
	e.glue = r
	return r, nil
}

// Dir is the engine's data directory (absolute).
func (e *Engine) Dir() string { return e.dir }

// Catalog is the engine's catalog.
func (e *Engine) Catalog() *catalog.Catalog { return e.cat }

// Connector is the engine's file connector.
func (e *Engine) Connector() *connector.FileConnector { return e.conn }

// Close stops the pipelines running in the background (each takes a last
// checkpoint), then closes the catalog and releases the quarantine
// relations.
func (e *Engine) Close() error {
	stopErr := e.StopPipelines(context.Background())
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	for _, q := range e.quar {
		q.reset()
	}
	e.mu.Unlock()
	e.kafka.Close()
	return errors.Join(stopErr, e.cat.Close())
}

// tableDir is the directory of a managed table's files, with a trailing
// slash (the connector's directory convention).
func (e *Engine) tableDir(name string) string {
	return filepath.Join(e.dir, "tables", escapeName(catalogKey(name))) + string(filepath.Separator)
}

func (e *Engine) runsPath() string { return filepath.Join(e.dir, "runs.jsonl") }

// catalogKey is the catalog's lookup key of a name.
func catalogKey(name string) string {
	return strings.TrimPrefix(strings.ToLower(name), "public.")
}

// escapeName makes an object name safe as one directory name: letters,
// digits, '_' and '-' stay, everything else becomes %XX.
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// lockTarget serializes the statements that write one target; the
// returned function unlocks.
func (e *Engine) lockTarget(name string) func() {
	k := catalogKey(name)
	e.mu.Lock()
	l := e.locks[k]
	if l == nil {
		l = &sync.Mutex{}
		e.locks[k] = l
	}
	e.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// dropTableData removes a managed table's files.
func (e *Engine) dropTableData(name string) error {
	e.bumpVersion(name, true)
	if err := os.RemoveAll(e.tableDir(name)); err != nil {
		return fmt.Errorf("removing the files of table %q: %w", name, err)
	}
	return nil
}

// SourceStats count what the engine read from one source since it opened.
type SourceStats struct {
	Name       string
	Scans      int
	FilesRead  int64
	RowsRead   int64
	BytesRead  int64
	BadRows    int64
	LastReadAt time.Time
}

// SinkStats count what the engine wrote to one sink since it opened.
type SinkStats struct {
	Name         string
	Commits      int
	FilesWritten int64
	RowsWritten  int64
	BytesWritten int64
	LastCommitAt time.Time
}

// noteRead adds a finished or abandoned scan's counts to the engine's
// statistics.
func (e *Engine) noteRead(name string, files, rows, bytes, bad int64, complete bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := catalogKey(name)
	s := e.sources[k]
	if s == nil {
		s = &SourceStats{Name: name}
		e.sources[k] = s
	}
	s.Scans++
	s.FilesRead += files
	s.RowsRead += rows
	s.BytesRead += bytes
	if complete {
		s.BadRows = bad
	}
	s.LastReadAt = time.Now().UTC()
}

// noteCommit adds a committed sink run to the engine's statistics.
func (e *Engine) noteCommit(name string, files, rows, bytes int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := catalogKey(name)
	s := e.sinks[k]
	if s == nil {
		s = &SinkStats{Name: name}
		e.sinks[k] = s
	}
	s.Commits++
	s.FilesWritten += files
	s.RowsWritten += rows
	s.BytesWritten += bytes
	s.LastCommitAt = time.Now().UTC()
}

// quarantine holds the rows of a <source>__errors relation: the bad rows
// the latest complete read of the source found.
type quarantine struct {
	// gen changes when the source is created or replaced: a scan that
	// started before does not publish its rows.
	gen      uint64
	complete bool
	recs     []arrow.Record
}

func (q *quarantine) reset() {
	for _, r := range q.recs {
		r.Release()
	}
	q.recs = nil
	q.complete = false
	q.gen++
}

// quarantineOf returns the quarantine state of a source, creating it.
// The caller holds e.mu.
func (e *Engine) quarantineOf(source string) *quarantine {
	k := catalogKey(source)
	q := e.quar[k]
	if q == nil {
		q = &quarantine{}
		e.quar[k] = q
	}
	return q
}

// resetQuarantine forgets a source's bad rows (it was created, replaced or
// dropped).
func (e *Engine) resetQuarantine(source string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.quarantineOf(source).reset()
}

// quarantineGen returns the current generation of a source's quarantine.
func (e *Engine) quarantineGen(source string) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.quarantineOf(source).gen
}

// publishQuarantine stores the bad rows of a complete read made in
// generation gen, taking over recs; it reports whether they were stored.
func (e *Engine) publishQuarantine(source string, gen uint64, recs []arrow.Record) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.quarantineOf(source)
	if q.gen != gen || e.closed {
		for _, r := range recs {
			r.Release()
		}
		return false
	}
	for _, r := range q.recs {
		r.Release()
	}
	q.recs, q.complete = recs, true
	return true
}

// quarantineRows returns new references to the stored bad rows of a
// source, and whether a complete read has stored them.
func (e *Engine) quarantineRows(source string) ([]arrow.Record, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.quarantineOf(source)
	if !q.complete {
		return nil, false
	}
	out := make([]arrow.Record, len(q.recs))
	for i, r := range q.recs {
		r.Retain()
		out[i] = r
	}
	return out, true
}
