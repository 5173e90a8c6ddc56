-- The smallest useful etlc job: read order events, check them, and write the
-- revenue per customer as Parquet.
--
--   etlc compile examples/quickstart.sql
--   etlc run examples/quickstart.sql

DECLARE orders_path VARCHAR DEFAULT 'testdata/examples/orders/';
DECLARE output_dir  VARCHAR DEFAULT 'out/examples';

CREATE OR REPLACE SOURCE orders (
  order_id    BIGINT NOT NULL,
  customer_id BIGINT,
  amount      DECIMAL(12,2),
  ts          TIMESTAMP
) WITH (connector = 'file', path = '${orders_path}', format = 'json');

CREATE OR REPLACE SINK revenue_by_customer WITH (
  connector = 'file',
  path      = '${output_dir}/revenue_by_customer/',
  format    = 'parquet',
  mode      = 'overwrite'
);

VALIDATE orders_present AS
SELECT COUNT(*) > 0, 'no orders in ${orders_path}' FROM orders;

INSERT INTO revenue_by_customer
SELECT customer_id, SUM(amount) AS revenue, COUNT(*) AS orders
FROM orders
WHERE amount > 0
GROUP BY customer_id;
