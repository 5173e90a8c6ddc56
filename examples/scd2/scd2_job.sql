-- SCD Type 2 for contacts in one job: the initial load, a delta, and the
-- merge that keeps the history of every contact in dim_contact.
--
-- initial_load.sql, delta_load.sql and merge.sql are the same job split into
-- steps that run on their own (the delta is staged as Parquet between them).
--
--   etlc run examples/scd2/scd2_job.sql
--   etlc run --param max_rejected=0 examples/scd2/scd2_job.sql   # strict: no bad row allowed
--
-- Parameters (--param NAME=VALUE, or ETL_PARAM_<NAME> in the environment):
DECLARE contacts_path VARCHAR DEFAULT 'testdata/examples/contacts/initial/*.csv';
DECLARE delta_path    VARCHAR DEFAULT 'testdata/examples/contacts/delta/*.csv';
DECLARE output_dir    VARCHAR DEFAULT 'out/examples/scd2';
-- Rows per extract that may be rejected (unparseable or without email)
-- before the run fails.
DECLARE max_rejected  INT     DEFAULT 5;

------------------------------------------------------------------------------
-- Extract: typed CSV; rows that do not parse are quarantined in
-- contacts__errors / contacts_delta__errors with file, line, column and reason.
------------------------------------------------------------------------------

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
  on_error  = 'quarantine'
);

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

------------------------------------------------------------------------------
-- Targets: the dimension (a managed table) and its current snapshot (Parquet,
-- one directory per state).
------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS dim_contact (
  id         INT NOT NULL,
  name       VARCHAR,
  email      VARCHAR,
  state      CHAR(2),
  checksum   VARCHAR NOT NULL,   -- MD5 of the attributes whose change makes a new version
  valid_from TIMESTAMP NOT NULL,
  valid_to   TIMESTAMP,          -- NULL while the version is in force
  is_current BOOLEAN NOT NULL
);

CREATE OR REPLACE SINK dim_contact_current WITH (
  connector    = 'file',
  path         = '${output_dir}/dim_contact_current/',
  format       = 'parquet',
  mode         = 'overwrite',
  partition_by = 'state'
);

------------------------------------------------------------------------------
-- Transform: cleaned rows with their checksum. Contacts without an email
-- cannot be loaded and count as rejected.
------------------------------------------------------------------------------

CREATE OR REPLACE TEMPORARY VIEW contacts_staged AS
SELECT id,
       TRIM(name)         AS name,
       LOWER(TRIM(email)) AS email,
       UPPER(state)       AS state,
       updated_at,
       MD5(CONCAT_WS('|', COALESCE(TRIM(name), ''), LOWER(TRIM(email)), COALESCE(UPPER(state), ''))) AS checksum
FROM contacts
WHERE email IS NOT NULL AND TRIM(email) <> '';

CREATE OR REPLACE TEMPORARY VIEW contacts_delta_staged AS
SELECT id,
       TRIM(name)         AS name,
       LOWER(TRIM(email)) AS email,
       UPPER(state)       AS state,
       updated_at,
       MD5(CONCAT_WS('|', COALESCE(TRIM(name), ''), LOWER(TRIM(email)), COALESCE(UPPER(state), ''))) AS checksum
FROM contacts_delta
WHERE email IS NOT NULL AND TRIM(email) <> '';

------------------------------------------------------------------------------
-- Checks: fail the run before anything is written when the extracts are bad:
-- more rows rejected (quarantined by typing, or without email) than allowed,
-- or a contact id twice. The messages are JSON, so the run's log keeps the
-- counts as data.
------------------------------------------------------------------------------

VALIDATE contacts_quality AS
SELECT q.quarantined + m.missing_email <= ${max_rejected},
       CONCAT('{"extract": "initial", "quarantined": ', q.quarantined,
              ', "missing_email": ', m.missing_email,
              ', "max_rejected": ', ${max_rejected}, '}')
FROM (SELECT COUNT(*) AS quarantined FROM contacts__errors) AS q
CROSS JOIN (SELECT COUNT(*) AS missing_email FROM contacts
            WHERE email IS NULL OR TRIM(email) = '') AS m;

VALIDATE contacts_delta_quality AS
SELECT q.quarantined + m.missing_email <= ${max_rejected},
       CONCAT('{"extract": "delta", "quarantined": ', q.quarantined,
              ', "missing_email": ', m.missing_email,
              ', "max_rejected": ', ${max_rejected}, '}')
FROM (SELECT COUNT(*) AS quarantined FROM contacts_delta__errors) AS q
CROSS JOIN (SELECT COUNT(*) AS missing_email FROM contacts_delta
            WHERE email IS NULL OR TRIM(email) = '') AS m;

-- MERGE needs one source row per key.
VALIDATE contacts_unique_ids AS
SELECT COUNT(*) = 0, CONCAT(COUNT(*), ' contact ids appear more than once in the initial extract')
FROM (SELECT id FROM contacts_staged GROUP BY id HAVING COUNT(*) > 1) AS dup;

VALIDATE contacts_delta_unique_ids AS
SELECT COUNT(*) = 0, CONCAT(COUNT(*), ' contact ids appear more than once in the delta')
FROM (SELECT id FROM contacts_delta_staged GROUP BY id HAVING COUNT(*) > 1) AS dup;

ASSERT (SELECT COUNT(*) FROM contacts_staged) > 0, 'no contacts to load';

------------------------------------------------------------------------------
-- Load: the initial extract replaces the dimension, one current version per
-- contact.
------------------------------------------------------------------------------

INSERT OVERWRITE dim_contact (id, name, email, state, checksum, valid_from, valid_to, is_current)
SELECT id, name, email, state, checksum, updated_at, CAST(NULL AS TIMESTAMP), TRUE
FROM contacts_staged;

------------------------------------------------------------------------------
-- Merge the delta, SCD Type 2: close the current version of changed
-- contacts, then open a new version for every contact that has no current
-- one (the changed ones just closed, and the new ones). Unchanged contacts
-- keep their version; a delta row older than the version in force is stale.
------------------------------------------------------------------------------

MERGE INTO dim_contact AS t
USING contacts_delta_staged AS s
ON t.id = s.id AND t.is_current
WHEN MATCHED AND t.checksum <> s.checksum AND s.updated_at > t.valid_from THEN
  UPDATE SET valid_to = s.updated_at, is_current = FALSE;

INSERT INTO dim_contact (id, name, email, state, checksum, valid_from, valid_to, is_current)
SELECT s.id, s.name, s.email, s.state, s.checksum, s.updated_at, CAST(NULL AS TIMESTAMP), TRUE
FROM contacts_delta_staged AS s
LEFT JOIN dim_contact AS t ON t.id = s.id AND t.is_current
WHERE t.id IS NULL;

VALIDATE dim_contact_one_current AS
SELECT COUNT(*) = 0, CONCAT(COUNT(*), ' contacts have more than one current version')
FROM (SELECT id FROM dim_contact WHERE is_current GROUP BY id HAVING COUNT(*) > 1) AS dup;

------------------------------------------------------------------------------
-- Publish the current dimension.
------------------------------------------------------------------------------

INSERT OVERWRITE dim_contact_current
SELECT id, name, email, state, valid_from
FROM dim_contact
WHERE is_current;
