-- A session ends after a spell of no use as well as at its end; a token
-- has an end, can be revoked, and says when it was last used.
ALTER TABLE sessions ADD COLUMN last_seen TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN expires_at TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN revoked_at TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_used TEXT NOT NULL DEFAULT '';
