package glue_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gluesdk "github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	. "github.com/etlc/etlc/exec/connector/glue"
	"github.com/etlc/etlc/exec/connector/glue/mototest"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// client is a Glue client of the moto server.
func client(t *testing.T, ctx context.Context, url string) *gluesdk.Client {
	t.Helper()
	return gluesdk.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		}))}, func(o *gluesdk.Options) { o.BaseEndpoint = aws.String(url) })
}

// describe prints a Glue table and its partitions for comparison.
func describe(t *testing.T, ctx context.Context, gc *gluesdk.Client, db, name string) string {
	t.Helper()
	out, err := gc.GetTable(ctx, &gluesdk.GetTableInput{DatabaseName: &db, Name: &name})
	if err != nil {
		t.Fatalf("get table %s.%s: %v", db, name, err)
	}
	tb := out.Table
	sd := tb.StorageDescriptor
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s classification=%s location=%s\n", aws.ToString(tb.Name), aws.ToString(tb.TableType), tb.Parameters["classification"], aws.ToString(sd.Location))
	fmt.Fprintf(&b, "serde %s %v\n", aws.ToString(sd.SerdeInfo.SerializationLibrary), sd.SerdeInfo.Parameters)
	fmt.Fprintf(&b, "input %s\n", aws.ToString(sd.InputFormat))
	for _, c := range sd.Columns {
		fmt.Fprintf(&b, "column %s %s\n", aws.ToString(c.Name), aws.ToString(c.Type))
	}
	for _, c := range tb.PartitionKeys {
		fmt.Fprintf(&b, "key %s %s\n", aws.ToString(c.Name), aws.ToString(c.Type))
	}
	parts, err := gc.GetPartitions(ctx, &gluesdk.GetPartitionsInput{DatabaseName: &db, TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, p := range parts.Partitions {
		ps = append(ps, fmt.Sprintf("partition %v %s", p.Values, aws.ToString(p.StorageDescriptor.Location)))
	}
	slices.Sort(ps)
	for _, p := range ps {
		b.WriteString(p + "\n")
	}
	return b.String()
}

// TestRegister creates and updates tables in moto's Glue: a partitioned
// Parquet table, then the same table with a column more and one partition
// replaced by another, a CSV table; a missing database fails at once
// naming it; an unreachable endpoint is tried Attempts times.
func TestRegister(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	r, err := New(ctx, Config{Endpoint: srv.URL, Attempts: 3, Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	gc := client(t, ctx, srv.URL)
	if _, err := gc.CreateDatabase(ctx, &gluesdk.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("sales")}}); err != nil {
		t.Fatal(err)
	}
	cols := []catalog.Column{
		{Name: "id", Type: catalog.Type{Kind: catalog.KindInt64}},
		{Name: "amount", Type: catalog.Type{Kind: catalog.KindDecimal, Precision: 12, Scale: 2}},
		{Name: "ts", Type: catalog.Type{Kind: catalog.KindTimestamp}},
	}
	day := catalog.Column{Name: "day", Type: catalog.Type{Kind: catalog.KindDate}}
	tbl := Table{
		Database: "sales", Name: "orders", Location: "s3a://bucket/curated/orders", Format: "parquet",
		Columns: cols, PartitionKeys: []catalog.Column{day}, RunID: "run1",
		Partitions: []Partition{
			{Dir: "day=2024-01-01/", Values: []string{"2024-01-01"}},
			{Dir: "day=2024-01-02/", Values: []string{"2024-01-02"}},
		},
	}
	if err := r.Register(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	want := `orders EXTERNAL_TABLE classification=parquet location=s3://bucket/curated/orders/
serde org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe map[serialization.format:1]
input org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat
column id bigint
column amount decimal(12,2)
column ts timestamp
key day date
partition [2024-01-01] s3://bucket/curated/orders/day=2024-01-01/
partition [2024-01-02] s3://bucket/curated/orders/day=2024-01-02/
`
	if got := describe(t, ctx, gc, "sales", "orders"); got != want {
		t.Errorf("after create:\n%s\nwant:\n%s", got, want)
	}

	tbl.Columns = append(tbl.Columns, catalog.Column{Name: "note", Type: catalog.Type{Kind: catalog.KindString}})
	tbl.Partitions = []Partition{
		{Dir: "day=2024-01-02/", Values: []string{"2024-01-02"}},
		{Dir: "day=2024-01-03/", Values: []string{"2024-01-03"}},
	}
	if err := r.Register(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	want = strings.Replace(want, "column ts timestamp\n", "column ts timestamp\ncolumn note string\n", 1)
	want = strings.Replace(want, "partition [2024-01-01] s3://bucket/curated/orders/day=2024-01-01/\n", "", 1)
	want += "partition [2024-01-03] s3://bucket/curated/orders/day=2024-01-03/\n"
	if got := describe(t, ctx, gc, "sales", "orders"); got != want {
		t.Errorf("after update:\n%s\nwant:\n%s", got, want)
	}

	csv := Table{Database: "sales", Name: "flat", Location: "s3://bucket/flat/", Format: "csv",
		Delimiter: ";", Header: true, Columns: cols[:1]}
	if err := r.Register(ctx, csv); err != nil {
		t.Fatal(err)
	}
	want = `flat EXTERNAL_TABLE classification=csv location=s3://bucket/flat/
serde org.apache.hadoop.hive.serde2.OpenCSVSerde map[quoteChar:" separatorChar:;]
input org.apache.hadoop.mapred.TextInputFormat
column id bigint
`
	if got := describe(t, ctx, gc, "sales", "flat"); got != want {
		t.Errorf("csv table:\n%s\nwant:\n%s", got, want)
	}

	err = r.Register(ctx, Table{Database: "nope", Name: "x", Location: "s3://b/x/", Format: "json", Columns: cols})
	if err == nil || !strings.Contains(err.Error(), `Glue table nope.x: the Glue database "nope" does not exist`) || strings.Contains(err.Error(), "tried") {
		t.Errorf("missing database: %v", err)
	}

	err = r.Register(ctx, Table{Database: "sales", Name: "x", Location: "out/x/", Format: "json", Columns: cols})
	if err == nil || !strings.Contains(err.Error(), `the sink's path "out/x/" is not on S3`) {
		t.Errorf("local path: %v", err)
	}

	down, err := New(ctx, Config{Endpoint: "http://127.0.0.1:1", Attempts: 3, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = down.Register(ctx, tbl)
	if err == nil || !strings.Contains(err.Error(), "Glue table sales.orders (tried 3 times): get table:") {
		t.Errorf("unreachable endpoint: %v", err)
	}

	t.Run("run", func(t *testing.T) { testRun(t, ctx, srv.URL, gc) })
}

// testRun runs a script whose sink has catalog = 'glue' on moto's S3 and
// Glue: after the run the table has the sink's columns and a partition per
// state; a sink whose database is missing fails the run, saying so, after
// its output was committed.
func testRun(t *testing.T, ctx context.Context, url string, gc *gluesdk.Client) {
	s3c, err := connector.NewS3Client(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	if _, err := gc.CreateDatabase(ctx, &gluesdk.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("crm")}}); err != nil {
		t.Fatal(err)
	}
	eng, err := session.Open(ctx, t.TempDir(), session.Config{
		Connector: connector.Config{S3Endpoint: url},
		Glue:      Config{Endpoint: url, Attempts: 2, Backoff: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	script := `
CREATE OR REPLACE SINK contacts_out WITH (
  connector = 'file', path = 's3://lake/curated/contacts/', format = 'parquet',
  partition_by = 'state', catalog = 'glue', database = '${db}', table = 'contacts');
INSERT OVERWRITE contacts_out
SELECT CAST(1 AS BIGINT) AS id, 'Ann' AS name, 'CA' AS state,
       CAST('2024-01-02 03:04:05' AS TIMESTAMP) AS updated_at, CAST(12.50 AS DECIMAL(10,2)) AS balance
UNION ALL
SELECT 2, 'Bob', 'NY', CAST('2024-02-03 04:05:06' AS TIMESTAMP), CAST(7.25 AS DECIMAL(10,2));
`
	exec := func(db string) error {
		s := eng.NewSession(session.Options{Params: map[string]string{"db": db}})
		defer s.Close()
		run, err := s.Exec(ctx, parser.NewSource("contacts.sql", script), session.ExecOptions{})
		if run != nil {
			run.Release()
		}
		return err
	}
	if err := exec("crm"); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := `contacts EXTERNAL_TABLE classification=parquet location=s3://lake/curated/contacts/
serde org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe map[serialization.format:1]
input org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat
column id bigint
column name string
column updated_at timestamp
column balance decimal(10,2)
key state string
partition [CA] s3://lake/curated/contacts/state=CA/
partition [NY] s3://lake/curated/contacts/state=NY/
`
	if got := describe(t, ctx, gc, "crm", "contacts"); got != want {
		t.Errorf("after the run:\n%s\nwant:\n%s", got, want)
	}
	err = exec("missing")
	if err == nil || !strings.Contains(err.Error(), `sink "contacts_out" committed its output, but registering it in the Glue Data Catalog failed`) ||
		!strings.Contains(err.Error(), `the Glue database "missing" does not exist`) {
		t.Errorf("run with a missing database: %v", err)
	}
}

// TestHiveType pins the Glue type of every etlc type.
func TestHiveType(t *testing.T) {
	var got []string
	for k := catalog.KindBool; k <= catalog.KindJSON; k++ {
		typ := catalog.Type{Kind: k, Precision: 10, Scale: 3}
		got = append(got, HiveType(typ))
	}
	want := "boolean tinyint smallint int bigint float double decimal(10,3) string binary date string timestamp timestamp string string"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}
