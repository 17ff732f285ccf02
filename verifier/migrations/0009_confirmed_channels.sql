-- The channels whose double opt-in is confirmed, a JSON array such as ["email"], written
-- by each confirmation. NULL on an active lead means it owes none (its notice has no
-- double opt-in).
ALTER TABLE leads ADD COLUMN confirmed_channels TEXT;

-- Leads confirmed before this column existed: what their confirmation proved, from its
-- event. A code or an OUI reply proved the number; a link proved the one address of a
-- lead that had one. A link on a lead with both could have come by either (the mail's and
-- the SMS's links were the same kind of token): it proves neither, and the lead must
-- confirm again before either channel is used (the safe side).
UPDATE leads SET confirmed_channels = '["sms"]'
WHERE status = 'active' AND confirmed_channels IS NULL AND EXISTS (
    SELECT 1 FROM events e WHERE e.lead_id = leads.id AND e.kind = 'confirmed'
    AND (e.data LIKE '%"by":"code"%' OR e.data LIKE '%"by":"reply"%'));
UPDATE leads SET confirmed_channels = CASE
        WHEN phone IS NULL THEN '["email"]'
        WHEN email IS NULL THEN '["sms"]'
        ELSE '[]' END
WHERE status = 'active' AND confirmed_channels IS NULL AND EXISTS (
    SELECT 1 FROM events e WHERE e.lead_id = leads.id AND e.kind = 'confirmed');

-- The SMS's short link used to be stored as a `confirm` token, like the mail's: from now on
-- a `confirm` token proves the e-mail address. The links still waiting are expired, so
-- that an old SMS link cannot confirm the e-mail; the expired page asks for a new mail,
-- and the SMS's code and an OUI reply still confirm the number.
UPDATE tokens SET expires_at = 0
WHERE purpose = 'confirm' AND used_at IS NULL
  AND lead_id IN (SELECT id FROM leads WHERE status = 'pending_confirmation' AND phone IS NOT NULL);
