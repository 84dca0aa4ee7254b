-- Up Migration

-- Every scan request a scan workflow has taken on, with the scan that serves it. A request delivered again (a
-- duplicate from RabbitMQ, a replay from xfc.dead, a re-published message) finds its row and starts no second scan.
CREATE TABLE IF NOT EXISTS xfc_scan_request (
    request_id text PRIMARY KEY,
    username text NOT NULL,
    scan_id text NOT NULL,
    accepted_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS xfc_scan_request_accepted_idx ON xfc_scan_request (accepted_at);
