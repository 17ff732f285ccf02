-- Retention (rule 23): three years from collection or the last contact, then ask again or
-- delete; a withdrawn or refused lead keeps its contact only as a keyed hash after a delay.

-- The retention each notice version was served with (`retention_days` of its file), so
-- that a lead keeps the retention it was collected under, and the leads of a notice that
-- is no longer served still end. NULL: a version retired before this was recorded (the
-- default of three years applies).
ALTER TABLE notice_versions ADD COLUMN retention_days BIGINT;

-- When the lead was last asked to renew its consent; asked again only after a newer contact.
ALTER TABLE leads ADD COLUMN renewal_requested_at BIGINT;

-- When a withdrawn or refused lead's contact data (addresses, receipt, form fields) was
-- erased, keeping only the keyed hashes.
ALTER TABLE leads ADD COLUMN contact_erased_at BIGINT;

-- The retention job looks leads up by the time of their last contact.
CREATE INDEX leads_by_last_contact ON leads (last_contact_at);
