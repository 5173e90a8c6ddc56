package exec

import (
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// refGroups assigns group ids to keys in order of first appearance, as a
// keyTable must (nil is the NULL key; skipped rows get notFound).
type refGroups map[any]uint32

func (r refGroups) insert(keys []any, skip []bool) []uint32 {
	out := make([]uint32, len(keys))
	for i, k := range keys {
		if skip != nil && skip[i] {
			out[i] = notFound
			continue
		}
		g, ok := r[k]
		if !ok {
			g = uint32(len(r))
			r[k] = g
		}
		out[i] = g
	}
	return out
}

func (r refGroups) lookup(keys []any, skip []bool) []uint32 {
	out := make([]uint32, len(keys))
	for i, k := range keys {
		g, ok := r[k]
		if !ok || (skip != nil && skip[i]) {
			g = notFound
		}
		out[i] = g
	}
	return out
}

// TestKeyTableDirect runs batches through a table over one integer key,
// starting direct, and checks every group id against the reference, also
// once the keys spread so far that the table turns into a hash table, and
// for lookups in a clone; a table of the same keys that hashes from the
// start must give the same ids.
func TestKeyTableDirect(t *testing.T) {
	mem := memory.NewGoAllocator()
	for _, dt := range []arrow.DataType{tInt64, tInt32, arrow.FixedWidthTypes.Date32} {
		for _, spread := range []int64{100, 1 << 20, 1 << 40} {
			if dt != tInt64 && spread > 1<<24 {
				spread = 1 << 24 // 12 batches stay within int32
			}
			t.Run(fmt.Sprintf("%s/%d", dt, spread), func(t *testing.T) {
				rnd := rand.New(rand.NewSource(spread))
				tab, err := newKeyTable(newHasher(), []arrow.DataType{dt})
				if err != nil {
					t.Fatal(err)
				}
				if !tab.direct() {
					t.Fatalf("a table over one %s key does not start direct", dt)
				}
				hashed, _ := newKeyTable(tab.hs, []arrow.DataType{dt})
				hashed.undirect(0)
				ref := refGroups{}
				batch := func(i int) ([]any, []bool) {
					n := 1 + rnd.Intn(3000)
					keys := make([]any, n)
					skip := make([]bool, n)
					for r := range keys {
						switch x := rnd.Intn(100); {
						case x == 0:
							keys[r] = nil
						case x == 1:
							skip[r] = true
							keys[r] = int64(-7)
						default:
							// Negative keys; from the fifth batch on, a range
							// that widens batch by batch (the table has groups
							// when it stops being direct).
							width := int64(1000)
							if i >= 4 {
								width = spread * int64(i+1)
							}
							keys[r] = rnd.Int63n(width) - width/2
						}
					}
					if i%2 == 0 {
						skip = nil
						for r := range keys {
							if keys[r] == int64(-7) {
								keys[r] = int64(-8)
							}
						}
					}
					return keys, skip
				}
				for i := 0; i < 12; i++ {
					keys, skip := batch(i)
					arr := buildArray(t, mem, dt, keys)
					want := ref.insert(keys, skip)
					got := append([]uint32(nil), tab.insertRows([]arrow.Array{arr}, len(keys), nil, skip)...)
					got2 := hashed.insertRows([]arrow.Array{arr}, len(keys), nil, skip)
					arr.Release()
					for r := range want {
						if got[r] != want[r] || got2[r] != want[r] {
							t.Fatalf("batch %d row %d key %v: group %d (hashed %d), want %d", i, r, keys[r], got[r], got2[r], want[r])
						}
					}
				}
				if tab.len() != len(ref) {
					t.Fatalf("%d groups, want %d", tab.len(), len(ref))
				}
				if wantDirect := spread <= 100; tab.direct() != wantDirect {
					t.Fatalf("direct = %v after keys spread over %d, want %v", tab.direct(), spread, wantDirect)
				}
				probe, skip := batch(13)
				probe = append(probe, int64(math.MinInt32), int64(math.MaxInt32), nil)
				if _, ok := ref[nil]; !ok {
					probe[len(probe)-1] = int64(3)
				}
				if skip != nil {
					skip = append(skip, false, false, true)
				}
				arr := buildArray(t, mem, dt, probe)
				defer arr.Release()
				want := ref.lookup(probe, skip)
				got := tab.clone().lookupRows([]arrow.Array{arr}, len(probe), nil, skip)
				for r := range want {
					if got[r] != want[r] {
						t.Fatalf("lookup row %d key %v: group %d, want %d", r, probe[r], got[r], want[r])
					}
				}
				keys, err := tab.keys(mem, 0, tab.len())
				if err != nil {
					t.Fatal(err)
				}
				defer releaseArrays(keys)
				for k, g := range ref {
					if v := valueAt(keys[0], int(g)); v != k {
						t.Fatalf("group %d holds key %v, want %v", g, v, k)
					}
				}
			})
		}
	}
}

// TestDirectCover checks the bounds of the direct array: it grows to take
// keys below and above, keeps its keys where they were, and refuses a span
// over the limit (also one that overflows int64).
func TestDirectCover(t *testing.T) {
	d := &directIndex{null: notFound}
	if !d.cover(10, 20, 1) || d.lo != 10 || len(d.slots) != 11 {
		t.Fatalf("cover(10, 20): lo %d, %d slots", d.lo, len(d.slots))
	}
	d.slots[0], d.slots[10] = 1, 2
	if !d.cover(-5, 30, 2) || d.lo != -5 || d.slots[15] != 1 || d.slots[25] != 2 {
		t.Fatalf("cover(-5, 30): lo %d, slot of 10 = %d, of 20 = %d", d.lo, d.slots[15], d.slots[25])
	}
	// One key more above doubles the array (upward); one below doubles it
	// again, with the room below.
	if !d.cover(31, 31, 2) || d.lo != -5 || len(d.slots) != 72 || d.slots[15] != 1 {
		t.Fatalf("cover(31, 31): lo %d, %d slots", d.lo, len(d.slots))
	}
	if !d.cover(-6, -6, 2) || d.lo != 66-143 || len(d.slots) != 144 || d.slots[10-d.lo] != 1 || d.slots[20-d.lo] != 2 {
		t.Fatalf("cover(-6, -6): lo %d, %d slots", d.lo, len(d.slots))
	}
	d = &directIndex{lo: -5, slots: d.slots[-5-d.lo : 31-d.lo], null: notFound}
	if d.cover(0, int64(directLimit(2)), 2) {
		t.Fatal("cover accepted a span over the limit")
	}
	if d.cover(math.MinInt64, math.MaxInt64, 1<<30) {
		t.Fatal("cover accepted the whole int64 range")
	}
	if d.lo != -5 || d.slots[15] != 1 {
		t.Fatal("a refused cover changed the array")
	}
}

// TestAddDecimal checks 128-bit addition across the 64-bit halves and its
// overflow report, and that a decimal sum past 38 digits is an error
// (when it ends).
func TestAddDecimal(t *testing.T) {
	max := decimal128.New(math.MaxInt64, math.MaxUint64)
	min := decimal128.New(math.MinInt64, 0)
	cases := []struct {
		a, b decimal128.Num
		want decimal128.Num
		ok   bool
	}{
		{decimal128.FromI64(-5), decimal128.FromI64(3), decimal128.FromI64(-2), true},
		{decimal128.New(0, math.MaxUint64), decimal128.FromI64(1), decimal128.New(1, 0), true},
		{decimal128.New(1, 0), decimal128.FromI64(-1), decimal128.New(0, math.MaxUint64), true},
		{max, decimal128.FromI64(1), min, false},
		{min, decimal128.FromI64(-1), max, false},
		{max, min, decimal128.FromI64(-1), true},
	}
	for _, c := range cases {
		got, ok := addDecimal(c.a, c.b)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%s + %s = %s, %v; want %s, %v", c.a.BigInt(), c.b.BigInt(), got.BigInt(), ok, c.want.BigInt(), c.ok)
		}
	}
	dt := &arrow.Decimal128Type{Precision: 38, Scale: 0}
	st, err := newAggState(AggSum, []arrow.DataType{dt}, dt, newHasher())
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	// 6e37 fits 38 digits, twice it does not (and still fits 127 bits).
	big := decimal128.FromBigInt(new(big.Int).Mul(big.NewInt(6), new(big.Int).Exp(big.NewInt(10), big.NewInt(37), nil)))
	arr := buildArray(t, mem, dt, []any{big, big})
	defer arr.Release()
	st.resize(1)
	if err := st.update([]uint32{0, 0}, []arrow.Array{arr}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.finish(mem, 1); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("sum of two 38-digit values: %v, want out of range", err)
	}
}

