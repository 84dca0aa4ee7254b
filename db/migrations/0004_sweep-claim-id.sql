-- Up Migration

-- Which sweep claimed the outstanding request. A sweep passes its own id (the workflow run id); when its claim
-- activity is retried after the claim committed but before the result came back, the same users and request ids
-- are returned instead of a second batch being claimed.
ALTER TABLE xfc_user_state ADD COLUMN IF NOT EXISTS claim_id text;

CREATE INDEX IF NOT EXISTS xfc_user_state_claim_idx ON xfc_user_state (claim_id) WHERE outstanding_request_id IS NOT NULL;
