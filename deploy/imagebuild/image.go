package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's layout.
const (
	// UID and GID of the etlc user (the "nonroot" id of distroless images).
	UID = 65532
	// BinaryPath is where etlc lives in the image.
	BinaryPath = "/usr/local/bin/etlc"
	// DataDir is the working directory and default data directory.
	DataDir = "/var/lib/etlc"
	// CACertsPath is where the CA bundle lives (Go's default on Linux).
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
)

// Binaries are the static etlc binaries per platform.
type Binaries struct {
	AMD64, ARM64 string
}

// Options say what goes into the image.
type Options struct {
	Binaries Binaries
	// CACerts is the host's CA bundle.
	CACerts string
	// Version, Revision and Source go into the OCI labels.
	Version, Revision, Source string
	// Created is an RFC 3339 time or Unix seconds; empty is the epoch.
	Created string
	// RefName is the layout's reference name for the index.
	RefName string
}

// created parses Options.Created.
func (o Options) created() (time.Time, error) {
	if o.Created == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	if secs, err := strconv.ParseInt(o.Created, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, o.Created)
	if err != nil {
		return time.Time{}, fmt.Errorf("creation time %q: want RFC 3339 or Unix seconds", o.Created)
	}
	return t.UTC(), nil
}

// Build assembles the multi-arch image index.
func Build(o Options) (v1.ImageIndex, error) {
	if o.Binaries.AMD64 == "" || o.Binaries.ARM64 == "" {
		return nil, errors.New("both binaries are needed: -amd64 FILE and -arm64 FILE")
	}
	created, err := o.created()
	if err != nil {
		return nil, err
	}
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w", err)
	}
	base, err := baseLayer(certs, created)
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range []struct {
		arch, variant, bin string
	}{{"amd64", "", o.Binaries.AMD64}, {"arm64", "v8", o.Binaries.ARM64}} {
		img, err := platformImage(o, base, p.arch, p.variant, p.bin, created)
		if err != nil {
			return nil, fmt.Errorf("linux/%s: %w", p.arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				Platform: &v1.Platform{OS: "linux", Architecture: p.arch, Variant: p.variant},
			},
		})
	}
	return idx, nil
}

// labels are the image's OCI labels.
func (o Options) labels(created time.Time) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "etlc",
		"org.opencontainers.image.description": "SQL-first ETL engine: etlc compile | run | serve",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.source":      o.Source,
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
	}
	if o.Revision != "" {
		l["org.opencontainers.image.revision"] = o.Revision
	}
	return l
}

// platformImage is the image of one platform: the base layer and a layer
// with the binary.
func platformImage(o Options, base v1.Layer, arch, variant, bin string, created time.Time) (v1.Image, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	binLayer, err := layerOf(created, []entry{
		{name: "usr/", mode: 0o755 | fs.ModeDir},
		{name: "usr/local/", mode: 0o755 | fs.ModeDir},
		{name: "usr/local/bin/", mode: 0o755 | fs.ModeDir},
		{name: BinaryPath[1:], mode: 0o755, data: data},
	})
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "etlc imagebuild: CA certificates, etlc user", Comment: "base"}},
		mutate.Addendum{Layer: binLayer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "etlc imagebuild: " + BinaryPath}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = arch
	cf.Variant = variant
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", UID, UID),
		Entrypoint:   []string{BinaryPath},
		Cmd:          []string{"--help"},
		WorkingDir:   DataDir,
		Env:          []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=" + CACertsPath},
		ExposedPorts: map[string]struct{}{"5432/tcp": {}, "9090/tcp": {}},
		Labels:       o.labels(created),
	}
	return mutate.ConfigFile(img, cf)
}

// baseLayer holds the CA bundle, passwd and group with the etlc user, and
// the writable directories.
func baseLayer(certs []byte, created time.Time) (v1.Layer, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\netlc:x:%d:%d:etlc:%s:/sbin/nologin\n", UID, UID, DataDir)
	group := fmt.Sprintf("root:x:0:\netlc:x:%d:\n", UID)
	return layerOf(created, []entry{
		{name: "etc/", mode: 0o755 | fs.ModeDir},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755 | fs.ModeDir},
		{name: "etc/ssl/certs/", mode: 0o755 | fs.ModeDir},
		{name: CACertsPath[1:], mode: 0o644, data: certs},
		{name: "tmp/", mode: 0o777 | fs.ModeDir | fs.ModeSticky},
		{name: "var/", mode: 0o755 | fs.ModeDir},
		{name: "var/lib/", mode: 0o755 | fs.ModeDir},
		{name: DataDir[1:] + "/", mode: 0o755 | fs.ModeDir, uid: UID},
	})
}

// entry is one file or directory (name ends in "/") of a layer.
type entry struct {
	name string
	mode fs.FileMode
	uid  int
	data []byte
}

// layerOf makes a gzip-compressed OCI layer of entries, every time stamp
// set to created so that the same inputs give the same digest.
func layerOf(created time.Time, entries []entry) (v1.Layer, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: int64(e.mode.Perm()), Uid: e.uid, Gid: e.uid,
			ModTime: created, Format: tar.FormatPAX,
		}
		if e.mode&fs.ModeSticky != 0 {
			h.Mode |= 0o1000
		}
		if e.mode.IsDir() {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := b.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// WriteLayout writes idx as an OCI image layout at dir (replacing it),
// its index.json pointing at idx under the reference name ref.
func WriteLayout(dir string, idx v1.ImageIndex, ref string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, mutate.IndexMediaType(empty.Index, types.OCIImageIndex))
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref,
	}))
}

// WriteArchive writes the layout directory dir as a tar file (an
// oci-archive), replacing out atomically.
func WriteArchive(ctx context.Context, dir, out string) (err error) {
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, werr error) error {
		if werr != nil {
			return werr
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		h.ModTime, h.Uname, h.Gname, h.Uid, h.Gid = time.Unix(0, 0), "", "", 0, 0
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
