-- csvbot schema, version 1 (SQLite). Keep in step with 001_init.postgres.sql.
-- Times are ISO-8601 UTC text with microseconds (fixed width, so text order is time order);
-- JSON is text checked by json_valid().

CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    username      TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);

CREATE TABLE jobs (
    id                  TEXT PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    chat_id             INTEGER NOT NULL,
    file_name           TEXT NOT NULL,
    file_size           INTEGER NOT NULL CHECK (file_size >= 0),
    status              TEXT NOT NULL
        CHECK (status IN ('received', 'queued', 'running', 'done', 'failed', 'rejected')),
    attempts            INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    queued_at           TEXT,
    started_at          TEXT,
    finished_at         TEXT,
    lease_expires_at    TEXT,
    input_key           TEXT,
    cleaned_key         TEXT,
    profile_key         TEXT,
    error_kind          TEXT,
    error_message       TEXT,
    summary             TEXT CHECK (summary IS NULL OR json_valid(summary)),
    trace_context       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(trace_context)),
    progress_message_id INTEGER
);

CREATE INDEX jobs_user_created_idx ON jobs (user_id, created_at DESC);
CREATE INDEX jobs_status_lease_idx ON jobs (status, lease_expires_at);
