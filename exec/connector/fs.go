package connector

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

// ErrNotExist is wrapped by FS errors for a file that does not exist.
var ErrNotExist = errors.New("no such file or directory")

// FileInfo describes one file of an FS.
type FileInfo struct {
	// Name is the file's name in its FS: a local path, or an S3 key.
	Name    string
	Size    int64
	ModTime time.Time
}

// File is an open file: random access (for Parquet: ranged GETs on S3) and
// a sequential stream from the start (for CSV and JSON).
type File interface {
	io.ReaderAt
	io.Reader
	io.Closer
	// Size is the file's length in bytes.
	Size() int64
}

// Writer is a file being written.
type Writer interface {
	io.WriteCloser
	// Abort gives up the file; Close after Abort does nothing.
	Abort() error
}

// FS is one storage: the local file system, or one S3 bucket. Names are
// slash-separated; a directory is a name prefix ending in "/".
type FS interface {
	// URI returns the name as a person would write it in a path option:
	// the local path, or s3://bucket/key.
	URI(name string) string
	// Stat returns the file's info; an error wrapping ErrNotExist when
	// there is no such file (a directory is not a file).
	Stat(ctx context.Context, name string) (FileInfo, error)
	// List returns every file under the directory dir (recursively), in
	// lexical order of Name. A missing directory lists as empty.
	List(ctx context.Context, dir string) ([]FileInfo, error)
	// Children returns the names of dir's immediate children, relative to
	// dir, directories with a trailing '/'. A missing directory is empty.
	Children(ctx context.Context, dir string) ([]string, error)
	// Open opens a file for reading.
	Open(ctx context.Context, name string) (File, error)
	// Create creates (or replaces) a file, creating parent directories as
	// needed. The file is complete after Close returns nil. On S3 the
	// object appears only then; locally the file grows as it is written,
	// so write under a hidden name and Rename when readers must not see a
	// partial file. Abort gives up the file (an S3 multipart upload is
	// aborted, a local file removed).
	Create(ctx context.Context, name string) (Writer, error)
	// Rename moves a file to a new name, replacing any file there. It is
	// atomic on the local file system; on S3 it is a copy and a delete.
	Rename(ctx context.Context, from, to string) error
	// Remove deletes a file; a missing file is not an error.
	Remove(ctx context.Context, name string) error
	// RemoveAll deletes the directory dir and everything under it.
	RemoveAll(ctx context.Context, dir string) error
}

// joinName joins a directory name and a relative slash path.
func joinName(dir, rel string) string {
	if dir == "" {
		return rel
	}
	if strings.HasSuffix(dir, "/") {
		return dir + rel
	}
	return dir + "/" + rel
}

// dirName returns name with a trailing slash (unless it is empty).
func dirName(name string) string {
	if name == "" || strings.HasSuffix(name, "/") {
		return name
	}
	return name + "/"
}

// ReadAll reads a whole file.
func ReadAll(ctx context.Context, fs FS, name string) ([]byte, error) {
	f, err := fs.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// WriteAll creates a file with the given content.
func WriteAll(ctx context.Context, fs FS, name string, data []byte) error {
	w, err := fs.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
