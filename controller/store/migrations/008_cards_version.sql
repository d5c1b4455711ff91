-- A counter that moves with every change to people or cards, whoever makes
-- it: the controller keeps card lookups in memory, and this is how it sees
-- a change made by another process (`controller import` while the site
-- runs) and forgets what it kept.
CREATE TABLE cards_version (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
);
INSERT INTO cards_version (id, n) VALUES (1, 0);

CREATE TRIGGER people_inserted AFTER INSERT ON people
BEGIN UPDATE cards_version SET n = n + 1; END;
CREATE TRIGGER people_updated AFTER UPDATE ON people
BEGIN UPDATE cards_version SET n = n + 1; END;
CREATE TRIGGER people_deleted AFTER DELETE ON people
BEGIN UPDATE cards_version SET n = n + 1; END;
CREATE TRIGGER credentials_inserted AFTER INSERT ON credentials
BEGIN UPDATE cards_version SET n = n + 1; END;
CREATE TRIGGER credentials_updated AFTER UPDATE ON credentials
BEGIN UPDATE cards_version SET n = n + 1; END;
CREATE TRIGGER credentials_deleted AFTER DELETE ON credentials
BEGIN UPDATE cards_version SET n = n + 1; END;
