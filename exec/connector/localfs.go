package connector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LocalFS is the local file system. Names are paths as the user wrote them
// (relative to the working directory or absolute), with '/' separators.
type LocalFS struct{}

// URI returns the local path itself.
func (LocalFS) URI(name string) string { return name }

// Stat returns the file's info.
func (LocalFS) Stat(ctx context.Context, name string) (FileInfo, error) {
	st, err := os.Stat(filepath.FromSlash(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return FileInfo{}, fmt.Errorf("%s: %w", name, ErrNotExist)
		}
		return FileInfo{}, err
	}
	if st.IsDir() {
		return FileInfo{}, fmt.Errorf("%s: is a directory: %w", name, ErrNotExist)
	}
	return FileInfo{Name: name, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// isDir reports whether name is an existing local directory.
func (LocalFS) isDir(name string) bool {
	st, err := os.Stat(filepath.FromSlash(name))
	return err == nil && st.IsDir()
}

// List returns every regular file under dir.
func (LocalFS) List(ctx context.Context, dir string) ([]FileInfo, error) {
	root := strings.TrimSuffix(dir, "/")
	if root == "" {
		root = "."
	}
	var out []FileInfo
	err := filepath.WalkDir(filepath.FromSlash(root), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(filepath.FromSlash(root), p)
		if err != nil {
			return err
		}
		name := joinName(dirName(dir), filepath.ToSlash(rel))
		if dir == "" {
			name = filepath.ToSlash(rel)
		}
		out = append(out, FileInfo{Name: name, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Children lists a local directory.
func (LocalFS) Children(ctx context.Context, dir string) ([]string, error) {
	d := strings.TrimSuffix(dir, "/")
	if d == "" {
		d = "."
	}
	ents, err := os.ReadDir(filepath.FromSlash(d))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name()+"/")
		} else {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Open opens a local file.
func (LocalFS) Open(ctx context.Context, name string) (File, error) {
	f, err := os.Open(filepath.FromSlash(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", name, ErrNotExist)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory: %w", name, ErrNotExist)
	}
	return &localFile{File: f, size: st.Size()}, nil
}

type localFile struct {
	*os.File
	size int64
}

func (f *localFile) Size() int64 { return f.size }

// Create creates a local file and its parent directories.
func (LocalFS) Create(ctx context.Context, name string) (Writer, error) {
	p := filepath.FromSlash(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	return &localWriter{f: f}, nil
}

type localWriter struct {
	f    *os.File
	done bool
}

func (w *localWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

// Close syncs the file to disk and closes it, so that a file renamed into
// place after Close survives a crash of the machine.
func (w *localWriter) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

func (w *localWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Rename renames a local file, creating the target's parent directories.
func (LocalFS) Rename(ctx context.Context, from, to string) error {
	if err := os.MkdirAll(filepath.Dir(filepath.FromSlash(to)), 0o755); err != nil {
		return err
	}
	return os.Rename(filepath.FromSlash(from), filepath.FromSlash(to))
}

// Remove removes a local file; a missing file is not an error.
func (LocalFS) Remove(ctx context.Context, name string) error {
	p := filepath.FromSlash(name)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// RemoveAll removes a local directory tree.
func (LocalFS) RemoveAll(ctx context.Context, dir string) error {
	d := strings.TrimSuffix(dir, "/")
	if d == "" || d == "." || d == "/" {
		return fmt.Errorf("refusing to remove %q", dir)
	}
	return os.RemoveAll(filepath.FromSlash(d))
}

// removeEmptyDirs removes the empty directories under dir (not dir itself).
func removeEmptyDirs(dir string) {
	root := filepath.FromSlash(strings.TrimSuffix(dir, "/"))
	var dirs []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != root {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i]) // fails on non-empty directories, as intended
	}
}
