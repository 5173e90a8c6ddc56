package stream

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"

	"github.com/cockroachdb/pebble"
)

// keyCache sits in front of a deduplication's key states in Pebble (see
// dedup): the states of the keys read or written lately, in memory, and a
// Bloom filter of every key the store may hold, so that a key never seen
// (the common case: most keys are new) costs no Pebble lookup at all, and
// a key seen again lately costs a map lookup.
//
// A state changed in memory is dirty until flush writes it (and moves its
// entry in the time index) into a batch committed with the checkpoint.
// Dirty states are flushed when there are maxDirty of them and at every
// checkpoint, before the checkpoint reads the index; clean states are
// dropped when there are more than maxKeys.
//
// Where flush writes: a Pebble indexed batch (the checkpoint's, which
// reads see) costs a skiplist insertion per entry, most of the time of a
// deduplication. So an epoch's states go into a plain batch of their own
// (side), appended to the checkpoint's at commit, and every key written
// in the epoch stays in memory until then: reads of any other key find
// the committed state in the store. An epoch that writes more than
// maxEpoch keys moves its side batch into the checkpoint's and writes
// there for the rest of the epoch (slow), so that its keys can leave
// memory. Memory is thus bounded whatever the number of live keys: the
// Bloom filter takes about 10 bits a key.
type keyCache struct {
	keys, times string
	states      map[string]*cachedState
	dirty       []*cachedState
	maxKeys     int
	maxDirty    int
	maxEpoch    int
	// side is the plain batch of the epoch's writes (nil: none yet); slow
	// is set once the epoch writes into the checkpoint's batch instead.
	side *pebble.Batch
	slow bool
	// epoch are the keys written into side this epoch (kept in memory).
	epoch []*cachedState
	// sideSize is the size of the last epoch's side batch.
	sideSize int
	// db is the store (opened after the cache is made).
	db    func() *pebble.DB
	bloom bloom
	// ready: the Bloom filter holds the keys of the store (built on first
	// use: after a restart the store has keys the filter never saw).
	ready bool
	// added counts the keys added to the filter since it was built; past
	// its capacity it is rebuilt (expired keys stay in a Bloom filter).
	added int
}

// cachedState is a key's state in memory.
type cachedState struct {
	key string
	s   dedupState
	// stored is the latest time of the state in the batch or the store
	// (its time index entry), when stored.
	stored  int64
	isNew   bool // not in the batch nor the store yet
	isDirty bool
	// inEpoch: written into the side batch this epoch.
	inEpoch bool
}

func newKeyCache(db func() *pebble.DB, keys, times string) *keyCache {
	return &keyCache{db: db, keys: keys, times: times, states: map[string]*cachedState{},
		maxKeys: 1 << 18, maxDirty: 1 << 18, maxEpoch: 1 << 20}
}

// target is the batch the epoch's state changes go into: side, or the
// checkpoint's batch b once the epoch is slow.
func (c *keyCache) target(b *pebble.Batch) (*pebble.Batch, error) {
	if c.slow {
		return b, nil
	}
	if len(c.epoch) >= c.maxEpoch {
		// Too many keys to hold: the writes so far go into the
		// checkpoint's batch, and the rest of the epoch's too.
		if c.side != nil {
			if err := b.Apply(c.side, nil); err != nil {
				return nil, err
			}
			c.side.Close()
			c.side = nil
		}
		for _, e := range c.epoch {
			e.inEpoch = false
		}
		c.epoch, c.slow = c.epoch[:0], true
		return b, nil
	}
	if c.side == nil {
		c.side = c.db().NewBatchWithSize(c.sideSize)
	}
	return c.side, nil
}

// takeSide returns the side batch of the epoch (nil for none), to be
// appended to the checkpoint's batch and committed with it.
func (c *keyCache) takeSide() *pebble.Batch {
	s := c.side
	c.side = nil
	if s != nil {
		c.sideSize = len(s.Repr())
	}
	return s
}

// committed starts a new epoch: the checkpoint holding the epoch's
// writes is committed, its keys may leave memory.
func (c *keyCache) committed() {
	for _, e := range c.epoch {
		e.inEpoch = false
	}
	c.epoch, c.slow = c.epoch[:0], false
	c.evict()
}

