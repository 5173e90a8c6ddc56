package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// goTool returns the go command that runs this test.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath(filepath.Join(runtime.GOROOT(), "bin", "go")); err == nil {
		return p
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to build etlc with: %v", err)
	}
	return p
}

// buildETLC builds a static etlc for linux/arch as make image does.
func buildETLC(t *testing.T, arch, out string) {
	t.Helper()
	cmd := exec.Command(goTool(t), "build", "-trimpath",
		"-ldflags", "-s -w -X main.version=v9.8.7-test -X main.revision=abc1234",
		"-o", out, "github.com/etlc/etlc/cmd/etlc")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building etlc for linux/%s: %v\n%s", arch, err, b)
	}
}

// TestImage builds the image from real static etlc binaries, writes the
// OCI layout and archive, reads them back and checks the index (both
// platforms), each config (entrypoint, non-root user, labels), the layers
// (CA bundle, passwd), that the amd64 binary runs `etlc version` and that
// the arm64 one is a static aarch64 ELF.
func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("runs the linux/amd64 binary, which this %s/%s machine cannot", runtime.GOOS, runtime.GOARCH)
	}
	dir := t.TempDir()
	bins := Binaries{AMD64: filepath.Join(dir, "amd64", "etlc"), ARM64: filepath.Join(dir, "arm64", "etlc")}
	version := "v9.8.7-test"
	if bd := os.Getenv("ETLC_IMAGE_BINARIES"); bd != "" {
		// make test: the binaries make image just built (its version).
		bins = Binaries{AMD64: filepath.Join(bd, "linux-amd64", "etlc"), ARM64: filepath.Join(bd, "linux-arm64", "etlc")}
		version = ""
	} else {
		buildETLC(t, "amd64", bins.AMD64)
		buildETLC(t, "arm64", bins.ARM64)
	}

	ociDir, tarPath := filepath.Join(dir, "image"), filepath.Join(dir, "etlc-image.tar")
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-amd64", bins.AMD64, "-arm64", bins.ARM64,
		"-version", "v9.8.7-test", "-revision", "abc1234", "-created", "2026-01-02T03:04:05Z",
		"-oci", ociDir, "-tar", tarPath}, &stderr)
	if err != nil {
		t.Fatalf("imagebuild: %v\n%s", err, stderr.String())
	}

	// The layout's index.json names the multi-arch index.
	top, err := layout.ImageIndexFromPath(ociDir)
	if err != nil {
		t.Fatal(err)
	}
	topm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(topm.Manifests) != 1 || topm.Manifests[0].MediaType != types.OCIImageIndex ||
		topm.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v9.8.7-test" {
		t.Fatalf("index.json: %+v", topm.Manifests)
	}
	idx, err := top.ImageIndex(topm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, m := range im.Manifests {
		platforms = append(platforms, m.Platform.String())
		if m.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s: media type %s", m.Platform, m.MediaType)
		}
	}
	if want := []string{"linux/amd64", "linux/arm64/v8"}; !slices.Equal(platforms, want) {
		t.Fatalf("platforms %v, want %v", platforms, want)
	}

	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != "linux" || cf.Architecture != m.Platform.Architecture {
			t.Errorf("%s: config says %s/%s", m.Platform, cf.OS, cf.Architecture)
		}
		c := cf.Config
		if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/etlc"}) || c.User != "65532:65532" || c.WorkingDir != "/var/lib/etlc" {
			t.Errorf("%s: entrypoint %q user %q workdir %q", m.Platform, c.Entrypoint, c.User, c.WorkingDir)
		}
		for k, v := range map[string]string{
			"org.opencontainers.image.version":  "v9.8.7-test",
			"org.opencontainers.image.revision": "abc1234",
			"org.opencontainers.image.source":   "https://github.com/etlc/etlc",
			"org.opencontainers.image.created":  "2026-01-02T03:04:05Z",
		} {
			if c.Labels[k] != v {
				t.Errorf("%s: label %s = %q, want %q", m.Platform, k, c.Labels[k], v)
			}
		}
		files := extract(t, img)
		if !bytes.Equal(files["etc/ssl/certs/ca-certificates.crt"], certs) {
			t.Errorf("%s: the CA bundle is not the host's", m.Platform)
		}
		if !strings.Contains(string(files["etc/passwd"]), "etlc:x:65532:65532:") {
			t.Errorf("%s: /etc/passwd has no etlc user:\n%s", m.Platform, files["etc/passwd"])
		}
		bin := files["usr/local/bin/etlc"]
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("%s: etlc is not an ELF file: %v", m.Platform, err)
		}
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[m.Platform.Architecture]
		if f.Machine != want {
			t.Errorf("%s: ELF machine %v, want %v", m.Platform, f.Machine, want)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: etlc is dynamically linked", m.Platform)
			}
		}
		if m.Platform.Architecture == "amd64" {
			exe := filepath.Join(t.TempDir(), "etlc")
			if err := os.WriteFile(exe, bin, 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(exe, "version").CombinedOutput()
			prefix := "etlc " + version
			if version != "" {
				prefix += " (revision abc1234, go"
			}
			if err != nil || !strings.HasPrefix(string(out), prefix) ||
				!strings.HasSuffix(string(out), " linux/amd64)\n") {
				t.Errorf("etlc version from the image: %v\n%s", err, out)
			}
		}
	}

	// The archive holds the layout.
	names := tarNames(t, tarPath)
	for _, n := range []string{"oci-layout", "index.json", "blobs/sha256/" + topm.Manifests[0].Digest.Hex} {
		if !slices.Contains(names, n) {
			t.Errorf("archive has no %s: %v", n, names)
		}
	}

	// The same inputs give the same image.
	again, err := Build(Options{Binaries: bins, CACerts: "/etc/ssl/certs/ca-certificates.crt",
		Version: "v9.8.7-test", Revision: "abc1234", Source: "https://github.com/etlc/etlc", Created: "2026-01-02T03:04:05Z"})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := idx.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("rebuilding gave index %s, first build %s", d2, d1)
	}
}

// extract returns the regular files of an image's flattened file system.
func extract(t *testing.T, img v1.Image) map[string][]byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimPrefix(h.Name, "/")] = b
		}
	}
}

func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}
