package stream

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// TestKeyCache drives a deduplication's key cache with tiny limits (so
// that states are read ahead in batches, flushed early, dropped from memory, epochs turn slow,
// the Bloom filter is rebuilt, and the cache is made anew as after a
// restart) against a plain map, and checks after every checkpoint that
// the store holds exactly the map's states and one time index entry for
// each key, at its latest time.
func TestKeyCache(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewSource(7))
	newCache := func() *keyCache {
		c := newKeyCache(func() *pebble.DB { return db }, dedupKeys, dedupTimes)
		c.maxKeys, c.maxDirty, c.maxEpoch = 50, 40, 300
		return c
	}
	c := newCache()
	ref := map[string]dedupState{}
	now := int64(0)
	slowEpochs := 0
	for epoch := 0; epoch < 60; epoch++ {
		b := db.NewIndexedBatch()
		ops := 50 + rng.Intn(600)
		for i := 0; i < ops; i++ {
			if i%100 == 0 {
				// Read a batch's keys at once, as deduplication does.
				var keys [][]byte
				for j := 0; j < 80; j++ {
					keys = append(keys, []byte(fmt.Sprintf("k%04d", rng.Intn(2000))))
				}
				if err := c.prefetch(b, keys); err != nil {
					t.Fatal(err)
				}
			}
			if i == 150 && epoch%4 == 2 {
				c.added = c.bloom.capacity + 1 // rebuilt amid an epoch
			}
			key := []byte(fmt.Sprintf("k%04d", rng.Intn(2000)))
			e, err := c.get(b, key)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := ref[string(key)]
			if (e != nil) != ok || (ok && e.s != want) {
				t.Fatalf("epoch %d: key %s: got %+v, want %+v (present %v)", epoch, key, e, want, ok)
			}
			if rng.Intn(5) == 0 {
				continue // a duplicate that changes nothing
			}
			now += int64(rng.Intn(3))
			s := dedupState{best: now - int64(rng.Intn(5)), latest: now + int64(rng.Intn(10)), ref: uint64(i), emitted: rng.Intn(2) == 0}
			if err := c.put(b, key, e, s); err != nil {
				t.Fatal(err)
			}
			ref[string(key)] = s
		}
		if c.slow {
			slowEpochs++
		}
		// The checkpoint: flush, expire, commit.
		if err := c.flush(b); err != nil {
			t.Fatal(err)
		}
		if epoch%3 == 1 {
			limit := now - int64(rng.Intn(40))
			if err := c.expire(b, limit); err != nil {
				t.Fatal(err)
			}
			for k, s := range ref {
				if s.latest < limit {
					delete(ref, k)
				}
			}
		}
		commit := b
		if side := c.takeSide(); side != nil {
			if err := side.Apply(b, nil); err != nil {
				t.Fatal(err)
			}
			b.Close()
			commit = side
		}
		if err := commit.Commit(pebble.Sync); err != nil {
			t.Fatal(err)
		}
		commit.Close()
		c.committed()
		checkStore(t, db, ref, epoch)
		switch {
		case epoch%7 == 6:
			c = newCache() // a restart: the filter is built from the store
		case epoch%5 == 4:
			c.added = c.bloom.capacity + 1 // the filter is rebuilt
		}
	}
	if slowEpochs == 0 {
		t.Fatal("no epoch outgrew maxEpoch")
	}
	// The end of input forgets every key.
	b := db.NewIndexedBatch()
	if err := c.reset(b); err != nil {
		t.Fatal(err)
	}
	commit := b
	if side := c.takeSide(); side != nil {
		side.Apply(b, nil)
		commit = side
	}
	if err := commit.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	checkStore(t, db, map[string]dedupState{}, -1)
}

// checkStore checks that the store holds exactly the states of ref, and
// one index entry per key at its latest time.
func checkStore(t *testing.T, db *pebble.DB, ref map[string]dedupState, epoch int) {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(dedupKeys), UpperBound: prefixEnd(dedupKeys)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		key := string(bytes.TrimPrefix(it.Key(), []byte(dedupKeys)))
		s, err := decodeDedupState(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		if want, ok := ref[key]; !ok || want != s {
			t.Fatalf("epoch %d: store has %s = %+v, want %+v (present %v)", epoch, key, s, want, ok)
		}
		n++
	}
	it.Close()
	if n != len(ref) {
		t.Fatalf("epoch %d: store has %d keys, want %d", epoch, n, len(ref))
	}
	it, err = db.NewIter(&pebble.IterOptions{LowerBound: []byte(dedupTimes), UpperBound: prefixEnd(dedupTimes)})
	if err != nil {
		t.Fatal(err)
	}
	n = 0
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		key, tm := string(k[len(dedupTimes)+8:]), decodeTime(k[len(dedupTimes):])
		if s, ok := ref[key]; !ok || s.latest != tm {
			t.Fatalf("epoch %d: index entry %s at %d; state %+v (present %v)", epoch, key, tm, s, ok)
		}
		n++
	}
	it.Close()
	if n != len(ref) {
		t.Fatalf("epoch %d: index has %d entries, want %d", epoch, n, len(ref))
	}
}
