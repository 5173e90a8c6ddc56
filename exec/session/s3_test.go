package session

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/connector/s3test"
)

// TestS3EndToEnd runs a job against a real S3-compatible server on
// 127.0.0.1: CSV read through a glob, a partitioned Parquet sink, the
// output read back (schema inferred from Parquet on S3), and a failing
// overwrite that must leave the previous output as it was.
func TestS3EndToEnd(t *testing.T) {
	s3test.Run(t)
	ctx := context.Background()
	cl, err := connector.NewS3Client(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	bucket, put := s3test.Bucket(ctx, t, cl)
	put("raw/contacts/part-1.csv", "id,name,state,amount\n1,Ann,CA,10.50\n2,Bob,NY,7.25\n3,Cid,CA,1.00\n")
	put("raw/contacts/part-2.csv", "id,name,state,amount\n4,Dee,WA,2.00\n5,Eve,NY,0.75\n")
	put("raw/contacts/notes.txt", "not a csv: the glob leaves it out\n")
	keys := func() []string {
		out, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: strPtr("curated/")})
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, o := range out.Contents {
			ks = append(ks, *o.Key)
		}
		sort.Strings(ks)
		return ks
	}

	s := openEngine(t).NewSession(Options{Params: map[string]string{"bucket": bucket}})
	defer s.Close()
	mustExec(t, s, `
CREATE SOURCE contacts (id INT NOT NULL, name VARCHAR, state CHAR(2), amount DECIMAL(10,2))
  WITH (connector = 'file', path = 's3://${bucket}/raw/contacts/*.csv', format = 'csv', header = 'true');
CREATE SINK snapshot
  WITH (connector = 'file', path = 's3://${bucket}/curated/contacts/', format = 'parquet',
        partition_by = 'state', mode = 'overwrite');
INSERT INTO snapshot SELECT id, name, amount, state FROM contacts;`)

	before := keys()
	var parts []string
	for _, k := range before {
		if strings.Contains(k, "_staging") {
			t.Fatalf("staging object left visible: %s", k)
		}
		if strings.HasSuffix(k, ".parquet") {
			parts = append(parts, k[:strings.LastIndexByte(k, '/')])
		}
	}
	if got, want := strings.Join(parts, ","), "curated/contacts/state=CA,curated/contacts/state=NY,curated/contacts/state=WA"; got != want {
		t.Fatalf("partition directories %s, want %s (keys %v)", got, want, before)
	}
	const readBack = `
CREATE OR REPLACE SOURCE curated WITH (connector = 'file', path = 's3://${bucket}/curated/contacts/', format = 'parquet');
SELECT state, count(*), sum(amount) FROM curated GROUP BY state ORDER BY state;`
	want := []string{"CA|2|11.50", "NY|2|8.00", "WA|1|2.00"}
	equalLines(t, "read back", rows(t, s, readBack), want)

	// Division by zero at id 3: the overwrite fails and nothing changes.
	_, err = execScript(t, s, "fail.sql", `INSERT OVERWRITE snapshot SELECT id, name, amount / (id - 3), state FROM contacts;`)
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("overwrite with a division by zero: got %v", err)
	}
	if after := keys(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("a failed overwrite changed the bucket:\nbefore %v\nafter  %v", before, after)
	}
	equalLines(t, "read back after the failed run", rows(t, s, readBack), want)

	// A transaction block: the overwrite is staged on S3 (a source on
	// the sink's path does not see it), gone after ROLLBACK, published by
	// COMMIT.
	mustExec(t, s, "BEGIN; INSERT INTO snapshot SELECT id, name, amount * 2 AS amount, state FROM contacts WHERE state <> 'WA';")
	doubled := []string{"CA|2|23.00", "NY|2|16.00"}
	equalLines(t, "read back in the block through a source", rows(t, s, readBack), want)
	mustExec(t, s, "ROLLBACK")
	if after := keys(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("a rolled back block changed the bucket:\nbefore %v\nafter  %v", before, after)
	}
	mustExec(t, s, "BEGIN; INSERT INTO snapshot SELECT id, name, amount * 2 AS amount, state FROM contacts WHERE state <> 'WA'; COMMIT;")
	equalLines(t, "read back after COMMIT", rows(t, s, readBack), doubled)
	for _, k := range keys() {
		if strings.Contains(k, "_staging") || strings.Contains(k, "state=WA") {
			t.Errorf("left after COMMIT: %s", k)
		}
	}
}

func strPtr(s string) *string { return &s }

// TestS3PartitionPruning reads a source on S3 laid out in state=XX/
// directories, one of which holds a corrupt file: a query on other states
// lists the source once and opens only their objects.
func TestS3PartitionPruning(t *testing.T) {
	s3test.Run(t)
	ctx := context.Background()
	cl, err := connector.NewS3Client(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	bucket, put := s3test.Bucket(ctx, t, cl)
	put("sales/state=CA/part-1.csv", "id,amount\n1,10\n2,20\n")
	put("sales/state=CA/part-2.csv", "id,amount\n3,30\n")
	put("sales/state=NY/part-1.csv", "id,amount\n4,40\n")
	put("sales/state=WA/part-1.csv", "id,amount\n\"5,oops\n")
	s := openEngine(t).NewSession(Options{Params: map[string]string{"bucket": bucket}})
	defer s.Close()
	mustExec(t, s, `CREATE SOURCE sales (id INT, amount INT, state VARCHAR)
  WITH (connector = 'file', path = 's3://${bucket}/sales/', format = 'csv', header = 'true');`)
	run := mustExec(t, s, "SELECT state, sum(amount) FROM sales WHERE state IN ('CA', 'NY') GROUP BY state ORDER BY state")
	if got := run.Sources[0].FilesRead; got != 3 {
		t.Errorf("files read %d, want 3", got)
	}
	equalLines(t, "pruned", rows(t, s, "SELECT state, sum(amount) FROM sales WHERE state IN ('CA', 'NY') GROUP BY state ORDER BY state"),
		[]string{"CA|60", "NY|40"})
	plan := strings.Join(rows(t, s, "EXPLAIN SELECT id FROM sales WHERE state <> 'WA'"), "\n")
	if !strings.Contains(plan, "(partitions=2/3)") {
		t.Errorf("EXPLAIN:\n%s", plan)
	}
	if _, err := execScript(t, s, "x.sql", "SELECT sum(amount) FROM sales"); err == nil {
		t.Error("reading the corrupt partition did not fail")
	}
}
