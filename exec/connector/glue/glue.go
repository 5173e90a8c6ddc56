// Package glue registers sink output in the AWS Glue Data Catalog, so that
// Athena (and Spark, Trino, Redshift Spectrum) can query it: after a sink
// with catalog = 'glue' commits, Registrar.Register creates or updates its
// table (columns and types, location, the SerDe of its format, partition
// keys) and makes the table's partitions those of the committed output.
package glue

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	gluesdk "github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"github.com/etlc/etlc/catalog"
)

// Table is a sink's committed output as the Glue Data Catalog describes it.
type Table struct {
	Database, Name string
	// Location is the sink's s3:// path (s3a:// is accepted).
	Location string
	// Format is parquet, csv or json; Compression the sink's compression.
	Format, Compression string
	// Columns are the data columns, PartitionKeys the partition_by columns,
	// in order.
	Columns, PartitionKeys []catalog.Column
	// Partitions are the partition directories of the committed output.
	Partitions []Partition
	// Delimiter, Quote, Escape and Header describe CSV files (a quote
	// inside a quoted field is doubled unless Escape is set).
	Delimiter, Quote, Escape string
	Header                   bool
	// RunID is recorded in the table's parameters (etlc.run_id).
	RunID string
}

// Partition is one partition directory of the output.
type Partition struct {
	// Dir is the directory relative to the location ("state=CA/").
	Dir string
	// Values are the partition column values, in key order.
	Values []string
}

// Config configures a Registrar.
type Config struct {
	// Endpoint overrides AWS_ENDPOINT_URL_GLUE and AWS_ENDPOINT_URL (a
	// Glue-compatible server, e.g. in tests).
	Endpoint string
	// Attempts is how often a registration is tried before its error is
	// returned (default 4); Backoff the wait before the second attempt,
	// doubled for each further one (default 1s).
	Attempts int
	Backoff  time.Duration
}

// Registrar creates and updates Glue tables. It is safe for concurrent use.
type Registrar struct {
	client   *gluesdk.Client
	attempts int
	backoff  time.Duration
}

