// Command imagebuild assembles etlc's container image without a container
// daemon or network: from a static etlc binary per platform and the host's
// CA certificate bundle, a multi-arch OCI image index (linux/amd64 and
// linux/arm64) written as an OCI image layout directory and, optionally, an
// oci-archive tarball of it (skopeo copy oci-archive:..., podman load,
// crane push). The image runs etlc as a non-root user (65532) with etlc as
// its entrypoint and carries the OCI labels version, revision and source.
//
//	go run ./deploy/imagebuild -amd64 bin/linux-amd64/etlc -arm64 bin/linux-arm64/etlc \
//	    -version v1.2.3 -revision abc1234 -oci bin/image -tar bin/etlc-image.tar
//
// It is a program of its own so that go-containerregistry is never linked
// into etlc. `make image` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "imagebuild: %v\n", err)
		os.Exit(1)
	}
}

// run parses the command line and builds the image.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o      Options
		ociDir string
		tarOut string
	)
	fs.StringVar(&o.Binaries.AMD64, "amd64", "", "static etlc `binary` for linux/amd64")
	fs.StringVar(&o.Binaries.ARM64, "arm64", "", "static etlc `binary` for linux/arm64")
	fs.StringVar(&o.CACerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA certificate `bundle` to copy into the image")
	fs.StringVar(&o.Version, "version", "dev", "image `version` (label org.opencontainers.image.version)")
	fs.StringVar(&o.Revision, "revision", "", "source `revision` (label org.opencontainers.image.revision)")
	fs.StringVar(&o.Source, "source", "https://github.com/etlc/etlc", "source repository `URL` (label org.opencontainers.image.source)")
	fs.StringVar(&o.Created, "created", "", "creation `time` (RFC 3339; default: SOURCE_DATE_EPOCH, else the Unix epoch, for reproducible images)")
	fs.StringVar(&o.RefName, "ref", "", "reference `name` of the index in the layout (default: the version)")
	fs.StringVar(&ociDir, "oci", "", "write the OCI image layout to `dir` (replaced)")
	fs.StringVar(&tarOut, "tar", "", "also write the layout as an oci-archive `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if ociDir == "" {
		return errors.New("-oci DIR is required")
	}
	if o.Created == "" {
		o.Created = os.Getenv("SOURCE_DATE_EPOCH")
	}
	idx, err := Build(o)
	if err != nil {
		return err
	}
	ref := o.RefName
	if ref == "" {
		ref = o.Version
	}
	if err := WriteLayout(ociDir, idx, ref); err != nil {
		return err
	}
	if tarOut != "" {
		if err := WriteArchive(ctx, ociDir, tarOut); err != nil {
			return err
		}
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "imagebuild: wrote %s (index %s, linux/amd64 and linux/arm64)\n", ociDir, d)
	return nil
}
