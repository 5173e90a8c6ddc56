package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/connector/s3test"
)

// TestDeployCommands runs etlc deploy as a user would: the SCD2 steps give
// a workflow whose merge step waits for both loads; a cycle, a script with
// errors and a bad flag end with exit codes 1, 1 and 2; iam-policy prints
// a policy document; -o writes the file.
func TestDeployCommands(t *testing.T) {
	root := filepath.Join("..", "..")
	scd2 := func(name string) string { return filepath.Join(root, "examples", "scd2", name) }

	code, stdout, stderr := runETLC(t, []string{"deploy", "argo", "--name", "scd2",
		scd2("initial_load.sql"), scd2("delta_load.sql"), scd2("merge.sql")}, "", nil, false)
	if code != 0 {
		t.Fatalf("deploy argo: exit %d: %s", code, stderr)
	}
	want := "      - arguments:\n          parameters:\n          - name: output_dir\n            value: '{{workflow.parameters.output_dir}}'\n" +
		"          - name: staging_dir\n            value: '{{workflow.parameters.staging_dir}}'\n" +
		"        dependencies:\n        - delta-load\n        - initial-load\n        name: merge\n"
	if !strings.Contains(stdout, want) {
		t.Errorf("deploy argo: the merge task does not depend on both loads:\n%s", stdout)
	}

	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.sql", "CREATE SOURCE i (x INT) WITH (path = 's3://b/from-b/', format = 'csv');\n"+
		"CREATE SINK o WITH (path = 's3://b/from-a/', format = 'csv');\nINSERT INTO o SELECT x FROM i;\n")
	b := write("b.sql", "CREATE SOURCE i (x INT) WITH (path = 's3://b/from-a/', format = 'csv');\n"+
		"CREATE SINK o WITH (path = 's3://b/from-b/', format = 'csv');\nINSERT INTO o SELECT x FROM i;\n")
	code, _, stderr = runETLC(t, []string{"deploy", "argo", a, b}, "", nil, false)
	if code != 1 || !strings.Contains(stderr, "cycle: "+a+" -> "+b+" -> "+a) {
		t.Errorf("deploy argo with a cycle: exit %d, stderr:\n%s", code, stderr)
	}

	bad := write("bad.sql", "CREATE SINK o WITH (path = 's3://b/x/');\n")
	code, _, stderr = runETLC(t, []string{"deploy", "k8s", bad}, "", nil, false)
	if code != 1 || !strings.Contains(stderr, `bad.sql:1:13: error: missing option "format" for SINK o`) {
		t.Errorf("deploy k8s with a bad script: exit %d, stderr:\n%s", code, stderr)
	}

	code, _, stderr = runETLC(t, []string{"deploy", "k8s", "--arch", "s390x", a}, "", nil, false)
	if code != 2 || !strings.Contains(stderr, `--arch "s390x": use arm64 or amd64`) {
		t.Errorf("deploy k8s --arch s390x: exit %d, stderr:\n%s", code, stderr)
	}

	out := filepath.Join(dir, "policy.json")
	code, _, stderr = runETLC(t, []string{"deploy", "iam-policy", "-o", out, a}, "", nil, false)
	if code != 0 {
		t.Fatalf("deploy iam-policy: exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Statement []struct {
			Sid      string
			Resource []string
		}
	}
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("policy: %v\n%s", err, data)
	}
	var got []string
	for _, s := range p.Statement {
		got = append(got, s.Sid+" "+strings.Join(s.Resource, ","))
	}
	wantSt := "ListPrefixes1 arn:aws:s3:::b|ReadSources arn:aws:s3:::b/from-b/*|WriteSinks arn:aws:s3:::b/from-a/*"
	if strings.Join(got, "|") != wantSt {
		t.Errorf("policy statements:\n got %s\nwant %s", strings.Join(got, "|"), wantSt)
	}
}

// TestScriptFromS3 compiles a script read from s3://bucket/key (how a pod
// deployed with --script-uri gets its script) from a versitygw on
// loopback, and reports a missing object as an unreadable script.
func TestScriptFromS3(t *testing.T) {
	s3test.Run(t)
	ctx := context.Background()
	cl, err := connector.NewS3Client(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	bucket, put := s3test.Bucket(ctx, t, cl)
	put("jobs/q.sql", "SELECT 1 + 1 AS two;\n")
	env := map[string]string{}
	code, _, stderr := runETLC(t, []string{"compile", "s3://" + bucket + "/jobs/q.sql"}, "", env, false)
	if code != 0 {
		t.Errorf("compile s3://%s/jobs/q.sql: exit %d: %s", bucket, code, stderr)
	}
	code, _, stderr = runETLC(t, []string{"compile", "s3://" + bucket + "/jobs/none.sql"}, "", env, false)
	if code != 2 || !strings.Contains(stderr, "cannot read s3://"+bucket+"/jobs/none.sql") {
		t.Errorf("compile of a missing object: exit %d: %s", code, stderr)
	}
}
