-- A dashboard user can be revoked. The row stays, so the log's actor names
-- still say who someone was, and the name is not given to anyone else.
ALTER TABLE users ADD COLUMN revoked_at TEXT NOT NULL DEFAULT '';