// get returns the state of key (nil when it has none): from memory, or
// (when the Bloom filter says the store may hold it) from the batch b
// over the store.
func (c *keyCache) get(b *pebble.Batch, key []byte) (*cachedState, error) {
	if e, ok := c.states[string(key)]; ok {
		return e, nil
	}
	if err := c.build(b); err != nil {
		return nil, err
	}
	if !c.bloom.has(key) {
		return nil, nil
	}
	v, closer, err := b.Get(append([]byte(c.keys), key...))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := decodeDedupState(v)
	closer.Close()
	if err != nil {
		return nil, err
	}
	e := &cachedState{key: string(key), s: s, stored: s.latest}
	c.states[e.key] = e
	return e, nil
}

// prefetch reads the states of the keys (sorted, unique: in place) that
// are not in memory and the Bloom filter says the store may hold, through
// one iterator in key order, which costs far less than a lookup each.
func (c *keyCache) prefetch(b *pebble.Batch, keys [][]byte) error {
	if err := c.build(b); err != nil {
		return err
	}
	want := keys[:0]
	for _, k := range keys {
		if _, ok := c.states[string(k)]; !ok && c.bloom.has(k) {
			want = append(want, k)
		}
	}
	if len(want) < 2 {
		return nil // get looks one key up as well
	}
	slices.SortFunc(want, bytes.Compare)
	want = slices.CompactFunc(want, bytes.Equal)
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: []byte(c.keys), UpperBound: prefixEnd(c.keys)})
	if err != nil {
		return err
	}
	var seek []byte
	for _, k := range want {
		seek = append(append(seek[:0], c.keys...), k...)
		if !it.SeekGE(seek) {
			break
		}
		if !bytes.Equal(it.Key(), seek) {
			continue
		}
		s, err := decodeDedupState(it.Value())
		if err != nil {
			it.Close()
			return err
		}
		e := &cachedState{key: string(k), s: s, stored: s.latest}
		c.states[e.key] = e
	}
	return it.Close()
}

// put sets the state of key, whose entry get just returned (nil: a new
// key): in memory, dirty.
func (c *keyCache) put(b *pebble.Batch, key []byte, e *cachedState, s dedupState) error {
	if e == nil {
		e = &cachedState{key: string(key), isNew: true}
		c.states[e.key] = e
		c.bloom.add(key)
		c.added++
	}
	e.s = s
	if !e.isDirty {
		e.isDirty = true
		c.dirty = append(c.dirty, e)
	}
	if len(c.dirty) >= c.maxDirty {
		if err := c.flush(b); err != nil {
			return err
		}
		c.evict()
	}
	return nil
}

// flush writes the dirty states into the batch, each key's time index
// entry moved to its latest time.
func (c *keyCache) flush(cb *pebble.Batch) error {
	if len(c.dirty) == 0 {
		return nil
	}
	b, err := c.target(cb)
	if err != nil {
		return err
	}
	var k []byte
	for _, e := range c.dirty {
		key := e.key
		if e.isNew || e.stored != e.s.latest {
			if !e.isNew {
				k = append(timeKey(append(k[:0], c.times...), e.stored), key...)
				if err := b.Delete(k, nil); err != nil {
					return err
				}
			}
			k = append(timeKey(append(k[:0], c.times...), e.s.latest), key...)
			if err := b.Set(k, nil, nil); err != nil {
				return err
			}
		}
		k = append(append(k[:0], c.keys...), key...)
		if err := b.Set(k, e.s.encode(), nil); err != nil {
			return err
		}
		e.stored, e.isNew, e.isDirty = e.s.latest, false, false
		if !c.slow && !e.inEpoch {
			e.inEpoch = true
			c.epoch = append(c.epoch, e)
		}
	}
	clear(c.dirty)
	c.dirty = c.dirty[:0]
	return nil
}

// evict drops clean states while there are more than maxKeys (but not
// the ones in the side batch).
func (c *keyCache) evict() {
	over := len(c.states) - c.maxKeys
	if over <= 0 {
		return
	}
	for k, e := range c.states {
		if over <= 0 {
			break
		}
		if !e.isDirty && !e.inEpoch {
			delete(c.states, k)
			over--
		}
	}
}

