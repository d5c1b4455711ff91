-- When an alarm nobody acknowledged was passed up to the supervisor.
ALTER TABLE alarms ADD COLUMN escalated_at TEXT NOT NULL DEFAULT '';