// TestHashShortBytes checks that equal strings hash equally wherever they
// sit in their arrays' buffers (the packed read of short values near the
// end of a buffer takes another path), and that values differing only in
// trailing zero bytes or length hash differently.
func TestHashShortBytes(t *testing.T) {
	mem := memory.NewGoAllocator()
	vals := []any{"", "a", "a\x00", "ab", "R", "F", "12345678", "123456789", "abcdefghijklmnopq", nil, "zz"}
	a := buildArray(t, mem, arrow.BinaryTypes.String, vals)
	defer a.Release()
	// The same values, reversed, so that each sits elsewhere (the last
	// value of a is the first of b and the other way round).
	rev := make([]any, len(vals))
	for i, v := range vals {
		rev[len(vals)-1-i] = v
	}
	b := buildArray(t, mem, arrow.BinaryTypes.String, rev)
	defer b.Release()
	hs := newHasher()
	ha := hs.hashRows([]arrow.Array{a}, a.Len(), nil)
	hb := hs.hashRows([]arrow.Array{b}, b.Len(), nil)
	seen := map[uint64]any{}
	for i := range vals {
		if ha[i] != hb[len(vals)-1-i] {
			t.Errorf("%q hashes to %x and %x", vals[i], ha[i], hb[len(vals)-1-i])
		}
		if o, dup := seen[ha[i]]; dup {
			t.Errorf("%q and %q hash alike", vals[i], o)
		}
		seen[ha[i]] = vals[i]
	}
}
