package stream

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/etlc/etlc/catalog"
)

// kafkaSource reads a Kafka topic's partitions directly (no consumer
// group): the offsets to start from are the checkpoint's, so that the
// offsets, the state and the sink output are committed together.
type kafkaSource struct {
	cl     *kgo.Client
	topic  string
	parts  []int32
	latest bool // start_offset = 'latest'
	// ends are the end offsets seen when the stream first looked drained
	// (for start_offset = 'latest': where reading began).
	ends map[int32]int64
	// buf holds a poll's records of one partition, one record a line, as
	// written to the input's batch file for the file connector's CSV and
	// JSON readers (kept from poll to poll).
	buf []byte
}

// kafkaFileOptions are the connector options that read a batch file of
// Kafka records: the stream's format options with path set to file.
func kafkaFileOptions(opts map[string]string, file string) map[string]string {
	out := map[string]string{"path": file}
	for _, k := range []string{"format", "delimiter", "quote", "escape", "null_values", "on_error", "batch_size"} {
		if v, ok := opts[k]; ok {
			out[k] = v
		}
	}
	return out
}

// openKafka connects to the stream's brokers and assigns every partition
// of its topic, from the checkpoint's offsets where it has them and from
// start_offset (earliest by default) elsewhere.
func openKafka(ctx context.Context, o *catalog.Object, offsets map[string]int64) (*kafkaSource, error) {
	seeds := strings.Split(o.Options["bootstrap_servers"], ",")
	topic := o.Options["topic"]
	meta, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", o.Name, err)
	}
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, t)
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	resp, err := req.RequestWith(mctx, meta)
	cancel()
	meta.Close()
	if err != nil {
		return nil, fmt.Errorf("stream %q: metadata of topic %q: %w", o.Name, topic, err)
	}
	start := kgo.NewOffset().AtStart()
	if o.Options["start_offset"] == "latest" {
		start = kgo.NewOffset().AtEnd()
	}
	parts := map[int32]kgo.Offset{}
	for _, rt := range resp.Topics {
		if err := kerrOf(rt.ErrorCode); err != nil {
			return nil, fmt.Errorf("stream %q: topic %q: %w", o.Name, topic, err)
		}
		for _, rp := range rt.Partitions {
			off := start
			if n, ok := offsets[strconv.Itoa(int(rp.Partition))]; ok {
				off = kgo.NewOffset().At(n)
			}
			parts[rp.Partition] = off
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("stream %q: topic %q has no partitions", o.Name, topic)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchMaxWait(200*time.Millisecond),
		// Records of transactions not committed (a push into the stream
		// still running, or aborted) are never read; the control records
		// that end transactions are kept only to move the offsets past
		// them (see pollKafkaInput).
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords())
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", o.Name, err)
	}
	k := &kafkaSource{cl: cl, topic: topic, latest: o.Options["start_offset"] == "latest"}
	for part := range parts {
		k.parts = append(k.parts, part)
	}
	return k, nil
}

func kerrOf(code int16) error {
	if code == 0 {
		return nil
	}
	return fmt.Errorf("kafka error code %d", code)
}

func (k *kafkaSource) close() { k.cl.Close() }

// listOffsets returns the offset of every partition at timestamp ts (-1:
// the end, -2: the start).
func (k *kafkaSource) listOffsets(ctx context.Context, ts int64) (map[int32]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = k.topic
	for _, part := range k.parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = part
		rp.Timestamp = ts
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(lctx, k.cl)
	if err != nil {
		return nil, fmt.Errorf("topic %q: listing offsets: %w", k.topic, err)
	}
	out := map[int32]int64{}
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			if err := kerrOf(rp.ErrorCode); err != nil {
				return nil, fmt.Errorf("topic %q partition %d: listing offsets: %w", k.topic, rp.Partition, err)
			}
			out[rp.Partition] = rp.Offset
		}
	}
	return out, nil
}

// drained reports whether every partition has been read to its end:
// the next offset to read (the checkpoint's, or where reading started) is
// at the partition's end offset.
func (k *kafkaSource) drained(ctx context.Context, offsets map[string]int64) (bool, error) {
	ends, err := k.listOffsets(ctx, -1)
	if err != nil {
		return false, err
	}
	var starts map[int32]int64
	for _, part := range k.parts {
		next, ok := offsets[strconv.Itoa(int(part))]
		if !ok {
			if k.latest {
				if k.ends == nil {
					k.ends = ends
				}
				next = k.ends[part]
			} else {
				if starts == nil {
					if starts, err = k.listOffsets(ctx, -2); err != nil {
						return false, err
					}
				}
				next = starts[part]
			}
		}
		if next < ends[part] {
			return false, nil
		}
	}
	return true, nil
}

// kafkaPartition is the partition name of a Kafka partition.
func kafkaPartition(part int32) string { return fmt.Sprintf("partition-%d", part) }
