-- Proofs and administration.

-- Each lead's last event: the next one of that lead links to it (a per-lead chain inside
-- the store's chain), so a proof bundle shows that none of the lead's events is missing.
ALTER TABLE leads ADD COLUMN last_event_hash TEXT;

-- Signed checkpoints of the chain head, published and carried by proof bundles.
CREATE TABLE checkpoints (
    count BIGINT PRIMARY KEY,
    head  TEXT NOT NULL,
    at    BIGINT NOT NULL,
    jws   TEXT NOT NULL
);

-- Admin API keys: shown once, stored as SHA-256, revocable.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
ALTER TABLE events ADD COLUMN lead_prev TEXT;
