-- Up Migration

-- Every scan xfc itself started: written by the scan workflow when it resolves the user's work directory from the
-- database, before anything is walked. A result is applied only if its scan id is here, for that user, with that
-- work directory (docs/design.md §5: only xfc's own scans change usage). The user id is bigint so that it keeps matching
-- Django's ids once those become bigint.
CREATE TABLE IF NOT EXISTS xfc_scan_issued (
    scan_id text PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES xfc_control_user (id) ON DELETE CASCADE,
    username text NOT NULL,
    work_dir text NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS xfc_scan_issued_user_idx ON xfc_scan_issued (user_id, issued_at DESC);
