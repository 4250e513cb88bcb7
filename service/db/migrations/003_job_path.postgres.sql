-- The job path made recoverable from the job row alone (keep in step with 003_job_path.sqlite.sql).
--
-- kicked_at: when a task was last put on the queue for a queued job by the sweeper. A queued
-- job whose newest of queued_at/kicked_at is old has lost its task (a failed kick, a broker that
-- lost its data, an in-process queue that died with its process) and is kicked again.
ALTER TABLE jobs ADD COLUMN kicked_at TIMESTAMPTZ;
-- Delivery is its own step after done: a fencing token (delivery_attempts, one per claim of the
-- delivery), a lease (a deliverer that dies lets another take over once it expires), and the
-- error that made the service give up (the chat blocked the bot, or the attempts ran out).
ALTER TABLE jobs ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0 CHECK (delivery_attempts >= 0);
ALTER TABLE jobs ADD COLUMN delivery_lease_expires_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN delivery_error TEXT;

-- One row per result document that reached the user: a deliverer that takes over sends only
-- the documents without a row here.
CREATE TABLE job_deliveries (
    job_id       TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    document     TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    delivered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_id, document)
);
