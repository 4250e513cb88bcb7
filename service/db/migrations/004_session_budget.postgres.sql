-- The database session limit as one service-wide value with its history, and the connection
-- budget's ledger for deployments without Redis. Keep in step with 004_session_budget.sqlite.sql.

-- Every change of the limit: who, when and why. The live limit is the newest row; with no row
-- the service starts from SUPABASE_SESSION_LIMIT.
CREATE TABLE session_limit_changes (
    id            BIGSERIAL PRIMARY KEY,
    session_limit INTEGER NOT NULL CHECK (session_limit >= 1),
    previous      INTEGER CHECK (previous >= 1),
    source        TEXT NOT NULL CHECK (source IN ('operator', 'alerts', 'adaptive', 'initial')),
    actor         TEXT NOT NULL,   -- an operator's Telegram id, an alert name, "controller"
    reason        TEXT NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL
);

-- One row per live process holding a share of the budget (REDIS_URL unset). A row whose lease
-- expired belongs to a dead process: whoever renews next deletes it and its share is free again.
CREATE TABLE session_leases (
    process_id  TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    granted     INTEGER NOT NULL CHECK (granted >= 0),
    held        INTEGER NOT NULL CHECK (held >= 0),     -- connections it has open now
    wanted      INTEGER NOT NULL CHECK (wanted >= 0),
    in_use      INTEGER NOT NULL CHECK (in_use >= 0),
    waiting     INTEGER NOT NULL CHECK (waiting >= 0),
    pinned      BOOLEAN NOT NULL,                        -- in use reached the grant lately
    db_errors   INTEGER NOT NULL CHECK (db_errors >= 0), -- db_unavailable since the last renewal
    expires_at  TIMESTAMPTZ NOT NULL
);
