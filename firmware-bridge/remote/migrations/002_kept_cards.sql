-- The cards a door Pi decides from, one row a card, so a delta is a few
-- rows written, not the whole set: an SD card is not worn by every change.
-- Each row and the header carry a MAC under a key from the Pi's enrolment.
CREATE TABLE kept_cards (
	key  TEXT PRIMARY KEY,
	body TEXT NOT NULL,
	mac  BLOB NOT NULL
);
-- The whole-snapshot form kept before is read once and then dropped.
