// Command gen writes the example order events under testdata/examples/orders:
// newline-delimited JSON, deterministic (a fixed seed), a few hundred events
// over six minutes in three files as they would arrive, about one in
// twenty with a negative amount, and one event that arrives late (its
// timestamp is minutes behind the watermark of examples/streaming).
//
// Run it from the repository root:
//
//	go run ./testdata/examples/gen            # rewrite the files
//	go run ./testdata/examples/gen -check     # fail if they are out of date
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", "testdata/examples/orders", "output directory")
	check := flag.Bool("check", false, "compare with the files on disk instead of writing them")
	flag.Parse()
	if err := run(*dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run generates the files and writes or checks them.
func run(dir string, check bool) error {
	files := orders()
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if check {
			have, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("checking: %w", err)
			}
			if !bytes.Equal(have, f.data) {
				return fmt.Errorf("%s is out of date: run go run ./testdata/examples/gen", path)
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
	}
	return nil
}

type file struct {
	name string
	data []byte
}

// orders returns the event files: 300 events from 12:00:00 over six
// minutes, one file for each two minutes.
func orders() []file {
	rng := rand.New(rand.NewPCG(20240301, 1))
	start := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	const (
		events  = 300
		perFile = 100
	)
	var (
		out []file
		buf bytes.Buffer
	)
	for i := range events {
		// Events are spaced 1.2 s apart with up to 3 s of jitter, so they
		// arrive slightly out of order but within the 5 s watermark delay.
		ts := start.Add(time.Duration(i)*1200*time.Millisecond - time.Duration(rng.IntN(3000))*time.Millisecond)
		if ts.Before(start) {
			ts = start
		}
		cents := 500 + rng.IntN(20000)
		if rng.IntN(20) == 0 {
			cents = -cents // a refund booked as an order: dropped by the pipeline
		}
		customer := 1 + rng.IntN(12)
		if i == 250 {
			// The late event: it happened at 12:01:30 but arrives with the
			// events of 12:05, long after that minute's window closed.
			ts = start.Add(90 * time.Second)
		}
		fmt.Fprintf(&buf, `{"order_id":%d,"customer_id":%d,"amount":%s,"ts":"%s"}`+"\n",
			100001+i, customer, money(cents), ts.Format("2006-01-02T15:04:05.000"))
		if (i+1)%perFile == 0 {
			out = append(out, file{name: fmt.Sprintf("orders-%04d.json", len(out)+1), data: bytes.Clone(buf.Bytes())})
			buf.Reset()
		}
	}
	return out
}

// money formats cents as a decimal number with two places.
func money(cents int) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}
