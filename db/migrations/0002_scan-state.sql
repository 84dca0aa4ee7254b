-- Up Migration

-- xfc's own tables (prefix xfc_, never xfc_control_, which is Django's). They reference Django's user rows with
-- ON DELETE CASCADE so that deleting a user in the Django admin also removes their history and state.

-- One row per scan id: the history of measurements and failures. Applying a scan inserts its row first
-- (ON CONFLICT DO NOTHING), which is what makes an apply happen at most once.
CREATE TABLE IF NOT EXISTS xfc_scan (
    scan_id text PRIMARY KEY,
    request_id text,
    user_id integer NOT NULL REFERENCES xfc_control_user (id) ON DELETE CASCADE,
    username text NOT NULL,
    status text NOT NULL CHECK (status IN ('complete', 'partial', 'failed')),
    work_dir text,
    age_basis text,
    scan_now timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    applied_at timestamptz NOT NULL DEFAULT now(),
    -- false when a newer scan had already been applied: the row is history only and moved no usage
    usage_applied boolean NOT NULL DEFAULT false,
    files bigint,
    directories bigint,
    symlinks bigint,
    others bigint,
    bytes bigint,
    allocated_bytes bigint,
    temporal_byte_days bigint,
    errors jsonb,
    top_directories jsonb,
    age_histogram jsonb,
    failure_reason text,
    failure_message text
);

CREATE INDEX IF NOT EXISTS xfc_scan_user_applied_idx ON xfc_scan (user_id, applied_at DESC);

-- One row per user (created on first claim or apply): the outstanding scan request, the last scan and failure,
-- and the notification level the notifier works from.
CREATE TABLE IF NOT EXISTS xfc_user_state (
    user_id integer PRIMARY KEY REFERENCES xfc_control_user (id) ON DELETE CASCADE,
    outstanding_request_id text,
    requested_at timestamptz,
    last_scan_id text,
    last_scan_status text,
    last_scan_at timestamptz,
    last_failed_at timestamptz,
    last_failure_reason text,
    notify_level text NOT NULL DEFAULT 'ok' CHECK (notify_level IN ('ok', 'warning', 'over')),
    level_since timestamptz,
    last_notified_at timestamptz,
    last_notified_kind text,
    last_notify_skipped_reason text
);
