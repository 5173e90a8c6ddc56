package exec

import (
	"github.com/apache/arrow/go/v15/arrow"
)

// UniqueKeys checks that tuples of key columns are distinct across every
// batch added to it, as a unique index does: a row whose key columns are
// all non-NULL must not repeat the key of an earlier row. A row with a
// NULL in any key column is never a duplicate (NULLs are distinct, as in
// PostgreSQL). Keys are compared as GROUP BY compares them (NaN equals
// NaN, -0 equals 0). It keeps every distinct key it has seen; Bytes says
// how much memory that holds.
type UniqueKeys struct {
	hs     *hasher
	t      *keyTable
	h      []uint64
	skip   []bool
	groups []uint32
}

// NewUniqueKeys returns an empty set for keys of the given column types.
func NewUniqueKeys(types []arrow.DataType) (*UniqueKeys, error) {
	hs := newHasher()
	t, err := newKeyTable(hs, types)
	if err != nil {
		return nil, err
	}
	return &UniqueKeys{hs: hs, t: t}, nil
}

// Add adds the keys of the rows of cols (one array per key column, all of
// the same length) and returns the first row whose key was present
// already, in an earlier batch or earlier in this one, or -1 when there is
// none. The keys of the rows before a duplicate are added; those after it
// may or may not be.
func (u *UniqueKeys) Add(cols []arrow.Array) int {
	if len(cols) == 0 {
		return -1
	}
	n := cols[0].Len()
	if cap(u.skip) < n {
		u.skip = make([]bool, n)
	}
	u.skip = u.skip[:n]
	clear(u.skip)
	for _, c := range cols {
		if c.NullN() == 0 {
			continue
		}
		for i := 0; i < n; i++ {
			if c.IsNull(i) {
				u.skip[i] = true
			}
		}
	}
	u.h = u.hs.hashRows(cols, n, u.h)
	before := u.t.len()
	u.groups = u.t.insertHashed(cols, u.h, u.groups, u.skip)
	// A row's key is new exactly when it got the next group id.
	next := uint32(before)
	for i, g := range u.groups {
		if g == notFound {
			continue
		}
		if g != next {
			return i
		}
		next++
	}
	return -1
}

// Len is the number of distinct keys added.
func (u *UniqueKeys) Len() int { return u.t.len() }

// Bytes is the memory the keys hold.
func (u *UniqueKeys) Bytes() int64 { return u.t.bytes() }
