-- Up Migration

-- When the sweep last claimed users (one row, updated by every sweep's claim activity): the sweep-stalled alert,
-- `xfc doctor` and the report read it. A sweep that finds nobody due still counts as a run.
CREATE TABLE IF NOT EXISTS xfc_sweep_run (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_run_at timestamptz NOT NULL,
    last_claim_id text,
    last_claimed integer NOT NULL DEFAULT 0
);

-- The report reads each user's measurements by time (scan_now), and scan health reads a window of applied_at.
CREATE INDEX IF NOT EXISTS xfc_scan_user_now_idx ON xfc_scan (user_id, scan_now) WHERE status <> 'failed';
CREATE INDEX IF NOT EXISTS xfc_scan_applied_idx ON xfc_scan (applied_at);
