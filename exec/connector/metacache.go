package connector

import (
	"container/list"
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/apache/arrow/go/v15/parquet/metadata"
)

// MetaCacheBytes is the default bound of a FileConnector's metadata
// cache: the parsed Parquet footers and the file listings it keeps.
const MetaCacheBytes = 64 << 20

// metaCache keeps what reading a file source costs before its first row:
// the listing of a committed directory (its _SUCCESS manifest, parsed,
// and the stat of every file it names) and the parsed footers of Parquet
// files. Short queries over small tables spend most of their time there.
//
// An entry is valid only for the exact version of the file it was made
// from: a footer is keyed by the file's URI, size and modification time
// (files a sink writes are never changed in place, so a new version is a
// new name or at least a new size or time); a listing is checked against
// a stat of its manifest (size, modification time and, on the local file
// system, the inode, which every publish's rename-into-place changes)
// before it is used. A sink that publishes through this connector also
// drops the listing of its directory at once. The cache is bounded in
// bytes (an estimate of the parsed structures) and evicts the least
// recently used entries first.
type metaCache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	lru   *list.List // of *metaEntry, most recent first
	byKey map[string]*list.Element
	stats MetaCacheStats
}

// MetaCacheStats counts a metadata cache's lookups.
type MetaCacheStats struct {
	FooterHits, FooterMisses   int64
	ListingHits, ListingMisses int64
	// Entries and Bytes are what the cache holds now.
	Entries int
	Bytes   int64
}

type metaEntry struct {
	key  string
	size int64
	// footer entries
	footer *metadata.FileMetaData
	// listing entries
	version fileVersion
	files   []SourceFile
}

// fileVersion identifies one version of a file.
type fileVersion struct {
	size  int64
	mtime time.Time
	inode uint64
}

func newMetaCache(max int64) *metaCache {
	return &metaCache{max: max, lru: list.New(), byKey: map[string]*list.Element{}}
}

func footerKey(uri string, size int64, mtime time.Time) string {
	return "f\x00" + uri + "\x00" + itoa(size) + "\x00" + itoa(mtime.UnixNano())
}

func listingKey(uri string) string { return "l\x00" + uri }

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// footer returns the cached footer of one version of a file.
func (c *metaCache) footer(uri string, size int64, mtime time.Time) *metadata.FileMetaData {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[footerKey(uri, size, mtime)]; ok {
		c.lru.MoveToFront(el)
		c.stats.FooterHits++
		return el.Value.(*metaEntry).footer
	}
	c.stats.FooterMisses++
	return nil
}

// putFooter keeps a parsed footer. The footer is shared, read only, by
// every later read of the file.
func (c *metaCache) putFooter(uri string, size int64, mtime time.Time, md *metadata.FileMetaData) {
	if c == nil || md == nil {
		return
	}
	// Computed lazily on first use: compute it now, before readers share
	// the footer.
	md.WriterVersion()
	// The parsed footer is several times its serialized size.
	c.put(&metaEntry{key: footerKey(uri, size, mtime), size: 1024 + 8*int64(md.Size()), footer: md})
}

// listing returns a cached listing made when the directory's manifest
// was at version v.
func (c *metaCache) listing(uri string, v fileVersion) ([]SourceFile, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[listingKey(uri)]
	if !ok || el.Value.(*metaEntry).version != v {
		c.stats.ListingMisses++
		return nil, false
	}
	c.lru.MoveToFront(el)
	c.stats.ListingHits++
	files := el.Value.(*metaEntry).files
	out := make([]SourceFile, len(files))
	copy(out, files)
	return out, true
}

// putListing keeps the listing of a directory whose manifest was at
// version v.
func (c *metaCache) putListing(uri string, v fileVersion, files []SourceFile) {
	if c == nil {
		return
	}
	size := int64(256)
	for _, f := range files {
		size += 128 + int64(len(f.Name)+len(f.Rel))
		for _, p := range f.Partitions {
			size += 64 + int64(len(p.Column)+len(p.Value))
		}
	}
	c.put(&metaEntry{key: listingKey(uri), size: size, version: v, files: append([]SourceFile(nil), files...)})
}

// forgetListing drops the listing of a directory (a sink published to it).
func (c *metaCache) forgetListing(uri string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[listingKey(uri)]; ok {
		c.remove(el)
	}
}

func (c *metaCache) put(e *metaEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.size > c.max/4 {
		return // one entry never takes a large part of the cache
	}
	if el, ok := c.byKey[e.key]; ok {
		c.remove(el)
	}
	c.byKey[e.key] = c.lru.PushFront(e)
	c.used += e.size
	for c.used > c.max {
		c.remove(c.lru.Back())
	}
}

func (c *metaCache) remove(el *list.Element) {
	e := el.Value.(*metaEntry)
	c.lru.Remove(el)
	delete(c.byKey, e.key)
	c.used -= e.size
}

// MetaCacheStats returns the counts of the connector's metadata cache.
func (c *FileConnector) MetaCacheStats() MetaCacheStats {
	mc := c.metaCache()
	if mc == nil {
		return MetaCacheStats{}
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	st := mc.stats
	st.Entries, st.Bytes = mc.lru.Len(), mc.used
	return st
}

// metaCache returns the connector's cache, made on first use (nil when
// Config.MetaCacheBytes is negative: no cache).
func (c *FileConnector) metaCache() *metaCache {
	if c == nil || c.cfg.MetaCacheBytes < 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.meta == nil {
		n := c.cfg.MetaCacheBytes
		if n == 0 {
			n = MetaCacheBytes
		}
		c.meta = newMetaCache(n)
	}
	return c.meta
}

// manifestVersion stats a directory's manifest on the local file system;
// ok is false when there is none (or it cannot be read), and for other
// file systems.
func manifestVersion(ctx context.Context, fs FS, dir string) (fileVersion, bool) {
	name := joinName(dir, manifestName)
	if _, ok := fs.(LocalFS); ok {
		st, err := os.Stat(filepath.FromSlash(name))
		if err != nil || st.IsDir() {
			return fileVersion{}, false
		}
		v := fileVersion{size: st.Size(), mtime: st.ModTime()}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			v.inode = sys.Ino
		}
		return v, true
	}
	// On S3 a modification time has whole seconds and no inode tells two
	// versions apart: a manifest another writer replaced within the same
	// second by one of the same size would go unnoticed. Not cached.
	return fileVersion{}, false
}

// list lists a source as listSource does, through the metadata cache for
// a directory with a manifest: while the manifest stays the same version,
// the listing made from it is used again (a committed directory's files
// are named by its manifest and never change in place).
func (c *FileConnector) list(ctx context.Context, fs FS, name string) ([]SourceFile, error) {
	mc := c.metaCache()
	if mc == nil || hasGlob(name) || len(name) == 0 || name[len(name)-1] != '/' {
		return listSource(ctx, fs, name)
	}
	dir := dirName(name)
	v, ok := manifestVersion(ctx, fs, dir)
	if !ok {
		return listSource(ctx, fs, name)
	}
	uri := fs.URI(dir)
	if files, ok := mc.listing(uri, v); ok {
		return files, nil
	}
	files, err := listSource(ctx, fs, name)
	if err != nil {
		return nil, err
	}
	// Kept only when the manifest did not change while it was read.
	if v2, ok := manifestVersion(ctx, fs, dir); ok && v2 == v {
		mc.putListing(uri, v, files)
	}
	return files, nil
}
