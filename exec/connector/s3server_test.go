package connector

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/etlc/etlc/exec/connector/s3test"
)

// s3Server is the package's S3 server, started by the first test that
// needs it and stopped by TestMain.
type s3Server struct {
	once sync.Once
	srv  *s3test.Server
	skip string
	err  error
}

// runWithS3 runs the tests and stops the S3 server if one was started.
func runWithS3(m *testing.M) int {
	s := &s3Server{}
	theS3 = s
	code := m.Run()
	if s.srv != nil {
		s.srv.Stop()
	}
	return code
}

// theS3 is set once by TestMain before any test runs.
var theS3 *s3Server

// needS3 returns a connector talking to the test S3 server, through the
// same environment variables a deployment uses, and a new empty bucket.
// It skips the test when versitygw is not installed and CI is not set.
func needS3(t *testing.T) (*FileConnector, *s3.Client, string) {
	theS3.once.Do(func() { theS3.srv, theS3.skip, theS3.err = s3test.Start() })
	if theS3.skip != "" {
		t.Skip(theS3.skip)
	}
	if theS3.err != nil {
		t.Fatal(theS3.err)
	}
	theS3.srv.SetEnv(t)
	c := checkedConnector(t)
	ctx := context.Background()
	cl, err := c.s3(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bucket := s3test.BucketName(t)
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	return c, cl, bucket
}
