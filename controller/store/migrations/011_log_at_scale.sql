-- Which seqs each hour of event time spans. A manager asks for a day of a
-- zone a year back; the log is in seq order, and events are only nearly in
-- time order (a door Pi reports what it decided offline later), so this is
-- how a time window becomes an exact range of seqs without reading a year.
CREATE TABLE event_hours (
	hour      TEXT PRIMARY KEY, -- the UTC hour: 2026-11-30T22
	first_seq INTEGER NOT NULL,
	last_seq  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO event_hours (hour, first_seq, last_seq)
	SELECT substr(time, 1, 13), MIN(seq), MAX(seq) FROM events GROUP BY 1;
CREATE TRIGGER events_hour AFTER INSERT ON events
BEGIN
	INSERT INTO event_hours (hour, first_seq, last_seq) VALUES (substr(NEW.time, 1, 13), NEW.seq, NEW.seq)
	ON CONFLICT (hour) DO UPDATE SET
		first_seq = min(first_seq, excluded.first_seq),
		last_seq = max(last_seq, excluded.last_seq);
END;

-- Signed checkpoints: the controller's word, at a time, that the log held
-- seq events ending in hash. Copies kept elsewhere prove a cut or rewritten
-- log; the ones kept here make verify incremental.
CREATE TABLE checkpoints (
	seq       INTEGER PRIMARY KEY,
	hash      TEXT NOT NULL,
	time      TEXT NOT NULL,
	site      TEXT NOT NULL,
	key       TEXT NOT NULL, -- the signing public key, hex
	signature TEXT NOT NULL  -- ed25519, base64
);
CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

-- Facts about the database itself: "filled" marks a synthetic history made
-- by `controller fill`, the only kind fill may add to.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
