-- The channels whose double opt-in is confirmed, a JSON array such as ["email"], written
-- by each confirmation. NULL on an active lead means it owes none: its notice has no
-- double opt-in, or it was confirmed before this column existed, when one confirmation
-- stood for every channel.
ALTER TABLE leads ADD COLUMN confirmed_channels TEXT;
