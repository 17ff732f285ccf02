-- The transparency log: an RFC 6962 Merkle tree whose leaf i is the hash of event i + 1 of
-- the chain. `tlog_hashes` keeps the tree's stored hashes (the layout of Go's
-- golang.org/x/mod/sumdb/tlog, which the tlog_tiles crate implements): every complete
-- subtree's hash once, so any proof or tile is a few reads. `tlog_checkpoints` keeps each
-- signed checkpoint (C2SP tlog-checkpoint in a signed note). Both only grow, and are
-- derived from the events: two replicas computing the same rows write the same values.
CREATE TABLE tlog_hashes (
    idx  BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);
CREATE TABLE tlog_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL
);
-- Each witness (by its add-checkpoint URL): the size of the last checkpoint it cosigned.
-- Its cosignature lines are appended to that checkpoint's note.
CREATE TABLE tlog_witnesses (
    url  TEXT PRIMARY KEY,
    size BIGINT NOT NULL
);
