-- What a door Pi sensed and decided, in order, until the controller has it.
CREATE TABLE outbox (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	id        TEXT NOT NULL UNIQUE,
	body      TEXT NOT NULL,
	delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (delivered, seq);

-- The last credential snapshot, so a restarted bridge can decide before the
-- controller is back.
CREATE TABLE kept (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
