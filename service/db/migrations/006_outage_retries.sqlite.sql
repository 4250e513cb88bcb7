-- Attempts of a job that failed because a dependency was down (keep in step with
-- 006_outage_retries.postgres.sql).
--
-- outage_retries: how many of the job's attempts ended in an outage (storage, the database,
-- Telegram, the broker) while the job was younger than JOB_OUTAGE_RIDE_OUT_SECONDS. They do not
-- count against JOB_MAX_ATTEMPTS: an outage the service outlives never uses up a job's retries.
-- attempts itself still grows with every claim, so it stays the claim's fencing token.
ALTER TABLE jobs ADD COLUMN outage_retries INTEGER NOT NULL DEFAULT 0 CHECK (outage_retries >= 0);
