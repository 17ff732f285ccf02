-- The consent life cycle: single-use tokens, the mail outbox, withdrawals, guardians.

-- Links in mails. Only the SHA-256 of a token is stored; the token itself travels once, in
-- the mail (the outbox row holding the mail is emptied once it is sent).
CREATE TABLE tokens (
    hash        TEXT PRIMARY KEY,
    lead_id     TEXT NOT NULL,
    purpose     TEXT NOT NULL,          -- confirm | guardian | unsubscribe
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,                 -- NULL: does not expire (unsubscribe)
    used_at     BIGINT
);
CREATE INDEX tokens_by_lead ON tokens (lead_id, purpose);

-- Transactional outbox: a mail row is written in the same transaction as the event that
-- needs it; the worker sends it, retries with backoff, and marks it sent only after the
-- SMTP server accepted it.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    lead_id         TEXT,
    kind            TEXT NOT NULL,      -- confirmation | guardian_request
    message_id      TEXT NOT NULL,
    envelope_from   TEXT NOT NULL,
    recipient       TEXT,               -- NULL once sent
    message         TEXT,               -- RFC 5322 text; NULL once sent
    link            TEXT,               -- the main link, logged by the file transport; NULL once sent
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT NOT NULL,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, failed_at, next_attempt_at);

-- Withdrawn contacts, as a keyed hash of the normalised address: no plaintext.
CREATE TABLE suppressions (
    contact_hash TEXT NOT NULL,
    notice_id    TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    lifted_at    BIGINT,
    PRIMARY KEY (contact_hash, notice_id, purpose)
);

-- A parent's own signed receipt, kept beside the child's (joint consent).
CREATE TABLE guardian_receipts (
    jti            TEXT PRIMARY KEY,
    lead_id        TEXT NOT NULL,
    receipt        TEXT,
    receipt_sha256 TEXT NOT NULL,
    seal           TEXT NOT NULL,
    approved       BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX guardian_receipts_by_lead ON guardian_receipts (lead_id);

-- Withdrawal requests signed by the visitor's own key: their ids are single-use.
CREATE TABLE withdrawal_receipts (
    jti        TEXT PRIMARY KEY,
    lead_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

ALTER TABLE leads ADD COLUMN contact_hash TEXT;
CREATE INDEX leads_by_contact ON leads (contact_hash, notice_id);
