-- Portable SQL: the same migrations run on SQLite and PostgreSQL.

-- Every notice version ever served, with its exact text: a proof always shows the words.
CREATE TABLE notice_versions (
    digest          TEXT PRIMARY KEY,
    notice_id       TEXT NOT NULL,
    version         BIGINT NOT NULL,
    lang            TEXT NOT NULL,
    body            TEXT NOT NULL,
    first_served_at BIGINT NOT NULL,
    UNIQUE (notice_id, version, lang)
);

-- Accepted leads. The unique index on jti is the replay protection (rule 10).
CREATE TABLE leads (
    id              TEXT PRIMARY KEY,
    jti             TEXT NOT NULL UNIQUE,
    notice_id       TEXT NOT NULL,
    notice_version  BIGINT NOT NULL,
    notice_lang     TEXT NOT NULL,
    notice_digest   TEXT NOT NULL REFERENCES notice_versions (digest),
    receipt         TEXT,
    receipt_sha256  TEXT NOT NULL,
    seal            TEXT NOT NULL,
    email           TEXT,
    phone           TEXT,
    minor           BIGINT NOT NULL,
    guardian_email  TEXT,
    granted         TEXT NOT NULL,
    fields          TEXT NOT NULL,
    origin          TEXT NOT NULL,
    visitor_key     TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_contact_at BIGINT NOT NULL
);
CREATE INDEX leads_by_status ON leads (status, created_at);
CREATE INDEX leads_by_notice ON leads (notice_id, created_at);
CREATE INDEX leads_by_created ON leads (created_at);

-- Append-only, hash-chained log of every transition. No contact data here.
CREATE TABLE events (
    seq      BIGINT PRIMARY KEY,
    lead_id  TEXT,
    kind     TEXT NOT NULL,
    data     TEXT NOT NULL,
    at       BIGINT NOT NULL,
    prev     TEXT NOT NULL,
    hash     TEXT NOT NULL
);
CREATE INDEX events_by_lead ON events (lead_id, seq);

-- The head of the chain: one row, locked by whoever appends.
CREATE TABLE chain_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
