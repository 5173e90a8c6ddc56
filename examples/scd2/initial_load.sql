-- SCD Type 2, step 1 of 3: the initial load of the contact dimension.
--
-- Extracts the contacts CSV with declared types, quarantines rows that do not
-- parse (into contacts__errors), fails the run when too many rows were
-- rejected, and (re)builds dim_contact with one current version per contact.
-- Then writes the current dimension as Parquet, partitioned by state.
--
--   etlc run examples/scd2/initial_load.sql
--   etlc run --param contacts_path='s3://my-bucket/raw/contacts/initial/*.csv' \
--            --param output_dir='s3://my-bucket/curated' examples/scd2/initial_load.sql

DECLARE contacts_path VARCHAR DEFAULT 'testdata/examples/contacts/initial/*.csv';
DECLARE output_dir    VARCHAR DEFAULT 'out/examples/scd2';
-- Rows that may be rejected (unparseable or without email) before the run fails.
DECLARE max_rejected  INT     DEFAULT 5;

CREATE OR REPLACE SOURCE contacts (
  id         INT NOT NULL,
  name       VARCHAR,
  email      VARCHAR,
  state      CHAR(2),
  updated_at TIMESTAMP
) WITH (
  connector = 'file',
  path      = '${contacts_path}',
  format    = 'csv',
  header    = 'true',
  on_error  = 'quarantine'   -- bad rows go to contacts__errors with file, line and reason
);

-- The dimension: one row per version of a contact. valid_to is NULL and
-- is_current TRUE for the version in force.
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

-- Cleaned contacts with the checksum of the attributes whose change makes a
-- new version. Contacts without an email cannot be loaded.
CREATE OR REPLACE TEMPORARY VIEW contacts_staged AS
SELECT id,
       TRIM(name)         AS name,
       LOWER(TRIM(email)) AS email,
       UPPER(state)       AS state,
       updated_at,
       MD5(CONCAT_WS('|', COALESCE(TRIM(name), ''), LOWER(TRIM(email)), COALESCE(UPPER(state), ''))) AS checksum
FROM contacts
WHERE email IS NOT NULL AND TRIM(email) <> '';

-- Fail the run when more rows were rejected (quarantined by typing, or
-- without email) than allowed. contacts__errors holds the quarantined rows
-- (source_file, line, column_name, reason, raw). The message is JSON, so
-- the run's log keeps the counts as data.
VALIDATE contacts_quality AS
SELECT q.quarantined + m.missing_email <= ${max_rejected},
       CONCAT('{"quarantined": ', q.quarantined,
              ', "missing_email": ', m.missing_email,
              ', "max_rejected": ', ${max_rejected}, '}')
FROM (SELECT COUNT(*) AS quarantined FROM contacts__errors) AS q
CROSS JOIN (SELECT COUNT(*) AS missing_email FROM contacts
            WHERE email IS NULL OR TRIM(email) = '') AS m;

-- MERGE needs one source row per key.
VALIDATE contacts_unique_ids AS
SELECT COUNT(*) = 0, CONCAT(COUNT(*), ' contact ids appear more than once')
FROM (SELECT id FROM contacts_staged GROUP BY id HAVING COUNT(*) > 1) AS dup;

ASSERT (SELECT COUNT(*) FROM contacts_staged) > 0, 'no contacts to load';

-- The initial load replaces the dimension: every contact starts with one
-- current version, valid from its updated_at.
INSERT OVERWRITE dim_contact (id, name, email, state, checksum, valid_from, valid_to, is_current)
SELECT id, name, email, state, checksum, updated_at, CAST(NULL AS TIMESTAMP), TRUE
FROM contacts_staged;

INSERT OVERWRITE dim_contact_current
SELECT id, name, email, state, valid_from
FROM dim_contact
WHERE is_current;
