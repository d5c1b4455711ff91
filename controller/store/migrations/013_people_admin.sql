-- People and cards are edited, switched off and deleted from the dashboard.
-- A deleted person or card keeps its row: the log, the visitor book and the
-- reports still name them, and their card numbers are freed for reuse.
ALTER TABLE people ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN deleted_at TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN deleted_at TEXT NOT NULL DEFAULT '';
