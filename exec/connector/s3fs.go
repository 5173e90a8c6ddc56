package connector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3FS is one S3 bucket. Names are object keys.
type S3FS struct {
	Client *s3.Client
	Bucket string
}

// NewS3Client returns an S3 client configured the AWS way:
// config.LoadDefaultConfig, so environment credentials, shared config
// files, IRSA (web identity) and instance roles all work. The region
// defaults to us-east-1 when none is configured. endpoint, or else
// AWS_ENDPOINT_URL_S3, or else AWS_ENDPOINT_URL, points the client at an
// S3-compatible server; it then uses path-style addressing and computes
// request checksums only where the API requires them (what such servers
// accept).
func NewS3Client(ctx context.Context, endpoint string) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint != "" {
		cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

// parseS3URL splits s3://bucket/key into bucket and key.
func parseS3URL(u string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "s3a://")
	}
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URL", u)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q has no bucket name", u)
	}
	return bucket, key, nil
}

// URI returns s3://bucket/key.
func (s *S3FS) URI(name string) string { return "s3://" + s.Bucket + "/" + name }

func isS3NotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "404":
			return true
		}
	}
	return false
}

// Stat returns the object's size and time.
func (s *S3FS) Stat(ctx context.Context, name string) (FileInfo, error) {
	if name == "" || strings.HasSuffix(name, "/") {
		return FileInfo{}, fmt.Errorf("%s: %w", s.URI(name), ErrNotExist)
	}
	out, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.Bucket, Key: &name})
	if err != nil {
		if isS3NotFound(err) {
			return FileInfo{}, fmt.Errorf("%s: %w", s.URI(name), ErrNotExist)
		}
		return FileInfo{}, fmt.Errorf("stat %s: %w", s.URI(name), err)
	}
	fi := FileInfo{Name: name, Size: aws.ToInt64(out.ContentLength)}
	if out.LastModified != nil {
		fi.ModTime = *out.LastModified
	}
	return fi, nil
}

// List returns every object under the prefix dir/ (keys ending in '/',
// the folder markers some tools write, are left out).
func (s *S3FS) List(ctx context.Context, dir string) ([]FileInfo, error) {
	prefix := dirName(dir)
	var out []FileInfo
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: &s.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.URI(prefix), err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if strings.HasSuffix(k, "/") {
				continue
			}
			fi := FileInfo{Name: k, Size: aws.ToInt64(o.Size)}
			if o.LastModified != nil {
				fi.ModTime = *o.LastModified
			}
			out = append(out, fi)
		}
	}
	return out, nil
}

// Children lists the keys and common prefixes right under dir/.
func (s *S3FS) Children(ctx context.Context, dir string) ([]string, error) {
	prefix := dirName(dir)
	var out []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: &s.Bucket, Prefix: &prefix, Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.URI(prefix), err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, strings.TrimPrefix(aws.ToString(cp.Prefix), prefix))
		}
		for _, o := range page.Contents {
			if k := strings.TrimPrefix(aws.ToString(o.Key), prefix); k != "" {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// Open returns the object for ranged and sequential reads. Its reads run
// under ctx (io.ReaderAt has no context of its own).
func (s *S3FS) Open(ctx context.Context, name string) (File, error) {
	fi, err := s.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	return &s3File{ctx: ctx, fs: s, key: name, size: fi.Size}, nil
}

// s3File reads an object: ReadAt with ranged GETs, Read from one streaming
// GET opened on first use.
type s3File struct {
	ctx  context.Context
	fs   *S3FS
	key  string
	size int64
	body io.ReadCloser
}

func (f *s3File) Size() int64 { return f.size }

func (f *s3File) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := off + int64(len(p)) - 1
	if end >= f.size {
		end = f.size - 1
	}
	rng := fmt.Sprintf("bytes=%d-%d", off, end)
	out, err := f.fs.Client.GetObject(f.ctx, &s3.GetObjectInput{Bucket: &f.fs.Bucket, Key: &f.key, Range: &rng})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", f.fs.URI(f.key), err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p[:end-off+1])
	if err != nil {
		return n, fmt.Errorf("read %s: %w", f.fs.URI(f.key), err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *s3File) Read(p []byte) (int, error) {
	if f.body == nil {
		out, err := f.fs.Client.GetObject(f.ctx, &s3.GetObjectInput{Bucket: &f.fs.Bucket, Key: &f.key})
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", f.fs.URI(f.key), err)
		}
		f.body = out.Body
	}
	return f.body.Read(p)
}

func (f *s3File) Close() error {
	if f.body != nil {
		err := f.body.Close()
		f.body = nil
		return err
	}
	return nil
}

// s3PartSize is the size of a multipart upload's parts; objects smaller
// than one part are sent with one PutObject.
const s3PartSize = 16 << 20

// Create returns a writer that uploads the object: one PutObject for small
// objects, a multipart upload for large ones.
func (s *S3FS) Create(ctx context.Context, name string) (Writer, error) {
	return &s3Writer{ctx: ctx, fs: s, key: name}, nil
}

type s3Writer struct {
	ctx      context.Context
	fs       *S3FS
	key      string
	buf      bytes.Buffer
	uploadID *string
	parts    []types.CompletedPart
	err      error
	done     bool
}

func (w *s3Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return 0, errors.New("write after close")
	}
	w.buf.Write(p)
	for w.buf.Len() >= s3PartSize {
		if err := w.flushPart(w.buf.Next(s3PartSize)); err != nil {
			w.err = err
			w.Abort()
			return 0, err
		}
	}
	return len(p), nil
}

func (w *s3Writer) flushPart(data []byte) error {
	if w.uploadID == nil {
		out, err := w.fs.Client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{Bucket: &w.fs.Bucket, Key: &w.key})
		if err != nil {
			return fmt.Errorf("upload %s: %w", w.fs.URI(w.key), err)
		}
		w.uploadID = out.UploadId
	}
	n := int32(len(w.parts) + 1)
	out, err := w.fs.Client.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket: &w.fs.Bucket, Key: &w.key, UploadId: w.uploadID, PartNumber: &n,
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return fmt.Errorf("upload %s part %d: %w", w.fs.URI(w.key), n, err)
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: &n})
	return nil
}

