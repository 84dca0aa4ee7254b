-- Up Migration

-- The notification outbox (docs/design.md §7): one row per email decision, written in the same transaction as the decision
-- itself, with the email fully rendered. The send activity delivers exactly that row and marks it sent only after
-- the SMTP server accepted it, so what was decided is what is sent, and a sent row is never sent again.
--
-- scan_id is UNIQUE: a scan leads to at most one email decision, however often the decision is retried. (No foreign
-- key to xfc_scan: pruning old scans must not erase what users were told.)
-- message_id is UNIQUE and derived from the scan id: every attempt to send a row carries the same Message-ID.
CREATE TABLE IF NOT EXISTS xfc_notification (
    id bigserial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES xfc_control_user (id) ON DELETE CASCADE,
    scan_id text NOT NULL UNIQUE,
    -- the account name when decided, so the history reads the same after a rename
    username text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('warning', 'over', 'reminder', 'all-clear')),
    -- the level the scan measured (all-clear: ok; a partial scan: at least this)
    level text NOT NULL CHECK (level IN ('ok', 'warning', 'over')),
    -- why this email (level-rose, reminder-due, back-under); see notify/policy.ts
    reason text NOT NULL,
    -- pending: to send; sent: the SMTP server accepted it; suppressed: decided but never to be sent (notify off, no
    -- usable address); rejected: the server refused the recipient or message for good (5xx)
    status text NOT NULL CHECK (status IN ('pending', 'sent', 'suppressed', 'rejected')),
    suppressed_reason text,
    -- NULL only when the user has no usable address (then the row is suppressed)
    recipient text,
    sender text NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text NOT NULL,
    message_id text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    last_attempt_at timestamptz,
    -- an attempt is sending until then: a concurrent attempt waits instead of sending a second copy
    lease_until timestamptz,
    last_error text,
    sent_at timestamptz,
    -- the server's final reply when it accepted the message, e.g. "250 2.0.0 Ok: queued as 4ZxY"
    smtp_response text,
    CONSTRAINT xfc_notification_suppressed_has_reason CHECK ((status = 'suppressed') = (suppressed_reason IS NOT NULL)),
    CONSTRAINT xfc_notification_sendable_has_recipient CHECK (status = 'suppressed' OR recipient IS NOT NULL),
    CONSTRAINT xfc_notification_sent_has_time CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

CREATE INDEX IF NOT EXISTS xfc_notification_user_created_idx ON xfc_notification (user_id, created_at DESC);
-- What is still to send (normally empty: each row is sent by the workflow that decided it).
CREATE INDEX IF NOT EXISTS xfc_notification_pending_idx ON xfc_notification (created_at) WHERE status = 'pending';

-- What the notification policy remembers per user, beside 0002's notify_level, level_since, last_notified_at,
-- last_notified_kind and last_notify_skipped_reason.
ALTER TABLE xfc_user_state
    -- the level the user was last told of (or would have been, had the email not been suppressed); 'ok' after an
    -- all-clear. Emails go out when the measured level rises above it.
    ADD COLUMN IF NOT EXISTS notified_level text NOT NULL DEFAULT 'ok'
        CHECK (notified_level IN ('ok', 'warning', 'over')),
    -- when the last email was decided, sent or suppressed: the clock of the one-per-day and reminder rules
    ADD COLUMN IF NOT EXISTS last_email_decided_at timestamptz,
    -- the latest scan decided, its "now" (a late, older scan changes nothing) and the reason of that decision
    ADD COLUMN IF NOT EXISTS notify_scan_id text,
    ADD COLUMN IF NOT EXISTS notify_scan_at timestamptz,
    ADD COLUMN IF NOT EXISTS notify_reason text;
