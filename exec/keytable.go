package exec

import (
	"bytes"
	"fmt"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// keyCol stores the distinct values of one key column of a keyTable,
// column-wise, and compares them with the rows of a bound input array.
// NULL equals NULL (grouping semantics); NaN equals NaN and -0 equals 0.
type keyCol interface {
	// bind makes arr the input array that eq and push read rows of.
	bind(arr arrow.Array)
	// eq reports whether stored key g equals row of the bound array.
	eq(g uint32, row int) bool
	// push appends row of the bound array as a new stored key.
	push(row int)
	// array returns the stored keys [from, to) as an Arrow array.
	array(mem memory.Allocator, from, to int) (arrow.Array, error)
	// bytes is the memory the stored keys hold.
	bytes() int64
	// reserve makes room for n keys.
	reserve(n int)
	// clone returns a column sharing the stored keys, with its own bound
	// array: for concurrent lookups in a table no one inserts into.
	clone() keyCol
}

func (k *fixedKey[T]) clone() keyCol { c := *k; return &c }
func (k *boolKey) clone() keyCol     { c := *k; return &c }
func (k *bytesKey) clone() keyCol    { c := *k; return &c }
func (k *nullKey) clone() keyCol     { c := *k; return &c }

// clone returns a table sharing t's keys and slots for lookups only, so
// that several goroutines can look up in t at once (each in its clone).
func (t *keyTable) clone() *keyTable {
	c := *t
	c.hbuf = nil
	c.cols = make([]keyCol, len(t.cols))
	for i, k := range t.cols {
		c.cols[i] = k.clone()
	}
	return &c
}

func newKeyCol(dt arrow.DataType) (keyCol, error) {
	switch physOf(dt) {
	case physNull:
		return &nullKey{dt: dt}, nil
	case physBool:
		return &boolKey{}, nil
	case physInt8:
		return &fixedKey[int8]{dt: dt}, nil
	case physInt16:
		return &fixedKey[int16]{dt: dt}, nil
	case physInt32:
		return &fixedKey[int32]{dt: dt}, nil
	case physInt64:
		return &fixedKey[int64]{dt: dt}, nil
	case physFloat32:
		return &fixedKey[float32]{dt: dt}, nil
	case physFloat64:
		return &fixedKey[float64]{dt: dt}, nil
	case physDecimal:
		return &fixedKey[decimal128.Num]{dt: dt}, nil
	case physInterval:
		return &fixedKey[arrow.MonthDayNanoInterval]{dt: dt}, nil
	case physBytes:
		return &bytesKey{dt: dt, offs: []int{0}}, nil
	}
	return nil, checkSupported(dt)
}

type fixedKey[T comparable] struct {
	dt    arrow.DataType
	vals  []T
	valid []bool
	cur   []T
	cv    validity
}

func (k *fixedKey[T]) bind(arr arrow.Array) {
	k.cur = fixedVals[T](arr)
	k.cv = validityOf(arr)
}

func (k *fixedKey[T]) eq(g uint32, row int) bool {
	if !k.cv.valid(row) {
		return !k.valid[g]
	}
	if !k.valid[g] {
		return false
	}
	a, b := k.vals[g], k.cur[row]
	// a != a only for NaN: every NaN is one group, as in PostgreSQL.
	return a == b || (a != a && b != b)
}

func (k *fixedKey[T]) push(row int) {
	ok := k.cv.valid(row)
	var v T
	if ok {
		v = k.cur[row]
	}
	k.vals = append(k.vals, v)
	k.valid = append(k.valid, ok)
}

func (k *fixedKey[T]) array(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return makeFixed(mem, k.dt, k.vals[from:to], k.valid[from:to]), nil
}

func (k *fixedKey[T]) reserve(n int) {
	if cap(k.vals) < n {
		k.vals = append(make([]T, 0, n), k.vals...)
		k.valid = append(make([]bool, 0, n), k.valid...)
	}
}

func (k *fixedKey[T]) bytes() int64 {
	var zero T
	return int64(cap(k.vals))*int64(unsafe.Sizeof(zero)) + int64(cap(k.valid))
}

type boolKey struct {
	vals, valid []bool
	cur         boolVals
	cv          validity
}

func (k *boolKey) bind(arr arrow.Array) { k.cur, k.cv = boolValsOf(arr), validityOf(arr) }

func (k *boolKey) eq(g uint32, row int) bool {
	if !k.cv.valid(row) {
		return !k.valid[g]
	}
	return k.valid[g] && k.vals[g] == k.cur.get(row)
}

func (k *boolKey) push(row int) {
	ok := k.cv.valid(row)
	k.vals = append(k.vals, ok && k.cur.get(row))
	k.valid = append(k.valid, ok)
}

func (k *boolKey) array(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return makeBool(mem, k.vals[from:to], k.valid[from:to]), nil
}

func (k *boolKey) reserve(n int) {
	if cap(k.vals) < n {
		k.vals = append(make([]bool, 0, n), k.vals...)
		k.valid = append(make([]bool, 0, n), k.valid...)
	}
}

func (k *boolKey) bytes() int64 { return int64(cap(k.vals) + cap(k.valid)) }

type bytesKey struct {
	dt    arrow.DataType
	data  []byte
	offs  []int
	valid []bool
	coffs []int32
	cdata []byte
	cv    validity
}

func (k *bytesKey) bind(arr arrow.Array) {
	k.coffs, k.cdata = bytesVals(arr)
	k.cv = validityOf(arr)
}

func (k *bytesKey) eq(g uint32, row int) bool {
	if !k.cv.valid(row) {
		return !k.valid[g]
	}
	return k.valid[g] && bytes.Equal(k.data[k.offs[g]:k.offs[g+1]], k.cdata[k.coffs[row]:k.coffs[row+1]])
}

func (k *bytesKey) push(row int) {
	ok := k.cv.valid(row)
	if ok {
		k.data = append(k.data, k.cdata[k.coffs[row]:k.coffs[row+1]]...)
	}
	k.offs = append(k.offs, len(k.data))
	k.valid = append(k.valid, ok)
}

func (k *bytesKey) array(mem memory.Allocator, from, to int) (arrow.Array, error) {
	vals := make([][]byte, to-from)
	for i := range vals {
		vals[i] = k.data[k.offs[from+i]:k.offs[from+i+1]]
	}
	return makeBytes(mem, k.dt, vals, k.valid[from:to])
}

func (k *bytesKey) reserve(n int) {
	if cap(k.offs) < n+1 {
		k.offs = append(make([]int, 0, n+1), k.offs...)
		k.valid = append(make([]bool, 0, n), k.valid...)
	}
}

func (k *bytesKey) bytes() int64 {
	return int64(cap(k.data) + 8*cap(k.offs) + cap(k.valid))
}

type nullKey struct {
	dt arrow.DataType
	n  int
}

func (k *nullKey) bind(arrow.Array)    {}
func (k *nullKey) eq(uint32, int) bool { return true }
func (k *nullKey) push(int)            { k.n++ }
func (k *nullKey) array(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return nullArray(mem, k.dt, to-from)
}
func (k *nullKey) bytes() int64 { return 0 }
func (k *nullKey) reserve(int)  {}

// notFound is the group of a row whose key a lookup did not find.
const notFound = ^uint32(0)

// keyTable assigns dense group ids 0, 1, 2, ... to the distinct values of a
// tuple of key columns, batch at a time: rows are hashed column-wise, the
// open-addressing table holds (hash tag, group) pairs, and keys are
// compared column-wise against the stored distinct keys. It serves
// grouping, DISTINCT, set operations and the build side of hash joins.
type keyTable struct {
	hs     *hasher
	cols   []keyCol
	slots  []uint64 // hash<<32 | group+1; 0 = empty
	mask   uint64
	hashes []uint64 // per group
	n      int
	hbuf   []uint64
	// dir, when set, indexes the groups of a single integer key directly
	// (keydirect.go); slots and hashes are then unused.
	dir *directIndex
}

func newKeyTable(hs *hasher, types []arrow.DataType) (*keyTable, error) {
	t := &keyTable{hs: hs, slots: make([]uint64, 64), mask: 63, dir: newDirectIndex(types)}
	for _, dt := range types {
		c, err := newKeyCol(dt)
		if err != nil {
			return nil, err
		}
		t.cols = append(t.cols, c)
	}
	return t, nil
}

// reserve sizes the table for n groups, so that inserting them does not
// rehash.
func (t *keyTable) reserve(n int) {
	if t.dir != nil {
		for _, c := range t.cols {
			c.reserve(n)
		}
		return
	}
	size := uint64(64)
	for size < uint64(2*n+2) {
		size *= 2
	}
	if size <= uint64(len(t.slots)) {
		return
	}
	t.slots = make([]uint64, size/2)
	t.grow()
	if cap(t.hashes) < n {
		t.hashes = append(make([]uint64, 0, n), t.hashes...)
	}
	for _, c := range t.cols {
		c.reserve(n)
	}
}

// len is the number of groups.
func (t *keyTable) len() int { return t.n }

func (t *keyTable) bind(cols []arrow.Array) {
	for i, c := range cols {
		t.cols[i].bind(c)
	}
}

func (t *keyTable) eqRow(g uint32, row int) bool {
	for _, c := range t.cols {
		if !c.eq(g, row) {
			return false
		}
	}
	return true
}

// insert finds or creates the group of each of the n rows of cols, writing
// group ids to groups (grown as needed) and returning it. New groups get
// the next ids in row order, so the first row of a new group g is the row
// where g first appears.
func (t *keyTable) insert(cols []arrow.Array, n int, groups []uint32) []uint32 {
	return t.insertRows(cols, n, groups, nil)
}

// insertRows is insert where rows with skip set (when skip is not nil) get
// notFound and are not inserted; it hashes the rows only when the table is
// not direct.
func (t *keyTable) insertRows(cols []arrow.Array, n int, groups []uint32, skip []bool) []uint32 {
	if t.dir != nil {
		if g, ok := t.directInsert(cols[0], n, groups, skip); ok {
			return g
		}
		t.undirect(n)
	}
	t.hbuf = t.hs.hashRows(cols, n, t.hbuf)
	return t.insertHashed(cols, t.hbuf, groups, skip)
}

// direct reports whether the table indexes its keys directly, so that
// lookups need no hashes.
func (t *keyTable) direct() bool { return t.dir != nil }

// lookupRows is lookup that hashes the rows (into t.hbuf) only when the
// table needs the hashes.
func (t *keyTable) lookupRows(cols []arrow.Array, n int, groups []uint32, skip []bool) []uint32 {
	if t.dir != nil {
		return t.directLookup(cols[0], n, groups, skip)
	}
	t.hbuf = t.hs.hashRows(cols, n, t.hbuf)
	return t.lookup(cols, t.hbuf, groups, skip)
}

// insertHashed is insert with precomputed hashes; rows where skip is set
// (when skip is not nil) get notFound and are not inserted.
func (t *keyTable) insertHashed(cols []arrow.Array, h []uint64, groups []uint32, skip []bool) []uint32 {
	n := len(h)
	if t.dir != nil {
		if g, ok := t.directInsert(cols[0], n, groups, skip); ok {
			return g
		}
		t.undirect(n)
	}
	if cap(groups) < n {
		groups = make([]uint32, n)
	}
	groups = groups[:n]
	t.bind(cols)
	for i := 0; i < n; i++ {
		if skip != nil && skip[i] {
			groups[i] = notFound
			continue
		}
		hv := h[i]
		tag := hv >> 32 << 32
		s := hv & t.mask
		for {
			e := t.slots[s]
			if e == 0 {
				g := uint32(t.n)
				for _, c := range t.cols {
					c.push(i)
				}
				t.hashes = append(t.hashes, hv)
				t.n++
				t.slots[s] = tag | uint64(g+1)
				groups[i] = g
				if uint64(t.n)*2 > t.mask {
					t.grow()
				}
				break
			}
			if e>>32<<32 == tag {
				g := uint32(e) - 1
				if t.eqRow(g, i) {
					groups[i] = g
					break
				}
			}
			s = (s + 1) & t.mask
		}
	}
	return groups
}

// lookup writes the group of each row to groups, notFound for keys not in
// the table; rows where skip is set get notFound.
func (t *keyTable) lookup(cols []arrow.Array, h []uint64, groups []uint32, skip []bool) []uint32 {
	n := len(h)
	if t.dir != nil {
		return t.directLookup(cols[0], n, groups, skip)
	}
	if cap(groups) < n {
		groups = make([]uint32, n)
	}
	groups = groups[:n]
	t.bind(cols)
	for i := 0; i < n; i++ {
		groups[i] = notFound
		if skip != nil && skip[i] {
			continue
		}
		hv := h[i]
		tag := hv >> 32 << 32
		s := hv & t.mask
		for {
			e := t.slots[s]
			if e == 0 {
				break
			}
			if e>>32<<32 == tag {
				g := uint32(e) - 1
				if t.eqRow(g, i) {
					groups[i] = g
					break
				}
			}
			s = (s + 1) & t.mask
		}
	}
	return groups
}

func (t *keyTable) grow() {
	size := uint64(len(t.slots)) * 2
	t.slots = make([]uint64, size)
	t.mask = size - 1
	for g, hv := range t.hashes {
		s := hv & t.mask
		for t.slots[s] != 0 {
			s = (s + 1) & t.mask
		}
		t.slots[s] = hv>>32<<32 | uint64(g+1)
	}
}

// keys returns the stored keys of groups [from, to), one array per key
// column.
func (t *keyTable) keys(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(t.cols))
	for i, c := range t.cols {
		a, err := c.array(mem, from, to)
		if err != nil {
			releaseArrays(out)
			return nil, fmt.Errorf("exec: group keys: %w", err)
		}
		out[i] = a
	}
	return out, nil
}

// bytes is the memory the table holds.
func (t *keyTable) bytes() int64 {
	n := int64(len(t.slots))*8 + int64(cap(t.hashes))*8
	if t.dir != nil {
		n += int64(len(t.dir.slots)) * 4
	}
	for _, c := range t.cols {
		n += c.bytes()
	}
	return n
}
