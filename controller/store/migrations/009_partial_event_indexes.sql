-- Most events name no zone and no person (a door opening, closing, a
-- console action): indexing their empty columns cost every such append
-- three extra index pages. The filters look up only non-empty values and
-- say so (see Store.Events), so these indexes can leave the empty ones out.
DROP INDEX events_door;
DROP INDEX events_zone_to;
DROP INDEX events_zone_from;
DROP INDEX events_person;
CREATE INDEX events_door ON events (door, seq) WHERE door <> '';
CREATE INDEX events_zone_to ON events (zone_to, seq) WHERE zone_to <> '';
CREATE INDEX events_zone_from ON events (zone_from, seq) WHERE zone_from <> '';
CREATE INDEX events_person ON events (person_id, seq) WHERE person_id <> '';
