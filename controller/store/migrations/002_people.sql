CREATE TABLE people (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('employee', 'contractor', 'visitor')),
	company    TEXT NOT NULL DEFAULT '',
	levels     TEXT NOT NULL DEFAULT '', -- access level ids from the config, comma separated
	created_at TEXT NOT NULL
);

CREATE TABLE credentials (
	id          INTEGER PRIMARY KEY,
	person_id   TEXT NOT NULL REFERENCES people (id),
	format      TEXT NOT NULL,
	facility    INTEGER NOT NULL DEFAULT 0,
	number      INTEGER NOT NULL DEFAULT 0,
	raw_hex     TEXT NOT NULL DEFAULT '',
	enabled     INTEGER NOT NULL DEFAULT 1,
	valid_from  TEXT NOT NULL DEFAULT '',
	valid_until TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	UNIQUE (format, facility, number, raw_hex)
);
CREATE INDEX credentials_person ON credentials (person_id);
