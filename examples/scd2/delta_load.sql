-- SCD Type 2, step 2 of 3: extract and check a delta of contacts.
--
-- Reads the changed and new contacts, quarantines rows that do not parse
-- (into contacts_delta__errors), fails the run when too many rows were
-- rejected, and stages the cleaned delta with its checksum as Parquet for
-- merge.sql.
--
--   etlc run examples/scd2/delta_load.sql

DECLARE delta_path   VARCHAR DEFAULT 'testdata/examples/contacts/delta/*.csv';
DECLARE staging_dir  VARCHAR DEFAULT 'out/examples/scd2/staging';
DECLARE max_rejected INT     DEFAULT 5;

CREATE OR REPLACE SOURCE contacts_delta (
  id         INT NOT NULL,
  name       VARCHAR,
  email      VARCHAR,
  state      CHAR(2),
  updated_at TIMESTAMP
) WITH (
  connector = 'file',
  path      = '${delta_path}',
  format    = 'csv',
  header    = 'true',
  on_error  = 'quarantine'
);

CREATE OR REPLACE SINK contacts_delta_staging WITH (
  connector = 'file',
  path      = '${staging_dir}/contacts_delta/',
  format    = 'parquet',
  mode      = 'overwrite'
);

CREATE OR REPLACE TEMPORARY VIEW contacts_delta_staged AS
SELECT id,
       TRIM(name)         AS name,
       LOWER(TRIM(email)) AS email,
       UPPER(state)       AS state,
       updated_at,
       MD5(CONCAT_WS('|', COALESCE(TRIM(name), ''), LOWER(TRIM(email)), COALESCE(UPPER(state), ''))) AS checksum
FROM contacts_delta
WHERE email IS NOT NULL AND TRIM(email) <> '';

-- Fail the run when more rows were rejected (quarantined by typing, or
-- without email) than allowed.
VALIDATE contacts_delta_quality AS
SELECT q.quarantined + m.missing_email <= ${max_rejected},
       CONCAT('{"quarantined": ', q.quarantined,
              ', "missing_email": ', m.missing_email,
              ', "max_rejected": ', ${max_rejected}, '}')
FROM (SELECT COUNT(*) AS quarantined FROM contacts_delta__errors) AS q
CROSS JOIN (SELECT COUNT(*) AS missing_email FROM contacts_delta
            WHERE email IS NULL OR TRIM(email) = '') AS m;

VALIDATE contacts_delta_unique_ids AS
SELECT COUNT(*) = 0, CONCAT(COUNT(*), ' contact ids appear more than once in the delta')
FROM (SELECT id FROM contacts_delta_staged GROUP BY id HAVING COUNT(*) > 1) AS dup;

INSERT OVERWRITE contacts_delta_staging
SELECT id, name, email, state, updated_at, checksum
FROM contacts_delta_staged;
