-- A visit: a visitor's day at the site. The visitor is a person of kind
-- visitor; their card is bound for the visit only.
CREATE TABLE visits (
	id           TEXT PRIMARY KEY,
	person_id    TEXT NOT NULL REFERENCES people (id),
	company      TEXT NOT NULL,
	host_id      TEXT NOT NULL REFERENCES people (id),
	purpose      TEXT NOT NULL DEFAULT '',
	day          TEXT NOT NULL,             -- YYYY-MM-DD in the site's zone
	zones        TEXT NOT NULL DEFAULT '',  -- zones requested, comma separated
	nda_ref      TEXT NOT NULL DEFAULT '',  -- the signed NDA's reference; empty: none
	briefed_by   TEXT NOT NULL DEFAULT '',
	briefed_at   TEXT NOT NULL DEFAULT '',
	phone_locker TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'checked_in', 'checked_out')),
	credential   INTEGER REFERENCES credentials (id),
	checked_in   TEXT NOT NULL DEFAULT '',
	checked_out  TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL
);
CREATE INDEX visits_person ON visits (person_id, day);
CREATE INDEX visits_day ON visits (day);

-- 目隠し: a guard confirmed that other companies' assets in a zone are
-- covered for this visit.
CREATE TABLE visit_covers (
	visit_id     TEXT NOT NULL REFERENCES visits (id),
	zone         TEXT NOT NULL,
	assets       TEXT NOT NULL,
	confirmed_by TEXT NOT NULL,
	confirmed_at TEXT NOT NULL,
	PRIMARY KEY (visit_id, zone)
);

-- Alarms a guard must see and acknowledge.
CREATE TABLE alarms (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	severity   TEXT NOT NULL,
	door       TEXT NOT NULL DEFAULT '',
	reader     TEXT NOT NULL DEFAULT '',
	person_id  TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT '',
	raised_at  TEXT NOT NULL,
	cleared_at TEXT NOT NULL DEFAULT '',
	acked_by   TEXT NOT NULL DEFAULT '',
	acked_at   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alarms_open ON alarms (cleared_at, acked_at);
