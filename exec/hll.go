package exec

import (
	"math"
	"math/bits"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// HyperLogLog with 2^14 registers (standard error about 0.8%). A group
// starts sparse (a map of the registers set, exact for small counts via
// linear counting) and turns dense when the map would outgrow the
// registers' footprint.
const (
	hllP      = 14
	hllM      = 1 << hllP
	hllSparse = 256
)

type hll struct {
	sparse map[uint16]uint8
	dense  []uint8
}

// add folds a 64-bit hash into the sketch; it returns the bytes it grew by.
func (h *hll) add(x uint64) int64 {
	idx := uint16(x >> (64 - hllP))
	rho := uint8(bits.LeadingZeros64(x<<hllP|1<<(hllP-1)) + 1)
	if h.dense != nil {
		if rho > h.dense[idx] {
			h.dense[idx] = rho
		}
		return 0
	}
	if h.sparse == nil {
		h.sparse = make(map[uint16]uint8, 8)
	}
	if old, ok := h.sparse[idx]; ok {
		if rho > old {
			h.sparse[idx] = rho
		}
		return 0
	}
	h.sparse[idx] = rho
	if len(h.sparse) <= hllSparse {
		return 4
	}
	h.dense = make([]uint8, hllM)
	for i, r := range h.sparse {
		h.dense[i] = r
	}
	h.sparse = nil
	return hllM - 4*hllSparse
}

// estimate returns the estimated number of distinct values.
func (h *hll) estimate() int64 {
	const m = float64(hllM)
	if h.dense == nil {
		if len(h.sparse) == 0 {
			return 0
		}
		return int64(math.Round(m * math.Log(m/(m-float64(len(h.sparse))))))
	}
	sum := 0.0
	zeros := 0
	for _, r := range h.dense {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int64(math.Round(e))
}

// hllState is approx_count_distinct: one sketch per group over the value
// hashes of the argument (NULLs skipped).
type hllState struct {
	hs    *hasher
	hlls  []hll
	hbuf  []uint64
	grown int64
}

func (s *hllState) resize(n int) { s.hlls = grow(s.hlls, n) }
func (s *hllState) update(groups []uint32, args []arrow.Array) error {
	if cap(s.hbuf) < len(groups) {
		s.hbuf = make([]uint64, len(groups))
	}
	h := s.hbuf[:len(groups)]
	s.hs.hashColumn(args[0], h, true)
	v := validityOf(args[0])
	for i, g := range groups {
		if g != notFound && v.valid(i) {
			s.grown += s.hlls[g].add(h[i])
		}
	}
	return nil
}
func (s *hllState) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	out := make([]int64, n)
	for g := range out {
		out[g] = s.hlls[g].estimate()
	}
	return makeFixed(mem, arrow.PrimitiveTypes.Int64, out, nil), nil
}
func (s *hllState) bytes() int64 { return sizeOf(s.hlls) + s.grown }