// expire forgets the keys whose latest time is before limit (after a
// flush): their states and time index entries, deleted in the batch the
// epoch writes to (b, or side).
func (c *keyCache) expire(b *pebble.Batch, limit int64) error {
	w, err := c.target(b)
	if err != nil {
		return err
	}
	if w == b {
		// Every state is in b or the store: the index there is whole.
		return expireKeys(b, c.times, c.keys, limit, func(key []byte) { delete(c.states, string(key)) })
	}
	// The store's index lacks the epoch's changes, which side holds:
	// its entries before limit are of keys either untouched this epoch
	// (their state is the store's) or in memory (their state is that).
	var del []byte
	drop := func(key []byte, stored int64) error {
		del = append(append(del[:0], c.keys...), key...)
		if err := w.Delete(del, nil); err != nil {
			return err
		}
		del = append(timeKey(append(del[:0], c.times...), stored), key...)
		return w.Delete(del, nil)
	}
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: []byte(c.times), UpperBound: timeKey([]byte(c.times), limit)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		key, t := k[len(c.times)+8:], decodeTime(k[len(c.times):])
		if e, ok := c.states[string(key)]; ok {
			if e.s.latest >= limit {
				continue // moved on this epoch
			}
			t = e.stored
			delete(c.states, string(key))
		}
		if err := drop(key, t); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	// The keys of this epoch: new ones, not in the store's index.
	for _, e := range c.epoch {
		if e.s.latest >= limit || c.states[e.key] != e {
			continue
		}
		if err := drop([]byte(e.key), e.stored); err != nil {
			return err
		}
		delete(c.states, e.key)
	}
	return nil
}

// reset forgets every key: the store holds none any more after the
// deletions it writes.
func (c *keyCache) reset(b *pebble.Batch) error {
	w, err := c.target(b)
	if err != nil {
		return err
	}
	clear(c.states)
	c.dirty = c.dirty[:0]
	c.bloom = newBloom(0)
	c.ready, c.added = true, 0
	return expireKeys(w, c.times, c.keys, math.MaxInt64, nil)
}

// build makes the Bloom filter of the keys of the batch and store, when it
// has none yet or has taken more keys than it was sized for.
func (c *keyCache) build(b *pebble.Batch) error {
	if c.ready && c.added <= c.bloom.capacity {
		return nil
	}
	var keys [][]byte
	n := 0
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: []byte(c.keys), UpperBound: prefixEnd(c.keys)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("reading pipeline state: %w", err)
	}
	// Dirty keys new to the store are not in it yet, nor the keys of the
	// side batch: they count too.
	for _, e := range c.dirty {
		if e.isNew {
			keys = append(keys, []byte(e.key))
		}
	}
	for _, e := range c.epoch {
		keys = append(keys, []byte(e.key))
	}
	c.bloom = newBloom(2 * (n + len(keys)))
	if n > 0 {
		it, err := b.NewIter(&pebble.IterOptions{LowerBound: []byte(c.keys), UpperBound: prefixEnd(c.keys)})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			c.bloom.add(bytes.TrimPrefix(it.Key(), []byte(c.keys)))
		}
		if err := it.Close(); err != nil {
			return fmt.Errorf("reading pipeline state: %w", err)
		}
	}
	for _, k := range keys {
		c.bloom.add(k)
	}
	c.ready, c.added = true, 0
	return nil
}

// bloom is a Bloom filter: about 10 bits and 7 probes a key, a false
// positive rate near 1%.
type bloom struct {
	seed     maphash.Seed
	bits     []uint64
	mask     uint64
	capacity int
}

func newBloom(capacity int) bloom {
	capacity = max(capacity, 1<<20)
	n := uint64(1) << bits.Len64(uint64(capacity)*10/64) // words, a power of two
	return bloom{seed: maphash.MakeSeed(), bits: make([]uint64, n), mask: n*64 - 1, capacity: capacity}
}

const bloomProbes = 7

func (f *bloom) add(key []byte) {
	h := maphash.Bytes(f.seed, key)
	h1, h2 := h, h>>33|1
	for i := 0; i < bloomProbes; i++ {
		bit := h1 & f.mask
		f.bits[bit>>6] |= 1 << (bit & 63)
		h1 += h2
	}
}

func (f *bloom) has(key []byte) bool {
	h := maphash.Bytes(f.seed, key)
	h1, h2 := h, h>>33|1
	for i := 0; i < bloomProbes; i++ {
		bit := h1 & f.mask
		if f.bits[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		h1 += h2
	}
	return true
}
