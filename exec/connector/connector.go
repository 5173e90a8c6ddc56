package connector

import (
	"context"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Config configures a FileConnector.
type Config struct {
	// Allocator allocates the Arrow buffers of read batches
	// (memory.DefaultAllocator when nil).
	Allocator memory.Allocator
	// S3Endpoint, when set, overrides AWS_ENDPOINT_URL_S3 and
	// AWS_ENDPOINT_URL (see NewS3Client).
	S3Endpoint string
	// MetaCacheBytes bounds the cache of Parquet footers and directory
	// listings (0: MetaCacheBytes; negative: no cache).
	MetaCacheBytes int64
}

// FileConnector reads and writes files on the local file system and on S3.
// It holds the S3 client, made on first use; it is safe for concurrent use.
type FileConnector struct {
	cfg Config

	mu       sync.Mutex
	s3Client *s3.Client
	// held are the run ids of prepared sinks that Sink.Hold keeps from
	// recovery (guarded by mu).
	held map[string]bool
	// meta caches footers and listings (made on first use; guarded by mu).
	meta *metaCache
}

// NewFileConnector returns a file connector.
func NewFileConnector(cfg Config) *FileConnector {
	return &FileConnector{cfg: cfg, held: map[string]bool{}}
}

// hold marks (on) or unmarks a run id as held.
func (c *FileConnector) hold(runID string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		c.held = map[string]bool{}
	}
	if on {
		c.held[runID] = true
	} else {
		delete(c.held, runID)
	}
}

// isHeld reports whether a run id is held.
func (c *FileConnector) isHeld(runID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[runID]
}

func (c *FileConnector) mem() memory.Allocator {
	if c.cfg.Allocator != nil {
		return c.cfg.Allocator
	}
	return memory.DefaultAllocator
}

// Resolve returns the FS a path lives on and the path's name in it:
// s3://bucket/key gives the bucket's S3FS and key; anything else is a
// local path.
func (c *FileConnector) Resolve(ctx context.Context, p string) (FS, string, error) {
	if !strings.HasPrefix(p, "s3://") && !strings.HasPrefix(p, "s3a://") {
		return LocalFS{}, p, nil
	}
	bucket, key, err := parseS3URL(p)
	if err != nil {
		return nil, "", err
	}
	cl, err := c.s3(ctx)
	if err != nil {
		return nil, "", err
	}
	return &S3FS{Client: cl, Bucket: bucket}, key, nil
}

func (c *FileConnector) s3(ctx context.Context) (*s3.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s3Client != nil {
		return c.s3Client, nil
	}
	cl, err := NewS3Client(ctx, c.cfg.S3Endpoint)
	if err != nil {
		return nil, err
	}
	c.s3Client = cl
	return cl, nil
}
