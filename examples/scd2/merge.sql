-- SCD Type 2, step 3 of 3: merge the staged delta into dim_contact.
--
-- The standard two steps: a MERGE closes the current version of every
-- contact whose attributes changed (its checksum differs), then an INSERT
-- adds a new current version for every staged contact that has none: the
-- changed ones just closed and the new ones. Unchanged contacts keep their
-- version. Finally the current dimension is written as Parquet.
--
--   etlc run examples/scd2/merge.sql

DECLARE staging_dir VARCHAR DEFAULT 'out/examples/scd2/staging';
DECLARE output_dir  VARCHAR DEFAULT 'out/examples/scd2';

-- What delta_load.sql staged.
CREATE OR REPLACE SOURCE contacts_delta_staged (
  id         INT NOT NULL,
  name       VARCHAR,
  email      VARCHAR,
  state      CHAR(2),
  updated_at TIMESTAMP,
  checksum   VARCHAR
) WITH (
  connector = 'file',
  path      = '${staging_dir}/contacts_delta/',
  format    = 'parquet'
);

CREATE TABLE IF NOT EXISTS dim_contact (
  id         INT NOT NULL,
  name       VARCHAR,
  email      VARCHAR,
  state      CHAR(2),
  checksum   VARCHAR NOT NULL,
  valid_from TIMESTAMP NOT NULL,
  valid_to   TIMESTAMP,
  is_current BOOLEAN NOT NULL
);

CREATE OR REPLACE SINK dim_contact_current WITH (
  connector    = 'file',
  path         = '${output_dir}/dim_contact_current/',
  format       = 'parquet',
  mode         = 'overwrite',
  partition_by = 'state'
);

-- 1. Close the current version of changed contacts. A delta row older than
--    the version in force is stale and changes nothing.
MERGE INTO dim_contact AS t
USING contacts_delta_staged AS s
ON t.id = s.id AND t.is_current
WHEN MATCHED AND t.checksum <> s.checksum AND s.updated_at > t.valid_from THEN
  UPDATE SET valid_to = s.updated_at, is_current = FALSE;

-- 2. Open a new current version for contacts that now have none.
INSERT INTO dim_contact (id, name, email, state, checksum, valid_from, valid_to, is_current)
SELECT s.id, s.name, s.email, s.state, s.checksum, s.updated_at, CAST(NULL AS TIMESTAMP), TRUE
FROM contacts_delta_staged AS s
LEFT JOIN dim_contact AS t ON t.id = s.id AND t.is_current
WHERE t.id IS NULL;

VALIDATE dim_contact_one_current AS
SELECT COUNT(*) = 0, CONCAT(COUNT(*), ' contacts have more than one current version')
FROM (SELECT id FROM dim_contact WHERE is_current GROUP BY id HAVING COUNT(*) > 1) AS dup;

INSERT OVERWRITE dim_contact_current
SELECT id, name, email, state, valid_from
FROM dim_contact
WHERE is_current;
