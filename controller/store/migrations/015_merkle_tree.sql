-- An RFC 6962 Merkle tree over the log, beside the hash chain, so that a
-- customer or an auditor can check an event's place in the log, and the
-- log's growth between two checkpoints, with standard tools (C2SP
-- tlog-checkpoint, tlog-tiles, tlog-proof). Leaf n is event seq n+1; its
-- hash is SHA-256(0x00 || the event's stored body). tree_hashes holds the
-- tree's stored hashes, indexed as golang.org/x/mod/sumdb/tlog numbers them.
CREATE TABLE tree_hashes (
	id   INTEGER PRIMARY KEY, -- tlog.StoredHashIndex
	hash BLOB NOT NULL
);
-- How many events the tree holds: always one number, moved with the hashes.
CREATE TABLE tree_size (
	one  INTEGER PRIMARY KEY CHECK (one = 1),
	size INTEGER NOT NULL
);
INSERT INTO tree_size (one, size) VALUES (1, 0);

-- The site's signed C2SP checkpoints (signed notes: origin, size, root).
CREATE TABLE tree_checkpoints (
	size INTEGER PRIMARY KEY,
	note TEXT NOT NULL,
	time TEXT NOT NULL
);
-- Countersignatures (C2SP tlog-cosignature) a head office or a customer
-- sent back on one of them: what catches an insider who holds the site's
-- key, cuts the log and signs again.
CREATE TABLE tree_cosignatures (
	size     INTEGER NOT NULL REFERENCES tree_checkpoints (size),
	name     TEXT NOT NULL,
	line     TEXT NOT NULL, -- the note's signature line, as sent
	received TEXT NOT NULL,
	PRIMARY KEY (size, name)
);

CREATE TRIGGER tree_hashes_append_only_update BEFORE UPDATE ON tree_hashes
BEGIN SELECT RAISE(ABORT, 'the tree is append-only'); END;
CREATE TRIGGER tree_hashes_append_only_delete BEFORE DELETE ON tree_hashes
BEGIN SELECT RAISE(ABORT, 'the tree is append-only'); END;
CREATE TRIGGER tree_checkpoints_append_only_update BEFORE UPDATE ON tree_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER tree_checkpoints_append_only_delete BEFORE DELETE ON tree_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER tree_cosignatures_append_only_delete BEFORE DELETE ON tree_cosignatures
BEGIN SELECT RAISE(ABORT, 'cosignatures are append-only'); END;

-- An auditor's token reads the log's checkpoints, tiles and proofs and
-- nothing else of the site. SQLite cannot widen a CHECK in place, so the
-- table is made again with the same rows.
CREATE TABLE tokens_new (
	id         INTEGER PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,
	role       TEXT NOT NULL CHECK (role IN ('guard', 'manager', 'admin', 'auditor')),
	zones      TEXT NOT NULL DEFAULT '',
	label      TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL DEFAULT '',
	revoked_at TEXT NOT NULL DEFAULT '',
	last_used  TEXT NOT NULL DEFAULT ''
);
INSERT INTO tokens_new (id, token_hash, role, zones, label, created_at, expires_at, revoked_at, last_used)
	SELECT id, token_hash, role, zones, label, created_at, expires_at, revoked_at, last_used FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
