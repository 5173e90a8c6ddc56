-- SCD Type 2: the history of the contact dimension after initial_load.sql,
-- delta_load.sql and merge.sql (or scd2_job.sql) ran against the same data
-- directory. Every version of every contact, oldest first; the version in
-- force has valid_to NULL and is_current TRUE.
--
--   etlc run examples/scd2/history.sql

-- The table the other steps created (nothing happens when it exists).
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

SELECT id, name, email, state, valid_from, valid_to, is_current
FROM dim_contact
ORDER BY id, valid_from;
