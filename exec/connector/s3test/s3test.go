// Package s3test runs a real S3-compatible server (versitygw) on a free
// port of 127.0.0.1 for tests, and points the AWS SDK's environment at it.
// Only tests import it.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Install is how to install the S3 server the tests run (make tools does).
const Install = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// The credentials the server accepts.
const (
	Access = "etlc-test-access"
	Secret = "etlc-test-secret"
)

// Server is a running versitygw process serving a temporary directory.
type Server struct {
	// Endpoint is the server's URL, http://127.0.0.1:PORT.
	Endpoint string
	cmd      *exec.Cmd
	root     string
}

// findBinary looks for versitygw on $PATH, then in $(go env GOPATH)/bin.
func findBinary() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Start starts a server. When versitygw is not installed it returns a
// non-empty skip reason and no error, unless the environment variable CI
// is set, where S3 tests must run and the absence is an error.
func Start() (srv *Server, skip string, err error) {
	bin := findBinary()
	if bin == "" {
		msg := "versitygw is not installed; install it with: " + Install
		if os.Getenv("CI") != "" {
			return nil, "", fmt.Errorf("%s (CI is set: S3 tests must run)", msg)
		}
		return nil, msg, nil
	}
	root, err := os.MkdirTemp("", "etlc-s3-")
	if err != nil {
		return nil, "", err
	}
	s := &Server{root: root}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Stop()
		return nil, "", err
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(root, ".versitygw.log")
	logf, err := os.Create(logPath)
	if err != nil {
		s.Stop()
		return nil, "", err
	}
	defer logf.Close()
	s.cmd = exec.Command(bin, "--access", Access, "--secret", Secret, "--port", addr, "--quiet", "posix", root)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		s.Stop()
		return nil, "", fmt.Errorf("start %s: %w", bin, err)
	}
	s.Endpoint = "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return s, "", nil
		}
	}
	log, _ := os.ReadFile(logPath)
	s.Stop()
	return nil, "", fmt.Errorf("versitygw did not listen on %s within 20s:\n%s", addr, log)
}

// Stop kills the server and removes its directory.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	if s.root != "" {
		os.RemoveAll(s.root)
	}
}

// SetEnv points the AWS SDK's default configuration at the server for the
// rest of the test, through the variables a deployment uses
// (AWS_ENDPOINT_URL_S3, the access keys), with every other source of
// credentials and endpoints switched off.
func (s *Server) SetEnv(t testing.TB) {
	t.Setenv("AWS_ACCESS_KEY_ID", Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", Secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", s.Endpoint)
}

// BucketName returns a bucket name derived from the test's name, unique
// within the server's life.
func BucketName(t testing.TB) string {
	b := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(b) > 50 {
		b = b[:50]
	}
	return strings.Trim(b, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%1e6)
}

// Run starts a server for the test, stops it when the test ends and points
// the AWS SDK's default configuration at it (SetEnv). The test is skipped
// when versitygw is not installed, and fails when it does not start.
func Run(t testing.TB) *Server {
	t.Helper()
	srv, skip, err := Start()
	if skip != "" {
		t.Skip(skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.SetEnv(t)
	return srv
}

// Bucket creates a bucket named for the test (BucketName) through cl and
// returns its name and a function that puts an object into it.
func Bucket(ctx context.Context, t testing.TB, cl *s3.Client) (bucket string, put func(key, body string)) {
	t.Helper()
	bucket = BucketName(t)
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	return bucket, func(key, body string) {
		t.Helper()
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
}
