package stream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/etlc/etlc/exec/connector"
)

// A pipeline reads each Kafka stream among its inputs (its one stream, or
// either side of a join of two streams) through input.kafka: its offsets
// are in the checkpoint under the input's tag ("3" for partition 3 of the
// first stream, "@clicks:3" of the second) and each of its partitions is a
// partition of the watermark under the same tag.

// openKafkaInput connects a Kafka input from the checkpoint's offsets of
// its tag; its partitions hold the watermark back until they have data or
// are idle (idle_timeout).
func (p *Pipeline) openKafkaInput(ctx context.Context, in *input) error {
	k, err := openKafka(ctx, in.obj, p.inputOffsets(in))
	if err != nil {
		return err
	}
	in.kafka = k
	for _, part := range k.parts {
		if name := in.tag + kafkaPartition(part); p.m.Partitions[name] == nil {
			p.m.Partitions[name] = &partition{Watermark: math.MinInt64, LastData: p.opts.Now().UnixNano()}
		}
	}
	return nil
}

// inputOffsets returns the checkpoint's offsets of an input, keyed by
// partition number.
func (p *Pipeline) inputOffsets(in *input) map[string]int64 {
	out := map[string]int64{}
	for k, v := range p.m.Offsets {
		if rest, ok := strings.CutPrefix(k, in.tag); ok && (in.tag != "" || !strings.HasPrefix(k, "@")) {
			out[rest] = v
		}
	}
	return out
}

// pollKafkaInput fetches what a Kafka input's partitions have (waiting up
// to a second) and runs the plan (for a join, the input's side) over each
// partition's records; it returns the partitions read, and 1 for waiting
// when the input is not drained (an empty fetch of every partition up to
// its end offset is a drained stream).
func (p *Pipeline) pollKafkaInput(ctx context.Context, in *input) (n, waiting int, err error) {
	fctx, cancel := context.WithTimeout(ctx, time.Second)
	fs := in.kafka.cl.PollRecords(fctx, 200_000)
	cancel()
	for _, fe := range fs.Errors() {
		if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
			continue
		}
		return 0, 0, fmt.Errorf("stream %q: partition %d: %w", in.obj.Name, fe.Partition, fe.Err)
	}
	byPart := map[int32][]*kgo.Record{}
	past := map[int32]int64{}
	fs.EachRecord(func(r *kgo.Record) {
		if r.Attrs.IsControl() {
			past[r.Partition] = r.Offset + 1
			return
		}
		byPart[r.Partition] = append(byPart[r.Partition], r)
	})
	parts := make([]int32, 0, len(byPart))
	for part := range byPart {
		parts = append(parts, part)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	if p.m.Offsets == nil {
		p.m.Offsets = map[string]int64{}
	}
	for _, part := range parts {
		recs := byPart[part]
		size := 0
		for _, r := range recs {
			size += len(r.Value) + 1
		}
		buf := in.kafka.buf[:0]
		if cap(buf) < size {
			buf = make([]byte, 0, size)
		}
		for _, r := range recs {
			buf = append(buf, r.Value...)
			if len(r.Value) == 0 || r.Value[len(r.Value)-1] != '\n' {
				buf = append(buf, '\n')
			}
		}
		in.kafka.buf = buf
		file := in.opts.Path
		if err := os.WriteFile(file, buf, 0o644); err != nil {
			return n, 0, err
		}
		fi, err := os.Stat(file)
		if err != nil {
			return n, 0, err
		}
		name := fmt.Sprintf("partition %d offsets %d-%d", part, recs[0].Offset, recs[len(recs)-1].Offset)
		if in.tag != "" {
			name = in.obj.Name + " " + name
		}
		wm, err := p.runInput(context.WithoutCancel(ctx), in, connector.SourceFile{
			FileInfo: connector.FileInfo{Name: file, Size: fi.Size(), ModTime: fi.ModTime()}, Rel: name})
		if err != nil {
			return n, 0, err
		}
		p.m.Offsets[in.tag+strconv.Itoa(int(part))] = recs[len(recs)-1].Offset + 1
		if p.spec.Joined != nil {
			delete(p.m.Partitions, in.tag+noData)
		}
		p.seenData(in.tag+kafkaPartition(part), wm)
		n++
		if p.opts.Now().Sub(p.lastCkpt) >= p.opts.CheckpointInterval {
			if err := p.Checkpoint(ctx, false); err != nil {
				return n, 0, err
			}
		}
	}
	for part, off := range past {
		if key := in.tag + strconv.Itoa(int(part)); off > p.m.Offsets[key] {
			p.m.Offsets[key] = off
		}
	}
	if n == 0 {
		drained, err := in.kafka.drained(ctx, p.inputOffsets(in))
		if err != nil {
			return 0, 0, err
		}
		if !drained {
			waiting = 1
		}
	}
	return n, waiting, nil
}

// closeInputs closes the pipeline's Kafka inputs.
func (p *Pipeline) closeInputs() {
	for _, in := range p.inputs {
		if in.kafka != nil {
			in.kafka.close()
			in.kafka = nil
		}
	}
}
