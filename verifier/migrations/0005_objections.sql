-- Objections received anywhere (the mailing tool, the DPO, a letter, a phone call, a
-- source-side refusal): who (a keyed hash, never the address), what scope, from where,
-- when received, and a note for the operator. The same objection recorded twice is one
-- row: its id is a digest of who, scope, source and when.
CREATE TABLE objections (
    id TEXT PRIMARY KEY,
    contact_hash TEXT NOT NULL,
    channel TEXT NOT NULL,
    scope TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    note TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX objections_by_contact ON objections (contact_hash);
