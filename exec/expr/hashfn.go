package expr

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds the hash functions: md5, sha1, sha256 and sha2(x, bits)
// as lower-case hex text of the UTF-8 (or binary) bytes, and hash(...), a
// stable 64-bit FNV-1a hash of its arguments' values (integers of any width
// and equal values hash alike; NULL has a hash of its own). It is the same
// in every run and version, so it may be stored.

// appendKey appends an encoding of row i of a (type t) that is equal for
// equal values of that type: integers as 8 bytes whatever their width,
// floats with -0 = 0 and one NaN, strings length-prefixed, NULL as a lone
// tag byte.
func appendKey(dst []byte, a arrow.Array, i int, t catalog.Type) []byte {
	if a.IsNull(i) || t.Kind == catalog.KindNull {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	switch t.Kind {
	case catalog.KindBool:
		if a.(*array.Boolean).Value(i) {
			return append(dst, 1)
		}
		return append(dst, 0)
	case catalog.KindInt8:
		return binary.LittleEndian.AppendUint64(dst, uint64(values[int8](a)[i]))
	case catalog.KindInt16:
		return binary.LittleEndian.AppendUint64(dst, uint64(values[int16](a)[i]))
	case catalog.KindInt32, catalog.KindDate:
		return binary.LittleEndian.AppendUint64(dst, uint64(values[int32](a)[i]))
	case catalog.KindInt64, catalog.KindTime, catalog.KindTimestamp, catalog.KindTimestampTZ:
		return binary.LittleEndian.AppendUint64(dst, uint64(values[int64](a)[i]))
	case catalog.KindFloat32, catalog.KindFloat64:
		var f float64
		if t.Kind == catalog.KindFloat32 {
			f = float64(values[float32](a)[i])
		} else {
			f = values[float64](a)[i]
		}
		switch {
		case f == 0:
			f = 0
		case math.IsNaN(f):
			f = math.NaN()
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	case catalog.KindDecimal:
		v := values[i128](a)[i]
		dst = binary.LittleEndian.AppendUint64(dst, v.lo)
		return binary.LittleEndian.AppendUint64(dst, uint64(v.hi))
	case catalog.KindString, catalog.KindJSON:
		s := a.(*array.String).Value(i)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		return append(dst, s...)
	case catalog.KindBinary:
		s := a.(*array.Binary).Value(i)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		return append(dst, s...)
	case catalog.KindInterval:
		v := values[arrow.MonthDayNanoInterval](a)[i]
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v.Months))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(v.Days))
		return binary.LittleEndian.AppendUint64(dst, uint64(v.Nanoseconds))
	}
	return dst
}

// fnv1a hashes b with 64-bit FNV-1a.
func fnv1a(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

const fnvOffset = 14695981039346656037

func (c *compiler) hashFunc(x *planner.Call, args []node) (node, error) {
	name := x.Name
	if name == "hash" {
		types := make([]catalog.Type, len(args))
		for i, a := range args {
			types[i] = a.typ()
		}
		return newKernel(name, x.T, args, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			out := make([]int64, bt.n)
			valid := make([]bool, bt.n)
			var buf []byte
			for i := range out {
				buf = buf[:0]
				for k, a := range in {
					buf = appendKey(buf, a, i, types[k])
				}
				out[i] = int64(fnv1a(fnvOffset, buf))
				valid[i] = true
			}
			return intsArray(bt, out, valid, x.T), nil
		}), nil
	}
	var newHash func() hash.Hash
	switch name {
	case "md5":
		newHash = md5.New
	case "sha1":
		newHash = sha1.New
	case "sha256":
		newHash = sha256.New
	}
	return newKernel(name, catalog.String, args, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		get := func(i int) []byte {
			if b, ok := in[0].(*array.Binary); ok {
				return b.Value(i)
			}
			return []byte(strsOf(in[0]).Value(i))
		}
		var bitsArg []int64
		if len(in) > 1 {
			bitsArg = int64sOf(in[1])
		}
		hashers := map[int64]hash.Hash{}
		return strRows(bt, in, arrow.BinaryTypes.String, func(dst []byte, i int) ([]byte, bool, error) {
			var h hash.Hash
			if newHash != nil {
				if h = hashers[0]; h == nil {
					h = newHash()
					hashers[0] = h
				}
			} else {
				bits := bitsArg[i]
				if h = hashers[bits]; h == nil {
					switch bits {
					case 0, 256:
						h = sha256.New()
					case 224:
						h = sha256.New224()
					case 384:
						h = sha512.New384()
					case 512:
						h = sha512.New()
					default:
						return dst, true, nil
					}
					hashers[bits] = h
				}
			}
			h.Reset()
			h.Write(get(i))
			var sum [64]byte
			return hex.AppendEncode(dst, h.Sum(sum[:0])), false, nil
		})
	}), nil
}
