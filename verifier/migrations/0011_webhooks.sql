-- Webhooks (Standard Webhooks). An endpoint: where to post, which event types (a JSON
-- array; empty for every type), whether its deliveries carry the contact data, and the
-- HMAC key it is signed with. The key has to be stored in the clear: signing needs it.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    include_contact BIGINT NOT NULL,
    secret          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    disabled_at     BIGINT,
    disabled_reason TEXT
);
-- One delivery per (event, endpoint), written in the transaction that appends the event.
-- `id` is the webhook-id header: the same on every attempt, so receivers drop duplicates.
-- The body is kept until the delivery succeeds or is given up, then erased.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL,
    event_seq       BIGINT,
    event_type      TEXT NOT NULL,
    lead_id         TEXT,
    body            TEXT,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT NOT NULL,
    delivered_at    BIGINT,
    failed_at       BIGINT,
    last_status     BIGINT,
    last_error      TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_lead ON webhook_deliveries (lead_id);