func (w *s3Writer) Close() error {
	if w.done {
		return w.err
	}
	if w.err != nil {
		return w.err
	}
	if w.uploadID == nil {
		w.done = true
		data := w.buf.Bytes()
		_, err := w.fs.Client.PutObject(w.ctx, &s3.PutObjectInput{
			Bucket: &w.fs.Bucket, Key: &w.key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		})
		if err != nil {
			w.err = fmt.Errorf("upload %s: %w", w.fs.URI(w.key), err)
		}
		return w.err
	}
	if w.buf.Len() > 0 {
		if err := w.flushPart(w.buf.Bytes()); err != nil {
			w.err = err
			w.Abort()
			return err
		}
	}
	w.done = true
	_, err := w.fs.Client.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &w.fs.Bucket, Key: &w.key, UploadId: w.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		w.err = fmt.Errorf("upload %s: %w", w.fs.URI(w.key), err)
		w.abortUpload()
	}
	return w.err
}

func (w *s3Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.buf.Reset()
	return w.abortUpload()
}

func (w *s3Writer) abortUpload() error {
	if w.uploadID == nil {
		return nil
	}
	// Abort even when the write's context is cancelled.
	_, err := w.fs.Client.AbortMultipartUpload(context.WithoutCancel(w.ctx), &s3.AbortMultipartUploadInput{
		Bucket: &w.fs.Bucket, Key: &w.key, UploadId: w.uploadID,
	})
	w.uploadID = nil
	return err
}

// Rename copies the object to its new key and deletes the old one.
func (s *S3FS) Rename(ctx context.Context, from, to string) error {
	src := s.Bucket + "/" + escapeKey(from)
	if _, err := s.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &s.Bucket, Key: &to, CopySource: &src}); err != nil {
		return fmt.Errorf("copy %s to %s: %w", s.URI(from), s.URI(to), err)
	}
	return s.Remove(ctx, from)
}

// escapeKey URL-escapes a key for CopySource, keeping the slashes.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// Remove deletes an object.
func (s *S3FS) Remove(ctx context.Context, name string) error {
	if _, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.Bucket, Key: &name}); err != nil && !isS3NotFound(err) {
		return fmt.Errorf("delete %s: %w", s.URI(name), err)
	}
	return nil
}

// RemoveAll deletes every object under the prefix dir/.
func (s *S3FS) RemoveAll(ctx context.Context, dir string) error {
	if strings.Trim(dir, "/") == "" {
		return fmt.Errorf("refusing to remove the whole bucket %s", s.Bucket)
	}
	files, err := s.List(ctx, dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := s.Remove(ctx, f.Name); err != nil {
			return err
		}
	}
	return nil
}
