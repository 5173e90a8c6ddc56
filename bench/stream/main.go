// Command stream measures etlc's streaming pipelines on Nexmark-style
// events (people, auctions, bids; see gen.go): events per second per core
// of CPU time (user + system, from getrusage) and of wall time, and the
// peak resident set size, for
//
//   - filter: filter + project of the bids into a Parquet sink (Nexmark q1
//     and q2 together), over files and over a Kafka topic of an in-process
//     kfake cluster;
//   - tumble: a 10-second tumbling-window aggregation over 1 million
//     auctions;
//   - hop: a hopping-window aggregation (1 minute every 10 seconds) over
//     10,000 lots of auctions (auction % 10000);
//   - dedup: the first bid of each auction (ROW_NUMBER() ... = 1 over the
//     1 million auctions, state_ttl 1 hour: every key stays live);
//   - live10m: 10 million distinct auctions in one 1-hour tumbling window,
//     all live until the input ends: the peak RSS shows the state is not
//     held in memory; live10m-batch runs the same aggregation as a batch
//     INSERT (the batch engine holds its groups in memory), for reference.
//
// Every pipeline runs with checkpoints every 10 s, until its input is
// drained (--until-idle), in a child process of its own, so that each
// figure's CPU time and peak RSS are that pipeline's. The generator runs
// once; its files are kept in -dir between runs when -keep is set.
//
// Usage:
//
//	go run ./stream [-events 4000000] [-keys 1000000] [-live 10000000] [-only tumble,hop] [-out results] [-cpuprofile DIR]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-child" {
		if err := child(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench-stream child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-stream:", err)
		os.Exit(1)
	}
}

// scenario is one measured pipeline.
type scenario struct {
	name string
	// data is the generated data set it reads (a directory under -dir).
	data string
	// kafka reads the bids from a kfake topic instead of files.
	kafka bool
	// batch runs the query once as a batch INSERT over the files (the
	// batch engine, its groups in memory) instead of as a pipeline: the
	// reference for the memory the pipeline's state saves.
	batch bool
	// sink and query are the sink's columns and the pipeline's SELECT over
	// STREAM bids; with is more of the pipeline's options.
	sink, query, with string
}

var scenarios = []scenario{
	{name: "filter", data: "events", sink: "auction BIGINT, bidder BIGINT, price_eur DOUBLE, date_time TIMESTAMP",
		query: `SELECT auction, bidder, price * 0.908, date_time FROM STREAM bids WHERE price > 100 AND auction % 123 <> 0`},
	{name: "filter-kafka", data: "events", kafka: true, sink: "auction BIGINT, bidder BIGINT, price_eur DOUBLE, date_time TIMESTAMP",
		query: `SELECT auction, bidder, price * 0.908, date_time FROM STREAM bids WHERE price > 100 AND auction % 123 <> 0`},
	{name: "tumble", data: "events", sink: "window_start TIMESTAMP, auction BIGINT, bids BIGINT, top BIGINT, total BIGINT",
		query: `SELECT window_start, auction, COUNT(*), MAX(price), SUM(price) FROM STREAM bids
  GROUP BY TUMBLE(date_time, INTERVAL '10 seconds'), auction`},
	{name: "hop", data: "events", sink: "window_start TIMESTAMP, lot BIGINT, bids BIGINT, top BIGINT",
		query: `SELECT window_start, auction % 10000, COUNT(*), MAX(price) FROM STREAM bids
  GROUP BY HOP(date_time, INTERVAL '10 seconds', INTERVAL '1 minute'), auction % 10000`},
	{name: "dedup", data: "events", with: ", state_ttl = '1 hour'", sink: "auction BIGINT, price BIGINT, date_time TIMESTAMP",
		query: `SELECT auction, price, date_time FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY date_time) AS rn FROM STREAM bids)
  WHERE rn = 1`},
	{name: "live10m", data: "live", sink: "window_start TIMESTAMP, auction BIGINT, bids BIGINT, top BIGINT",
		query: `SELECT window_start, auction, COUNT(*), MAX(price) FROM STREAM bids
  GROUP BY TUMBLE(date_time, INTERVAL '1 hour'), auction`},
	{name: "live10m-batch", data: "live", batch: true, sink: "window_start TIMESTAMP, auction BIGINT, bids BIGINT, top BIGINT",
		query: `SELECT window_start, auction, COUNT(*), MAX(price) FROM bids
  GROUP BY TUMBLE(date_time, INTERVAL '1 hour'), auction`},
}

