package exec

import (
	"encoding/binary"
	"hash/maphash"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/cespare/xxhash/v2"
)

// hasher hashes key columns batch at a time. Every table that compares
// hashes of two inputs (a join's build and probe side) shares one hasher.
type hasher struct {
	seed maphash.Seed
	salt uint64
	// stable hashes text with xxhash instead of a seeded maphash, so that
	// hashes are the same in every process (StableHash).
	stable bool
}

func newHasher() *hasher {
	s := maphash.MakeSeed()
	return &hasher{seed: s, salt: maphash.Bytes(s, []byte("etlc"))}
}

// StableHash fills h[:n] with a hash of each of the n rows of the key
// columns cols that is the same in every process and on every machine
// (equal keys, as grouping compares them, hash equally): the stream
// runtime partitions persisted state by it. It returns h, grown as needed.
func StableHash(cols []arrow.Array, n int, h []uint64) []uint64 {
	hs := hasher{salt: 0x243f6a8885a308d3, stable: true}
	return hs.hashRows(cols, n, h)
}

// nullHash is what a NULL contributes to a row's hash.
const nullHash = 0x6a09e667f3bcc909

// mix64 is a 64-bit finaliser (splitmix64) spreading every input bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashRows fills h[:n] with the combined hash of the key columns cols for
// each of the n rows.
func (hs *hasher) hashRows(cols []arrow.Array, n int, h []uint64) []uint64 {
	if cap(h) < n {
		h = make([]uint64, n)
	}
	h = h[:n]
	if len(cols) == 0 {
		for i := range h {
			h[i] = hs.salt
		}
		return h
	}
	for c, col := range cols {
		hs.hashColumn(col, h, c == 0)
	}
	return h
}

// combine folds the value hash v into the running hash of a row.
func (hs *hasher) combine(h *uint64, v uint64, first bool) {
	if first {
		*h = mix64(v ^ hs.salt)
	} else {
		*h = mix64(*h ^ (v * 0x9e3779b97f4a7c15))
	}
}

// hashColumn folds column col into h (first: h starts fresh).
func (hs *hasher) hashColumn(col arrow.Array, h []uint64, first bool) {
	v := validityOf(col)
	switch physOf(col.DataType()) {
	case physNull:
		for i := range h {
			hs.combine(&h[i], nullHash, first)
		}
	case physBool:
		b := boolValsOf(col)
		for i := range h {
			x := uint64(nullHash)
			if v.valid(i) {
				x = 0
				if b.get(i) {
					x = 1
				}
			}
			hs.combine(&h[i], x, first)
		}
	case physInt8:
		hashInts(hs, fixedVals[int8](col), v, h, first)
	case physInt16:
		hashInts(hs, fixedVals[int16](col), v, h, first)
	case physInt32:
		hashInts(hs, fixedVals[int32](col), v, h, first)
	case physInt64:
		hashInts(hs, fixedVals[int64](col), v, h, first)
	case physFloat32:
		vals := fixedVals[float32](col)
		for i := range h {
			x := uint64(nullHash)
			if v.valid(i) {
				x = floatBits(float64(vals[i]))
			}
			hs.combine(&h[i], x, first)
		}
	case physFloat64:
		vals := fixedVals[float64](col)
		for i := range h {
			x := uint64(nullHash)
			if v.valid(i) {
				x = floatBits(vals[i])
			}
			hs.combine(&h[i], x, first)
		}
	case physDecimal:
		vals := fixedVals[decimal128.Num](col)
		for i := range h {
			x := uint64(nullHash)
			if v.valid(i) {
				x = mix64(vals[i].LowBits()) ^ uint64(vals[i].HighBits())
			}
			hs.combine(&h[i], x, first)
		}
	case physInterval:
		vals := fixedVals[arrow.MonthDayNanoInterval](col)
		for i := range h {
			x := uint64(nullHash)
			if v.valid(i) {
				iv := vals[i]
				x = mix64(uint64(iv.Months)<<32|uint64(uint32(iv.Days))) ^ uint64(iv.Nanoseconds)
			}
			hs.combine(&h[i], x, first)
		}
	case physBytes:
		offs, data := bytesVals(col)
		if !hs.stable {
			for i := range h {
				x := uint64(nullHash)
				if v.valid(i) {
					x = hs.hashBytes(data[offs[i]:offs[i+1]], data, int(offs[i]))
				}
				hs.combine(&h[i], x, first)
			}
			return
		}
		for i := range h {
			x := uint64(nullHash)
			if v.valid(i) {
				if hs.stable {
					x = xxhash.Sum64(data[offs[i]:offs[i+1]])
				} else {
					x = maphash.Bytes(hs.seed, data[offs[i]:offs[i+1]])
				}
			}
			hs.combine(&h[i], x, first)
		}
	}
}

func hashInts[T int8 | int16 | int32 | int64](hs *hasher, vals []T, v validity, h []uint64, first bool) {
	if v.bm == nil {
		if first {
			for i := range h {
				h[i] = mix64(uint64(vals[i]) ^ hs.salt)
			}
			return
		}
		for i := range h {
			h[i] = mix64(h[i] ^ (uint64(vals[i]) * 0x9e3779b97f4a7c15))
		}
		return
	}
	for i := range h {
		x := uint64(nullHash)
		if v.valid(i) {
			x = uint64(vals[i])
		}
		hs.combine(&h[i], x, first)
	}
}

// floatBits returns the bits of f with -0 folded into 0 and every NaN into
// one NaN, so that values SQL treats as equal hash equally.
func floatBits(f float64) uint64 {
	if f == 0 {
		return 0
	}
	if f != f {
		return 0x7ff8000000000001
	}
	return math.Float64bits(f)
}

// hashBytes hashes the value b, which starts at offset off of data: values
// of up to 8 bytes (codes, flags, short names) are packed into a word and
// mixed with their length, longer ones hashed with the seeded maphash.
func (hs *hasher) hashBytes(b, data []byte, off int) uint64 {
	n := len(b)
	if n > 8 {
		return maphash.Bytes(hs.seed, b)
	}
	var w uint64
	if off+8 <= len(data) {
		w = binary.LittleEndian.Uint64(data[off:]) & (^uint64(0) >> (64 - 8*n))
	} else {
		for k := n - 1; k >= 0; k-- {
			w = w<<8 | uint64(b[k])
		}
	}
	return mix64(w^hs.salt) + uint64(n)*0x9e3779b97f4a7c15
}
