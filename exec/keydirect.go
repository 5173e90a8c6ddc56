package exec

import (
	"github.com/apache/arrow/go/v15/arrow"
)

// Direct addressing. A keyTable over a single integer key column (BIGINT,
// INT, DATE) whose values lie in a range not much wider than the number of
// its groups finds a key's group at slots[key-lo] of an array, without
// hashing or probing: surrogate keys (TPC-H's order, customer, part and
// supplier keys) are such ranges. The table starts out direct and turns
// into a hash table, once and for good, as soon as the keys it is given
// spread too thin (directLimit); it then hashes the keys it holds, so that
// lookups and inserts go on as if it had always hashed them.
//
// Groups get the same ids in both modes (in order of first appearance), so
// callers see no difference but the time it takes.

// directIndex is the array of a direct keyTable: slots[k-lo] is the group
// of key k plus one, 0 for a key not in the table; null is the group of the
// NULL key (notFound when there is none).
type directIndex struct {
	lo    int64
	slots []uint32
	null  uint32
}

// Bounds of the direct array: the keys span at most directPerGroup slots
// per group (a hash table costs about as many bytes per group as 8 slots
// do) plus directMinSpan, and never more than directMaxSpan; the array
// grows by doubling, so it may hold up to twice the span.
const (
	directMinSpan  = 1 << 16
	directPerGroup = 16
	directMaxSpan  = 1 << 25
)

// directLimit is the widest key range a direct table of (at most) groups
// groups may span.
func directLimit(groups int) uint64 {
	return min(directMaxSpan, directPerGroup*uint64(groups)+directMinSpan)
}

// newDirectIndex returns an empty index when a table over types can be
// direct (one 32- or 64-bit integer key), nil otherwise.
func newDirectIndex(types []arrow.DataType) *directIndex {
	if len(types) != 1 {
		return nil
	}
	switch physOf(types[0]) {
	case physInt32, physInt64:
		return &directIndex{null: notFound}
	}
	return nil
}

// cover makes the array span [lo, hi] when that keeps within the limit for
// groups groups, and reports whether it does.
func (d *directIndex) cover(lo, hi int64, groups int) bool {
	if len(d.slots) > 0 {
		lo = min(lo, d.lo)
		hi = max(hi, d.lo+int64(len(d.slots))-1)
	}
	limit := directLimit(groups)
	if uint64(hi-lo) >= limit {
		return false
	}
	span := uint64(hi-lo) + 1
	if len(d.slots) > 0 && lo == d.lo && span <= uint64(len(d.slots)) {
		return true
	}
	// Grow geometrically (keys arriving in ascending order would otherwise
	// copy the array at every batch), toward the side the keys grew on.
	size := span
	down := false
	if len(d.slots) > 0 {
		size = max(span, min(directMaxSpan, 2*uint64(len(d.slots))))
		down = lo < d.lo
	}
	base := lo
	if down {
		if base = hi - int64(size-1); base > hi {
			base, size = lo, span // would overflow int64: no slack
		}
	} else if lo+int64(size-1) < lo {
		size = span
	}
	slots := make([]uint32, size)
	if len(d.slots) > 0 {
		copy(slots[d.lo-base:], d.slots)
	}
	d.lo, d.slots = base, slots
	return true
}

// intRange returns the least and the greatest of the values of rows [0, n)
// that are valid and not skipped; any is false when there are none.
func intRange[T int32 | int64](vals []T, v validity, skip []bool) (lo, hi int64, any bool) {
	if v.bm == nil && skip == nil {
		if len(vals) == 0 {
			return 0, 0, false
		}
		a, b := vals[0], vals[0]
		for _, x := range vals[1:] {
			a = min(a, x)
			b = max(b, x)
		}
		return int64(a), int64(b), true
	}
	for i, x := range vals {
		if (skip != nil && skip[i]) || !v.valid(i) {
			continue
		}
		if !any {
			lo, hi, any = int64(x), int64(x), true
			continue
		}
		lo = min(lo, int64(x))
		hi = max(hi, int64(x))
	}
	return lo, hi, any
}

