package exec

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"
)

// Drive opens op, hands the record of every data batch to fn and closes op.
// Control batches (watermarks, barriers) are passed over. The record is
// released when fn returns: fn retains it to keep it. Drive stops at the
// first error of op or fn, or when ctx is done, and reports the first error
// (a failing Close included).
func Drive(ctx context.Context, op Operator, fn func(rec arrow.Record) error) (err error) {
	defer func() {
		if cerr := op.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := op.Open(ctx); err != nil {
		return err
	}
	return Each(ctx, op, fn)
}

// Each is Drive over an operator that is already open and that the caller
// closes.
func Each(ctx context.Context, op Operator, fn func(rec arrow.Record) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, ok, err := op.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if b.Kind != BatchData {
			if b.Rec != nil {
				b.Rec.Release()
			}
			continue
		}
		err = fn(b.Rec)
		b.Rec.Release()
		if err != nil {
			return err
		}
	}
}
