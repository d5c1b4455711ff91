-- A card's PIN for card+PIN readers, as salt$sha256(salt‖pin); empty when
-- the card has none.
ALTER TABLE credentials ADD COLUMN pin_hash TEXT NOT NULL DEFAULT '';