// New returns a Registrar using the default AWS configuration (the
// environment, IRSA in a pod).
func New(ctx context.Context, cfg Config) (*Registrar, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_GLUE")
	}
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	client := gluesdk.NewFromConfig(awsCfg, func(o *gluesdk.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	return NewWithClient(client, cfg), nil
}

// NewWithClient returns a Registrar using client.
func NewWithClient(client *gluesdk.Client, cfg Config) *Registrar {
	r := &Registrar{client: client, attempts: cfg.Attempts, backoff: cfg.Backoff}
	if r.attempts <= 0 {
		r.attempts = 4
	}
	if r.backoff <= 0 {
		r.backoff = time.Second
	}
	return r
}

// Register creates the table or updates it to t, then adds the partitions
// of t that the catalog lacks and removes those it has that t has not.
// Errors that may pass (throttling, a connection refused, a server error)
// are retried with exponential back-off; the last error is returned,
// saying how often it was tried.
func (r *Registrar) Register(ctx context.Context, t Table) error {
	in, err := tableInput(t)
	if err != nil {
		return err
	}
	wait := r.backoff
	for attempt := 1; ; attempt++ {
		err = r.register(ctx, t, in)
		if err == nil {
			return nil
		}
		if !retryable(err) || attempt == r.attempts {
			if attempt > 1 {
				return fmt.Errorf("Glue table %s.%s (tried %d times): %w", t.Database, t.Name, attempt, err)
			}
			return fmt.Errorf("Glue table %s.%s: %w", t.Database, t.Name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Glue table %s.%s: %w (after: %v)", t.Database, t.Name, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// retryable tells the errors that a later attempt may not meet.
func retryable(err error) bool {
	var notFound *types.EntityNotFoundException
	var invalid *types.InvalidInputException
	var exists *types.AlreadyExistsException
	if errors.As(err, &notFound) || errors.As(err, &invalid) || errors.As(err, &exists) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "AccessDeniedException", "ValidationException", "UnrecognizedClientException", "InvalidClientTokenId":
			return false
		}
	}
	return true
}

func (r *Registrar) register(ctx context.Context, t Table, in *types.TableInput) error {
	_, err := r.client.GetTable(ctx, &gluesdk.GetTableInput{DatabaseName: &t.Database, Name: &t.Name})
	var notFound *types.EntityNotFoundException
	switch {
	case errors.As(err, &notFound):
		if _, err := r.client.GetDatabase(ctx, &gluesdk.GetDatabaseInput{Name: &t.Database}); err != nil {
			if errors.As(err, &notFound) {
				return fmt.Errorf("the Glue database %q does not exist: create it first (aws glue create-database --database-input Name=%s): %w", t.Database, t.Database, err)
			}
			return err
		}
		if _, err := r.client.CreateTable(ctx, &gluesdk.CreateTableInput{DatabaseName: &t.Database, TableInput: in}); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
	case err != nil:
		return fmt.Errorf("get table: %w", err)
	default:
		if _, err := r.client.UpdateTable(ctx, &gluesdk.UpdateTableInput{DatabaseName: &t.Database, TableInput: in}); err != nil {
			return fmt.Errorf("update table: %w", err)
		}
	}
	if len(t.PartitionKeys) == 0 {
		return nil
	}
	return r.syncPartitions(ctx, t, in.StorageDescriptor)
}

// syncPartitions makes the table's partitions those of t.
func (r *Registrar) syncPartitions(ctx context.Context, t Table, sd *types.StorageDescriptor) error {
	have := map[string][]string{}
	p := gluesdk.NewGetPartitionsPaginator(r.client, &gluesdk.GetPartitionsInput{DatabaseName: &t.Database, TableName: &t.Name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("get partitions: %w", err)
		}
		for _, part := range page.Partitions {
			have[strings.Join(part.Values, "\x00")] = part.Values
		}
	}
	want := map[string]bool{}
	var add []types.PartitionInput
	for _, part := range t.Partitions {
		k := strings.Join(part.Values, "\x00")
		if want[k] {
			continue
		}
		want[k] = true
		if _, ok := have[k]; ok {
			continue
		}
		psd := *sd
		psd.Location = aws.String(*sd.Location + part.Dir)
		add = append(add, types.PartitionInput{Values: part.Values, StorageDescriptor: &psd})
	}
	for len(add) > 0 {
		n := min(len(add), 100)
		out, err := r.client.BatchCreatePartition(ctx, &gluesdk.BatchCreatePartitionInput{
			DatabaseName: &t.Database, TableName: &t.Name, PartitionInputList: add[:n],
		})
		if err != nil {
			return fmt.Errorf("create partitions: %w", err)
		}
		for _, e := range out.Errors {
			if e.ErrorDetail != nil && aws.ToString(e.ErrorDetail.ErrorCode) == "AlreadyExistsException" {
				continue
			}
			return fmt.Errorf("create partition %v: %s", e.PartitionValues, errorDetail(e.ErrorDetail))
		}
		add = add[n:]
	}
	var drop []types.PartitionValueList
	keys := make([]string, 0, len(have))
	for k := range have {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !want[k] {
			drop = append(drop, types.PartitionValueList{Values: have[k]})
		}
	}
	for len(drop) > 0 {
		n := min(len(drop), 25)
		out, err := r.client.BatchDeletePartition(ctx, &gluesdk.BatchDeletePartitionInput{
			DatabaseName: &t.Database, TableName: &t.Name, PartitionsToDelete: drop[:n],
		})
		if err != nil {
			return fmt.Errorf("delete partitions: %w", err)
		}
		for _, e := range out.Errors {
			if e.ErrorDetail != nil && aws.ToString(e.ErrorDetail.ErrorCode) == "EntityNotFoundException" {
				continue
			}
			return fmt.Errorf("delete partition %v: %s", e.PartitionValues, errorDetail(e.ErrorDetail))
		}
		drop = drop[n:]
	}
	return nil
}

func errorDetail(d *types.ErrorDetail) string {
	if d == nil {
		return "unknown error"
	}
	return aws.ToString(d.ErrorCode) + ": " + aws.ToString(d.ErrorMessage)
}

// The SerDes and input/output formats of the formats etlc writes.
const (
	textInput  = "org.apache.hadoop.mapred.TextInputFormat"
	textOutput = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
)

// tableInput is the TableInput describing t.
func tableInput(t Table) (*types.TableInput, error) {
	loc := t.Location
	if rest, ok := strings.CutPrefix(loc, "s3a://"); ok {
		loc = "s3://" + rest
	}
	if !strings.HasPrefix(loc, "s3://") {
		return nil, fmt.Errorf("Glue table %s.%s: the sink's path %q is not on S3: Athena reads s3:// locations only", t.Database, t.Name, t.Location)
	}
	if !strings.HasSuffix(loc, "/") {
		loc += "/"
	}
	sd := &types.StorageDescriptor{Location: aws.String(loc), Parameters: map[string]string{}}
	params := map[string]string{"EXTERNAL": "TRUE", "classification": t.Format, "etlc.run_id": t.RunID}
	switch t.Format {
	case "parquet":
		sd.InputFormat = aws.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
		sd.OutputFormat = aws.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
		sd.SerdeInfo = &types.SerDeInfo{
			SerializationLibrary: aws.String("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
			Parameters:           map[string]string{"serialization.format": "1"},
		}
	case "csv":
		delim := t.Delimiter
		if delim == "" {
			delim = ","
		}
		sd.InputFormat, sd.OutputFormat = aws.String(textInput), aws.String(textOutput)
		quote := t.Quote
		if quote == "" {
			quote = `"`
		}
		sp := map[string]string{"separatorChar": delim, "quoteChar": quote}
		if t.Escape != "" {
			sp["escapeChar"] = t.Escape
		}
		sd.SerdeInfo = &types.SerDeInfo{
			SerializationLibrary: aws.String("org.apache.hadoop.hive.serde2.OpenCSVSerde"),
			Parameters:           sp,
		}
		if t.Header {
			params["skip.header.line.count"] = "1"
		}
	case "json":
		sd.InputFormat, sd.OutputFormat = aws.String(textInput), aws.String(textOutput)
		sd.SerdeInfo = &types.SerDeInfo{
			SerializationLibrary: aws.String("org.openx.data.jsonserde.JsonSerDe"),
			Parameters:           map[string]string{"serialization.format": "1"},
		}
	default:
		return nil, fmt.Errorf("Glue table %s.%s: format %q has no SerDe", t.Database, t.Name, t.Format)
	}
	if t.Compression != "" && t.Compression != "none" {
		params["compressionType"] = t.Compression
	}
	for _, c := range t.Columns {
		sd.Columns = append(sd.Columns, types.Column{Name: aws.String(c.Name), Type: aws.String(HiveType(c.Type))})
	}
	pk := []types.Column{}
	for _, c := range t.PartitionKeys {
		pk = append(pk, types.Column{Name: aws.String(c.Name), Type: aws.String(HiveType(c.Type))})
	}
	return &types.TableInput{
		Name: aws.String(t.Name), TableType: aws.String("EXTERNAL_TABLE"),
		Description:       aws.String("written by etlc"),
		Parameters:        params,
		StorageDescriptor: sd, PartitionKeys: pk,
	}, nil
}

// HiveType is the Glue (Hive) column type of an etlc type. TIME, INTERVAL
// and JSON, which Hive has no type for, are strings.
func HiveType(t catalog.Type) string {
	switch t.Kind {
	case catalog.KindBool:
		return "boolean"
	case catalog.KindInt8:
		return "tinyint"
	case catalog.KindInt16:
		return "smallint"
	case catalog.KindInt32:
		return "int"
	case catalog.KindInt64:
		return "bigint"
	case catalog.KindFloat32:
		return "float"
	case catalog.KindFloat64:
		return "double"
	case catalog.KindDecimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case catalog.KindBinary:
		return "binary"
	case catalog.KindDate:
		return "date"
	case catalog.KindTimestamp, catalog.KindTimestampTZ:
		return "timestamp"
	}
	return "string"
}