// directInsert is insertHashed for a direct table: it reports false, having
// changed nothing, when the rows' keys do not fit the array.
func (t *keyTable) directInsert(col arrow.Array, n int, groups []uint32, skip []bool) ([]uint32, bool) {
	switch k := t.cols[0].(type) {
	case *fixedKey[int64]:
		return directInsertOf(t, k, col, n, groups, skip)
	case *fixedKey[int32]:
		return directInsertOf(t, k, col, n, groups, skip)
	}
	return groups, false
}

func directInsertOf[T int32 | int64](t *keyTable, k *fixedKey[T], col arrow.Array, n int, groups []uint32, skip []bool) ([]uint32, bool) {
	vals := fixedVals[T](col)[:n]
	v := validityOf(col)
	d := t.dir
	if lo, hi, any := intRange(vals, v, skip); any && !d.cover(lo, hi, t.n+n) {
		return groups, false
	}
	if cap(groups) < n {
		groups = make([]uint32, n)
	}
	groups = groups[:n]
	k.bind(col)
	slots, lo := d.slots, d.lo
	if v.bm == nil && skip == nil {
		for i, x := range vals {
			s := &slots[int64(x)-lo]
			if *s == 0 {
				t.n++
				*s = uint32(t.n)
				k.vals = append(k.vals, x)
				k.valid = append(k.valid, true)
			}
			groups[i] = *s - 1
		}
		return groups, true
	}
	for i, x := range vals {
		switch {
		case skip != nil && skip[i]:
			groups[i] = notFound
		case !v.valid(i):
			if d.null == notFound {
				d.null = uint32(t.n)
				t.n++
				k.push(i)
			}
			groups[i] = d.null
		default:
			s := &slots[int64(x)-lo]
			if *s == 0 {
				t.n++
				*s = uint32(t.n)
				k.push(i)
			}
			groups[i] = *s - 1
		}
	}
	return groups, true
}

// directLookup is lookup for a direct table.
func (t *keyTable) directLookup(col arrow.Array, n int, groups []uint32, skip []bool) []uint32 {
	if cap(groups) < n {
		groups = make([]uint32, n)
	}
	groups = groups[:n]
	switch physOf(col.DataType()) {
	case physInt64:
		directLookupOf(t.dir, fixedVals[int64](col)[:n], validityOf(col), groups, skip)
	case physInt32:
		directLookupOf(t.dir, fixedVals[int32](col)[:n], validityOf(col), groups, skip)
	}
	return groups
}

func directLookupOf[T int32 | int64](d *directIndex, vals []T, v validity, groups []uint32, skip []bool) {
	slots, lo, size := d.slots, d.lo, uint64(len(d.slots))
	if v.bm == nil && skip == nil {
		for i, x := range vals {
			g := notFound
			if o := uint64(int64(x) - lo); o < size {
				g = slots[o] - 1 // 0 - 1 is notFound
			}
			groups[i] = g
		}
		return
	}
	for i, x := range vals {
		switch {
		case skip != nil && skip[i]:
			groups[i] = notFound
		case !v.valid(i):
			groups[i] = d.null
		default:
			g := notFound
			if o := uint64(int64(x) - lo); o < size {
				g = slots[o] - 1
			}
			groups[i] = g
		}
	}
}

// undirect turns a direct table into a hash table holding the same groups,
// with room for more groups.
func (t *keyTable) undirect(more int) {
	t.dir = nil
	t.hashes = make([]uint64, t.n, max(t.n, 64))
	switch k := t.cols[0].(type) {
	case *fixedKey[int64]:
		hashStored(t.hs, k, t.hashes)
	case *fixedKey[int32]:
		hashStored(t.hs, k, t.hashes)
	}
	size := uint64(64)
	for size < uint64(2*(t.n+more)+2) {
		size *= 2
	}
	t.slots = make([]uint64, size/2)
	t.grow()
}

// hashStored hashes the stored keys of k as hashColumn hashes them as the
// first key column.
func hashStored[T int32 | int64](hs *hasher, k *fixedKey[T], h []uint64) {
	for g := range h {
		x := uint64(nullHash)
		if k.valid[g] {
			x = uint64(k.vals[g])
		}
		hs.combine(&h[g], x, true)
	}
}
