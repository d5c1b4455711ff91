-- The visitor log is kept like the event log (お客様の入退室記入): a visit is
-- never deleted, what the desk wrote at registration never changes, and its
-- status only moves forward: registered → checked_in → checked_out.
CREATE TRIGGER visits_no_delete BEFORE DELETE ON visits
BEGIN SELECT RAISE(ABORT, 'the visitor log is append-only'); END;

CREATE TRIGGER visits_registration_fixed BEFORE UPDATE OF
	id, person_id, company, host_id, purpose, day, zones, nda_ref, briefed_by, briefed_at, phone_locker, created_at ON visits
BEGIN SELECT RAISE(ABORT, 'the visitor log is append-only: a registration is not edited'); END;

CREATE TRIGGER visits_status_forward BEFORE UPDATE OF status, credential, checked_in, checked_out ON visits
WHEN NOT (
	(OLD.status = 'registered' AND NEW.status = 'checked_in' AND OLD.checked_in = '' AND OLD.checked_out = NEW.checked_out)
	OR (OLD.status = 'checked_in' AND NEW.status = 'checked_out' AND OLD.checked_out = ''
		AND NEW.checked_in = OLD.checked_in AND NEW.credential IS OLD.credential)
)
BEGIN SELECT RAISE(ABORT, 'the visitor log is append-only: a visit only moves forward'); END;

CREATE TRIGGER visit_covers_no_delete BEFORE DELETE ON visit_covers
BEGIN SELECT RAISE(ABORT, 'the visitor log is append-only'); END;
CREATE TRIGGER visit_covers_no_update BEFORE UPDATE ON visit_covers
BEGIN SELECT RAISE(ABORT, 'the visitor log is append-only'); END;
