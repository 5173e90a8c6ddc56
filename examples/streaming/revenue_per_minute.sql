-- Revenue per customer and minute from a stream of order events.
--
-- The orders stream is a directory of newline-delimited JSON files read as
-- they arrive. Its watermark trails the largest event time seen by 5 seconds:
-- a one-minute window is emitted once, when the watermark passes its end, and
-- an event that arrives after that (testdata has one) is late and dropped.
--
--   etlc run examples/streaming/revenue_per_minute.sql
--   etlc run --param orders_path='s3://my-bucket/incoming/orders/' \
--            --param output_dir='s3://my-bucket/curated' examples/streaming/revenue_per_minute.sql

DECLARE orders_path VARCHAR DEFAULT 'testdata/examples/orders/';
DECLARE output_dir  VARCHAR DEFAULT 'out/examples/streaming';

CREATE OR REPLACE STREAM orders (
  order_id    BIGINT,
  customer_id BIGINT,
  amount      DECIMAL(12,2),
  ts          TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds'
) WITH (
  connector = 'file',
  path      = '${orders_path}',
  format    = 'json'
);

CREATE OR REPLACE SINK revenue_sink WITH (
  connector = 'file',
  path      = '${output_dir}/revenue_per_minute/',
  format    = 'parquet',
  mode      = 'append'
);

-- Expectations: a negative amount is a refund booked as an order and is
-- dropped (and counted); an order without a customer stops the pipeline; an
-- implausible timestamp is only counted. The counts are in etl.expectations.
CREATE OR REPLACE PIPELINE revenue_per_minute
  ( CONSTRAINT positive_amount EXPECT (amount > 0) ON VIOLATION DROP ROW,
    CONSTRAINT known_customer  EXPECT (customer_id IS NOT NULL) ON VIOLATION FAIL,
    CONSTRAINT plausible_ts    EXPECT (ts > '2000-01-01') )
  WITH (checkpoint_interval = '10s')
AS INSERT INTO revenue_sink
   SELECT window_start, window_end, customer_id, SUM(amount) AS revenue, COUNT(*) AS n
   FROM STREAM orders
   GROUP BY TUMBLE(ts, INTERVAL '1 minute'), customer_id;

START PIPELINE revenue_per_minute;
