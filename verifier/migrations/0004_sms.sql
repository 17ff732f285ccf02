-- SMS, the second channel.

-- The outbox holds e-mail and SMS alike; each channel has its own worker, so a slow SMS
-- provider never holds up mail.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
CREATE INDEX outbox_due_by_channel ON outbox (channel, sent_at, failed_at, next_attempt_at);

-- The lead's phone number as a keyed hash (a key of its own, not the e-mail's): an inbound
-- SMS (STOP, OUI) finds its leads by it, and a STOP puts it on the suppression list.
ALTER TABLE leads ADD COLUMN phone_hash TEXT;
CREATE INDEX leads_by_phone ON leads (phone_hash);

-- Wrong tries of an SMS code: a code dies after a few.
ALTER TABLE tokens ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