// result is what a child reports.
type result struct {
	Scenario string  `json:"scenario"`
	Events   int64   `json:"events"`
	RowsOut  int64   `json:"rows_out"`
	CPUSec   float64 `json:"cpu_s"`
	WallSec  float64 `json:"wall_s"`
	PeakRSS  int64   `json:"peak_rss_bytes"`
	Keys     int     `json:"keys"`
}

func run() error {
	events := flag.Int("events", 4_000_000, "events generated (bids are 46 in 50)")
	keys := flag.Int("keys", 1_000_000, "auctions the bids of tumble and hop are spread over")
	live := flag.Int("live", 10_000_000, "distinct live keys of live10m")
	only := flag.String("only", "", "comma-separated scenarios to run (default: all)")
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed after)")
	out := flag.String("out", "results", "directory of stream.csv")
	profile := flag.String("cpuprofile", "", "write each pipeline's CPU profile to DIR/<scenario>.pprof")
	flag.Parse()
	if *dir == "" {
		d, err := os.MkdirTemp("", "bench-stream-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	want := func(name string) bool {
		return *only == "" || slices.Contains(strings.Split(*only, ","), name)
	}
	load := loadNote()
	fmt.Printf("bench-stream: %d CPUs; load average at start %s\n", runtime.NumCPU(), load)
	generated := map[string]bool{}
	var results []result
	for _, sc := range scenarios {
		if !want(sc.name) {
			continue
		}
		data := filepath.Join(*dir, sc.data)
		if !generated[sc.data] {
			if _, err := os.Stat(filepath.Join(data, "bids")); err != nil {
				start := time.Now()
				var g genSpec
				switch sc.data {
				case "events":
					g = genSpec{n: *events, keys: *keys, perFile: 100_000, all: true}
				case "live":
					// 10M bids 0.3 ms apart: 50 minutes of event time, one
					// 1-hour window.
					g = genSpec{n: *live, keys: *live, perFile: 250_000, distinct: true, gap: 300 * time.Microsecond}
				}
				n, err := generate(data, g)
				if err != nil {
					return fmt.Errorf("generating %s: %w", sc.data, err)
				}
				fmt.Printf("generated %d bids (%s) in %s\n", n, sc.data, time.Since(start).Round(time.Millisecond))
			}
			generated[sc.data] = true
		}
		k := *keys
		if sc.data == "live" {
			k = *live
		}
		args := []string{"-child", sc.name, data, fmt.Sprint(*events), fmt.Sprint(k)}
		if *profile != "" {
			os.MkdirAll(*profile, 0o755)
			args = append(args, filepath.Join(*profile, sc.name+".pprof"))
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.Command(self, args...)
		var stdout bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		var r result
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: reading its result %q: %w", sc.name, stdout.String(), err)
		}
		// Peak RSS of the child as the kernel counted it (KiB on Linux).
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSS = ru.Maxrss * 1024
		}
		results = append(results, r)
		fmt.Printf("%-13s %10d events  %9.0f events/CPU-s  %9.0f events/s wall  cpu %6.2fs  wall %6.2fs  peak RSS %5d MiB  rows out %d\n",
			r.Scenario, r.Events, float64(r.Events)/r.CPUSec, float64(r.Events)/r.WallSec, r.CPUSec, r.WallSec, r.PeakRSS>>20, r.RowsOut)
	}
	fmt.Printf("load average at end %s\n", loadNote())
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var csv strings.Builder
	csv.WriteString("scenario,events,keys,rows_out,cpu_s,wall_s,events_per_cpu_s,events_per_wall_s,peak_rss_mib,cpus,load_at_start\n")
	for _, r := range results {
		fmt.Fprintf(&csv, "%s,%d,%d,%d,%.3f,%.3f,%.0f,%.0f,%d,%d,%s\n", r.Scenario, r.Events, r.Keys, r.RowsOut, r.CPUSec, r.WallSec,
			float64(r.Events)/r.CPUSec, float64(r.Events)/r.WallSec, r.PeakRSS>>20, runtime.NumCPU(), strings.Fields(load + " -")[0])
	}
	path := filepath.Join(*out, "stream.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}

// loadNote is the load average (1, 5, 15 minutes), "" when unknown.
func loadNote() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// child runs one scenario's pipeline and prints its result as JSON:
// args are the scenario, the data directory, the number of events and
// keys, and optionally a CPU profile file.
func child(args []string) error {
	name, data := args[0], args[1]
	var events, keys int
	fmt.Sscan(args[2], &events)
	fmt.Sscan(args[3], &keys)
	i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
	if i < 0 {
		return fmt.Errorf("no scenario %q", name)
	}
	sc := scenarios[i]
	ctx := context.Background()
	work, err := os.MkdirTemp("", "bench-stream-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	params := map[string]string{"data": data, "work": work}
	streamDef := `CREATE STREAM bids (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, date_time TIMESTAMP,
  WATERMARK FOR date_time AS date_time - INTERVAL '1 second')
  WITH (path = '${data}/bids/', format = 'parquet');`
	if sc.kafka {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "bids"))
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := produceBids(ctx, c.ListenAddrs(), "bids", events, keys); err != nil {
			return fmt.Errorf("producing the bids: %w", err)
		}
		params["brokers"] = strings.Join(c.ListenAddrs(), ",")
		streamDef = `CREATE STREAM bids (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, date_time TIMESTAMP,
  WATERMARK FOR date_time AS date_time - INTERVAL '1 second')
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'bids', format = 'json');`
	}
	if sc.batch {
		streamDef = `CREATE SOURCE bids (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, date_time TIMESTAMP)
  WITH (path = '${data}/bids/', format = 'parquet');`
	}
	eng, err := session.Open(ctx, filepath.Join(work, "data"), session.Config{})
	if err != nil {
		return err
	}
	defer eng.Close()
	s := eng.NewSession(session.Options{Params: params})
	defer s.Close()
	sink := "\nCREATE SINK out (" + sc.sink + ") WITH (path = '${work}/out/', format = 'parquet');\n"
	if sc.batch {
		return runBatch(ctx, s, sc, streamDef+sink, keys, args[4:])
	}
	script := streamDef + sink + "CREATE PIPELINE p WITH (checkpoint_interval = '10s'" + sc.with + ") AS INSERT INTO out " + sc.query + ";\n"
	if err := execScript(ctx, s, "bench.sql", script); err != nil {
		return err
	}
	stop, err := startProfile(args[4:])
	if err != nil {
		return err
	}
	defer stop()
	start, cpu0 := time.Now(), cpuTime()
	if err := s.RunPipeline(ctx, "p", session.PipelineOptions{UntilIdle: true, CheckpointInterval: 10 * time.Second}); err != nil {
		return err
	}
	r := result{Scenario: name, WallSec: time.Since(start).Seconds(), CPUSec: (cpuTime() - cpu0).Seconds(), Keys: keys}
	for _, st := range eng.PipelineStatus() {
		if st.Name == "p" {
			r.Events, r.RowsOut = st.RowsIn, st.RowsOut
		}
	}
	if strings.HasPrefix(name, "live10m") {
		r.Keys = int(r.Events)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// runBatch runs a batch scenario: the script, then its query as one INSERT,
// and prints the result.
func runBatch(ctx context.Context, s *session.Session, sc scenario, script string, keys int, profile []string) error {
	if err := execScript(ctx, s, "bench.sql", script); err != nil {
		return err
	}
	stop, err := startProfile(profile)
	if err != nil {
		return err
	}
	defer stop()
	start, cpu0 := time.Now(), cpuTime()
	if err := execScript(ctx, s, "batch.sql", "INSERT INTO out "+sc.query+";"); err != nil {
		return err
	}
	r := result{Scenario: sc.name, WallSec: time.Since(start).Seconds(), CPUSec: (cpuTime() - cpu0).Seconds()}
	// The live data set has one bid per key: keys events in, keys groups
	// out.
	r.Events, r.RowsOut, r.Keys = int64(keys), int64(keys), keys
	return json.NewEncoder(os.Stdout).Encode(r)
}

// execScript runs the statements of text in s.
func execScript(ctx context.Context, s *session.Session, name, text string) error {
	run, err := s.Exec(ctx, parser.NewSource(name, text), session.ExecOptions{})
	if run != nil {
		run.Release()
	}
	return err
}

// startProfile starts a CPU profile into the file named by path[0], when
// there is one; stop ends it.
func startProfile(path []string) (stop func(), err error) {
	if len(path) == 0 {
		return func() {}, nil
	}
	f, err := os.Create(path[0])
	if err != nil {
		return nil, err
	}
	pprof.StartCPUProfile(f)
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
