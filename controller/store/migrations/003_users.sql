-- Dashboard users (bcrypt passwords), their browser sessions, and API tokens.
-- Sessions and tokens are stored as SHA-256 of the secret, never the secret.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL CHECK (role IN ('guard', 'manager', 'admin')),
	zones         TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	expires_at TEXT NOT NULL
);

CREATE TABLE tokens (
	id         INTEGER PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,
	role       TEXT NOT NULL CHECK (role IN ('guard', 'manager', 'admin')),
	zones      TEXT NOT NULL DEFAULT '',
	label      TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);
