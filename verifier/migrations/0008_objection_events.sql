-- Where each objection sits in the event chain, so that the proof bundle of a lead it
-- withdrew carries the objection's own event (its source, scope and time of receipt).
ALTER TABLE objections ADD COLUMN event_seq BIGINT;
