package exec

import (
	"math"
	"math/bits"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// HyperLogLog with 2^14 registers (standard error about 0.8%). A group
// starts as the exact set of its value hashes (so small counts are exact)
// and turns into registers past hllSparse distinct hashes.
const (
	hllP      = 14
	hllM      = 1 << hllP
	hllSparse = 256
)

type hll struct {
	sparse map[uint64]struct{}
	dense  []uint8
}

// add folds a 64-bit hash into the sketch; it returns the bytes it grew by.
func (h *hll) add(x uint64) int64 {
	if h.dense != nil {
		h.set(x)
		return 0
	}
	if h.sparse == nil {
		h.sparse = make(map[uint64]struct{}, 8)
	}
	if _, ok := h.sparse[x]; ok {
		return 0
	}
	h.sparse[x] = struct{}{}
	if len(h.sparse) <= hllSparse {
		return 16
	}
	h.dense = make([]uint8, hllM)
	for y := range h.sparse {
		h.set(y)
	}
	h.sparse = nil
	return hllM - 16*hllSparse
}

func (h *hll) set(x uint64) {
	idx := x >> (64 - hllP)
	rho := uint8(bits.LeadingZeros64(x<<hllP|1<<(hllP-1)) + 1)
	if rho > h.dense[idx] {
		h.dense[idx] = rho
	}
}

// estimate returns the estimated number of distinct values.
func (h *hll) estimate() int64 {
	const m = float64(hllM)
	if h.dense == nil {
		return int64(len(h.sparse))
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
