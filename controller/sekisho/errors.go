package sekisho

import "errors"

// The errors every part of the controller answers with; each is matched
// with errors.Is, never by its text.
var (
	// ErrNotFound: no such person, card, visit, alarm or door.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a change the thing's state does not allow now (a visit
	// already checked out, an alarm already acknowledged).
	ErrConflict = errors.New("not allowed now")
	// ErrDuplicate: a card already bound to someone, a name already taken,
	// an event already in the log.
	ErrDuplicate = errors.New("already exists")
	// ErrDeleted: a change to a person or card that was deleted; the row
	// is kept for the record and never changed again.
	ErrDeleted = errors.New("deleted")
	// ErrBadLogin: a wrong name or password, without saying which.
	ErrBadLogin = errors.New("wrong name or password")
	// ErrRefused matches every Refusal.
	ErrRefused = errors.New("refused")
)

// Refusal is one of the site's rules saying no, with its stable word (the
// API's error code) and a sentence for the guard.
type Refusal struct{ Code, Detail string }

func (r *Refusal) Error() string { return r.Code + ": " + r.Detail }

// Is makes every Refusal match ErrRefused.
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// Refuse is a Refusal with its code and detail.
func Refuse(code, detail string) error { return &Refusal{Code: code, Detail: detail} }
