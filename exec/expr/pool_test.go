package expr

import "sync"

// poolAlloc recycles freed buffers by size (benchmarks).
type poolAlloc struct {
	mu   sync.Mutex
	free map[int][][]byte
}

func (p *poolAlloc) Allocate(size int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free == nil {
		p.free = map[int][][]byte{}
	}
	if l := p.free[size]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[size] = l[:len(l)-1]
		return b
	}
	return make([]byte, size)
}

func (p *poolAlloc) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	n := p.Allocate(size)
	copy(n, b)
	p.Free(b)
	return n
}

func (p *poolAlloc) Free(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free[len(b)] = append(p.free[len(b)], b)
}
