package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
)

// SourceFile is one file a source reads.
type SourceFile struct {
	FileInfo
	// Rel is the file's name relative to the source's root directory.
	Rel string
	// Partitions are the Hive partition values in the file's directory
	// names (col=value), unescaped, in path order.
	Partitions []PartitionValue
}

// PartitionValue is one col=value directory level. Null is set for Hive's
// __HIVE_DEFAULT_PARTITION__.
type PartitionValue struct {
	Column, Value string
	Null          bool
}

// hasGlob reports whether a path has glob metacharacters.
func hasGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// hidden reports whether a relative name has a segment starting with '_'
// or '.' (staging directories, _SUCCESS, .crc files, ...).
func hidden(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, "_") || strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// listSource returns the files of a source path in fs: one file, every
// visible file under a directory (those the directory's _SUCCESS manifest
// lists, when it has one), or the visible files matching a glob.
func listSource(ctx context.Context, fs FS, name string) ([]SourceFile, error) {
	if hasGlob(name) {
		return listGlob(ctx, fs, name)
	}
	if !strings.HasSuffix(name, "/") {
		fi, err := fs.Stat(ctx, name)
		if err == nil {
			return []SourceFile{{FileInfo: fi, Rel: path.Base(name)}}, nil
		}
		if !errors.Is(err, ErrNotExist) {
			return nil, err
		}
	}
	dir := dirName(name)
	if lf, ok := fs.(LocalFS); ok && !lf.isDir(name) {
		return nil, fmt.Errorf("%s: %w", name, ErrNotExist)
	}
	m, err := readManifest(ctx, fs, dir)
	if err != nil {
		return nil, err
	}
	if m != nil {
		out := make([]SourceFile, 0, len(m.Files))
		for _, mf := range m.Files {
			fi, err := fs.Stat(ctx, joinName(dir, mf.Path))
			if err != nil {
				return nil, fmt.Errorf("%s lists %s: %w", fs.URI(joinName(dir, manifestName)), mf.Path, err)
			}
			out = append(out, SourceFile{FileInfo: fi, Rel: mf.Path, Partitions: partitionsOf(mf.Path)})
		}
		return out, nil
	}
	all, err := fs.List(ctx, dir)
	if err != nil {
		return nil, err
	}
	var out []SourceFile
	for _, fi := range all {
		rel := strings.TrimPrefix(fi.Name, dir)
		if hidden(rel) {
			continue
		}
		out = append(out, SourceFile{FileInfo: fi, Rel: rel, Partitions: partitionsOf(rel)})
	}
	return out, nil
}

// listGlob lists the static directory before a glob's first wildcard and
// keeps the visible files the pattern matches.
func listGlob(ctx context.Context, fs FS, pattern string) ([]SourceFile, error) {
	segs := strings.Split(pattern, "/")
	i := 0
	for i < len(segs) && !hasGlob(segs[i]) {
		i++
	}
	dir := strings.Join(segs[:i], "/")
	if i > 0 {
		dir += "/"
	}
	pat := segs[i:]
	for _, p := range pat {
		if _, err := path.Match(p, ""); err != nil && p != "**" {
			return nil, fmt.Errorf("bad glob %q: %w", pattern, err)
		}
	}
	all, err := fs.List(ctx, dir)
	if err != nil {
		return nil, err
	}
	var out []SourceFile
	for _, fi := range all {
		rel := strings.TrimPrefix(fi.Name, dir)
		if !matchSegments(pat, strings.Split(rel, "/")) {
			continue
		}
		if hiddenUnlessNamed(pat, rel) {
			continue
		}
		out = append(out, SourceFile{FileInfo: fi, Rel: rel, Partitions: partitionsOf(rel)})
	}
	return out, nil
}

// hiddenUnlessNamed reports whether rel is hidden and the pattern does not
// ask for hidden names (a pattern segment that itself starts with '_' or '.').
func hiddenUnlessNamed(pat []string, rel string) bool {
	if !hidden(rel) {
		return false
	}
	for _, p := range pat {
		if strings.HasPrefix(p, "_") || strings.HasPrefix(p, ".") {
			return false
		}
	}
	return true
}

// matchSegments matches name segments against pattern segments; "**"
// matches any number of segments (zero included).
func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for k := 0; k <= len(name); k++ {
				if matchSegments(pat[1:], name[k:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// partitionsOf returns the col=value directory levels of a relative name.
func partitionsOf(rel string) []PartitionValue {
	segs := strings.Split(rel, "/")
	var out []PartitionValue
	for _, s := range segs[:len(segs)-1] {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			continue
		}
		col := unescapePartition(k)
		if v == hiveNull {
			out = append(out, PartitionValue{Column: col, Null: true})
			continue
		}
		out = append(out, PartitionValue{Column: col, Value: unescapePartition(v)})
	}
	return out
}

// manifestName is the marker a sink writes at commit; it holds the Manifest.
const manifestName = "_SUCCESS"

// Manifest is the content of a sink's _SUCCESS file: the committed output.
type Manifest struct {
	Version     int            `json:"version"`
	RunID       string         `json:"run_id"`
	CommittedAt string         `json:"committed_at"`
	Mode        string         `json:"mode"`
	Format      Format         `json:"format"`
	Rows        int64          `json:"rows"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one committed file, relative to the sink's path.
type ManifestFile struct {
	Path  string `json:"path"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
	RunID string `json:"run_id"`
}

// readManifest reads dir's _SUCCESS manifest. It returns nil, nil when there
// is none, or when _SUCCESS is not an etlc manifest (Spark writes an empty one).
func readManifest(ctx context.Context, fs FS, dir string) (*Manifest, error) {
	data, err := ReadAll(ctx, fs, joinName(dir, manifestName))
	if err != nil {
		if errors.Is(err, ErrNotExist) || isS3NotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var m Manifest
	if len(data) == 0 || json.Unmarshal(data, &m) != nil || m.Version == 0 {
		return nil, nil
	}
	return &m, nil
}
