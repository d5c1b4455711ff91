-- A cardholder's photo for the guard to compare with the face at the door:
-- a path under the data dir or a URL on the site's network.
ALTER TABLE people ADD COLUMN photo TEXT NOT NULL DEFAULT '';
