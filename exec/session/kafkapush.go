package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
)

// openKafkaPush opens the writer of a push (INSERT, COPY FROM) into a
// Kafka stream: the rows are produced in a Kafka transaction that the
// statement's commit commits (connector.OpenKafkaPush). In a transaction
// block the pushes into the Kafka streams of one cluster share one Kafka
// transaction, committed at COMMIT and aborted at ROLLBACK, so that the
// block's records become visible together.
func (r *stmtRun) openKafkaPush(ctx context.Context, obj *catalog.Object) (*writer, error) {
	o := obj.Options
	fo := map[string]string{"path": "kafka:" + o["topic"]}
	for _, k := range []string{"format", "delimiter", "quote", "escape", "null_values"} {
		if v, ok := o[k]; ok {
			fo[k] = v
		}
	}
	format, err := connector.ParseOptions(fo, connector.RoleSource)
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", obj.Name, err)
	}
	var brokers []string
	for _, b := range strings.Split(o["bootstrap_servers"], ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	r.s.touch(obj.Name)
	w := &writer{r: r, obj: obj, fields: fieldsOf(obj.Columns)}
	for i, f := range w.fields {
		if f.NotNull {
			w.notNull = append(w.notNull, i)
		}
	}
	kopts := connector.KafkaPushOptions{Stream: obj.Name, Brokers: brokers, Topic: o["topic"], Key: o["key"], Format: format,
		Producers: &r.s.eng.kafka}
	var join *connector.Sink
	tx := r.s.tx
	if tx != nil {
		join = tx.kafka[strings.Join(brokers, ",")]
	}
	sink, err := connector.OpenKafkaPush(ctx, kopts, nullableFields(w.fields), join)
	if err != nil {
		return nil, err
	}
	if tx != nil {
		if tx.kafka == nil {
			tx.kafka = map[string]*connector.Sink{}
		}
		tx.kafka[strings.Join(brokers, ",")] = sink
	}
	r.sinks = append(r.sinks, sink)
	w.sink = sink
	return w, nil
}
