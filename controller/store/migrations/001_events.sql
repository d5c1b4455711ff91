-- The event log: append-only, gap-free seq, each row chained to the one
-- before by hash. body is the canonical JSON the hash covers; the other
-- columns are copies of it for filtering.
CREATE TABLE events (
	seq       INTEGER PRIMARY KEY,
	id        TEXT NOT NULL UNIQUE,
	time      TEXT NOT NULL,
	type      TEXT NOT NULL,
	door      TEXT NOT NULL DEFAULT '',
	zone_from TEXT NOT NULL DEFAULT '',
	zone_to   TEXT NOT NULL DEFAULT '',
	person_id TEXT NOT NULL DEFAULT '',
	body      TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
CREATE INDEX events_door ON events (door, seq);
CREATE INDEX events_zone_to ON events (zone_to, seq);
CREATE INDEX events_zone_from ON events (zone_from, seq);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_person ON events (person_id, seq);

-- Sekisho never edits or deletes an event; these make a slip loud. Someone
-- with the file can drop them, which is what verify is for.
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- How far each publisher has delivered the log.
CREATE TABLE outbox (
	name     TEXT PRIMARY KEY,
	last_seq INTEGER NOT NULL
);
