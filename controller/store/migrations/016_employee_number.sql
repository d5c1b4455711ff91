-- A person's employee number: the same person at every plant of the
-- company, as head office matches them (one revocation for all).
ALTER TABLE people ADD COLUMN employee_number TEXT NOT NULL DEFAULT '';
CREATE INDEX people_employee_number ON people (employee_number) WHERE employee_number <> '';

-- Head office's commands this site applied, once each.
CREATE TABLE hq_commands (
	id         TEXT PRIMARY KEY,
	applied_at TEXT NOT NULL,
	result     TEXT NOT NULL
);
