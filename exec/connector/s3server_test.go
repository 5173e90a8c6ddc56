package connector

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// versitygwInstall is how to install the S3 server the tests run.
const versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// s3Server is a versitygw process serving a temporary directory over S3
// on a free port of 127.0.0.1, started by the first test that needs it and
// stopped by TestMain.
type s3Server struct {
	once     sync.Once
	cmd      *exec.Cmd
	root     string
	endpoint string
	err      error
	skip     string
}

const (
	s3Access = "etlc-test-access"
	s3Secret = "etlc-test-secret"
)

// testS3 is the package's S3 server (set up lazily; TestMain stops it).
var testS3 = &s3Server{}

// runWithS3 runs the tests and stops the S3 server if one was started.
func runWithS3(m *testing.M) int {
	code := m.Run()
	testS3.stop()
	return code
}

// findVersitygw looks for the binary on $PATH, then in $(go env GOPATH)/bin.
func findVersitygw() string {
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

func (s *s3Server) start() {
	bin := findVersitygw()
	if bin == "" {
		msg := "versitygw is not installed; install it with: " + versitygwInstall
		if os.Getenv("CI") != "" {
			s.err = fmt.Errorf("%s (CI is set: S3 tests must run)", msg)
		} else {
			s.skip = msg
		}
		return
	}
	root, err := os.MkdirTemp("", "etlc-s3-")
	if err != nil {
		s.err = err
		return
	}
	s.root = root
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.err = err
		return
	}
	addr := l.Addr().String()
	l.Close()
	s.cmd = exec.Command(bin, "--access", s3Access, "--secret", s3Secret, "--port", addr, "--quiet", "posix", root)
	logf, err := os.Create(filepath.Join(root, ".versitygw.log"))
	if err != nil {
		s.err = err
		return
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		s.err = fmt.Errorf("start %s: %w", bin, err)
		return
	}
	s.endpoint = "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(root, ".versitygw.log"))
	s.err = fmt.Errorf("versitygw did not listen on %s within 20s:\n%s", addr, log)
}

func (s *s3Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	if s.root != "" {
		os.RemoveAll(s.root)
	}
}

// needS3 returns a connector talking to the test S3 server, through the
// same environment variables a deployment uses, and a new empty bucket.
// It skips the test when versitygw is not installed and CI is not set.
func needS3(t *testing.T) (*FileConnector, *s3.Client, string) {
	testS3.once.Do(testS3.start)
	if testS3.skip != "" {
		t.Skip(testS3.skip)
	}
	if testS3.err != nil {
		t.Fatal(testS3.err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", s3Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3Secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", testS3.endpoint)
	c := checkedConnector(t)
	ctx := context.Background()
	cl, err := c.s3(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bucket := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(bucket) > 50 {
		bucket = bucket[:50]
	}
	bucket = strings.Trim(bucket, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%1e6)
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	return c, cl, bucket
}
