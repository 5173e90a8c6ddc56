package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The Nexmark-style event model: people register, open auctions and bid
// on them. Events come in the proportions Nexmark uses (1 person, 3
// auctions, 46 bids in 50 events), one every eventGap of event time from
// base, and are a pure function of their number and the seed, so that every
// run generates the same events.
var base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// eventGap is the event time between two events.
const eventGap = time.Millisecond

// bidSchema, auctionSchema and personSchema are the columns of the three
// event kinds (Nexmark's, without the extra padding column).
var (
	bidSchema = arrow.NewSchema([]arrow.Field{
		{Name: "auction", Type: arrow.PrimitiveTypes.Int64},
		{Name: "bidder", Type: arrow.PrimitiveTypes.Int64},
		{Name: "price", Type: arrow.PrimitiveTypes.Int64},
		{Name: "channel", Type: arrow.BinaryTypes.String},
		{Name: "date_time", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	}, nil)
	auctionSchema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "item_name", Type: arrow.BinaryTypes.String},
		{Name: "initial_bid", Type: arrow.PrimitiveTypes.Int64},
		{Name: "seller", Type: arrow.PrimitiveTypes.Int64},
		{Name: "category", Type: arrow.PrimitiveTypes.Int64},
		{Name: "date_time", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	}, nil)
	personSchema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "city", Type: arrow.BinaryTypes.String},
		{Name: "state", Type: arrow.BinaryTypes.String},
		{Name: "date_time", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	}, nil)
)

var (
	channels = []string{"apple", "google", "facebook", "baidu"}
	cities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	states   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	names    = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
)

// genSpec says what to generate: events numbered [0, n), bids on auctions
// drawn from [0, keys) (distinct: bid i is on auction i), written as
// Parquet files of perFile events of each kind under dir/bids/ (and
// dir/auctions/, dir/persons/ when all).
type genSpec struct {
	n, keys, perFile int
	distinct         bool
	all              bool
	gap              time.Duration
}

// kindOf is the kind of event number i: Nexmark's 1:3:46 mix.
func kindOf(i int) int {
	switch r := i % 50; {
	case r == 0:
		return 0 // person
	case r <= 3:
		return 1 // auction
	}
	return 2 // bid
}

// generate writes the events as Parquet files and returns the number of
// bids.
func generate(dir string, g genSpec) (int, error) {
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(1, 2))
	type out struct {
		name   string
		schema *arrow.Schema
		b      *array.RecordBuilder
		files  int
		rows   int
	}
	outs := []*out{
		{name: "persons", schema: personSchema},
		{name: "auctions", schema: auctionSchema},
		{name: "bids", schema: bidSchema},
	}
	for _, o := range outs {
		o.b = array.NewRecordBuilder(mem, o.schema)
		defer o.b.Release()
		if err := os.MkdirAll(filepath.Join(dir, o.name), 0o755); err != nil {
			return 0, err
		}
	}
	flush := func(o *out) error {
		rec := o.b.NewRecord()
		defer rec.Release()
		if rec.NumRows() == 0 {
			return nil
		}
		path := filepath.Join(dir, o.name, fmt.Sprintf("%s-%05d.parquet", o.name, o.files))
		o.files++
		tmp := filepath.Join(dir, o.name, ".tmp")
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		w, err := pqarrow.NewFileWriter(o.schema, f, parquet.NewWriterProperties(parquet.WithDictionaryDefault(false)), pqarrow.DefaultWriterProps())
		if err != nil {
			f.Close()
			return err
		}
		if err := w.Write(rec); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}
	gap := g.gap
	if gap == 0 {
		gap = eventGap
	}
	bids := 0
	for i := 0; i < g.n; i++ {
		ts := arrow.Timestamp(base.Add(time.Duration(i) * gap).UnixMicro())
		k := kindOf(i)
		if g.distinct {
			k = 2
		}
		if k != 2 && !g.all {
			continue
		}
		o := outs[k]
		switch k {
		case 0:
			o.b.Field(0).(*array.Int64Builder).Append(int64(i / 50))
			o.b.Field(1).(*array.StringBuilder).Append(names[rng.IntN(len(names))] + " " + names[rng.IntN(len(names))])
			o.b.Field(2).(*array.StringBuilder).Append(cities[rng.IntN(len(cities))])
			o.b.Field(3).(*array.StringBuilder).Append(states[rng.IntN(len(states))])
			o.b.Field(4).(*array.TimestampBuilder).Append(ts)
		case 1:
			o.b.Field(0).(*array.Int64Builder).Append(int64(i/50*3 + i%50 - 1))
			o.b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("item-%d", rng.IntN(100000)))
			o.b.Field(2).(*array.Int64Builder).Append(int64(rng.IntN(1000) + 1))
			o.b.Field(3).(*array.Int64Builder).Append(int64(rng.IntN(max(1, i/50+1))))
			o.b.Field(4).(*array.Int64Builder).Append(int64(10 + rng.IntN(5)))
			o.b.Field(5).(*array.TimestampBuilder).Append(ts)
		default:
			auction := int64(i)
			if !g.distinct {
				auction = int64(rng.IntN(g.keys))
			}
			o.b.Field(0).(*array.Int64Builder).Append(auction)
			o.b.Field(1).(*array.Int64Builder).Append(int64(rng.IntN(100000)))
			o.b.Field(2).(*array.Int64Builder).Append(int64(rng.IntN(10000) + 1))
			o.b.Field(3).(*array.StringBuilder).Append(channels[rng.IntN(len(channels))])
			o.b.Field(4).(*array.TimestampBuilder).Append(ts)
			bids++
		}
		o.rows++
		if o.rows == g.perFile {
			if err := flush(o); err != nil {
				return 0, err
			}
			o.rows = 0
		}
	}
	for _, o := range outs {
		if err := flush(o); err != nil {
			return 0, err
		}
	}
	return bids, nil
}

// produceBids produces the bids of the Parquet files under dir/bids/ to
// topic as JSON, one record per bid, spread over the topic's partitions by
// auction.
func produceBids(ctx context.Context, seeds []string, topic string, n, keys int) (int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	bids := 0
	var firstErr error
	done := func(_ *kgo.Record, err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for i := 0; i < n; i++ {
		if kindOf(i) != 2 {
			continue
		}
		ts := base.Add(time.Duration(i) * eventGap)
		auction := rng.IntN(keys)
		v := fmt.Sprintf(`{"auction":%d,"bidder":%d,"price":%d,"channel":%q,"date_time":"%s"}`,
			auction, rng.IntN(100000), rng.IntN(10000)+1, channels[rng.IntN(len(channels))], ts.Format("2006-01-02 15:04:05.000"))
		cl.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(auction)), Value: []byte(v)}, done)
		bids++
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, err
	}
	return bids, firstErr
}
