// Package event is Sekisho's event record: what the log stores, MQTT
// publishes, the dashboard streams and CSV exports, in one JSON shape.
package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Types.
const (
	AccessGranted     = "access.granted"
	AccessDenied      = "access.denied"
	AccessRequested   = "access.requested"
	DoorUnlocked      = "door.unlocked"
	DoorLocked        = "door.locked"
	DoorOpened        = "door.opened"
	DoorClosed        = "door.closed"
	DoorForced        = "door.forced"
	DoorHeld          = "door.held"
	DoorREX           = "door.rex"
	DoorTamper        = "door.tamper"
	ReaderStatus      = "reader.status" // an OSDP reader's own state (detail.state: online, offline, insecure, tamper, intact, power_fault, power_ok, keyed)
	VisitorRegistered = "visitor.registered"
	VisitorCheckedIn  = "visitor.checked_in"
	VisitorCheckedOut = "visitor.checked_out"
	CoverConfirmed    = "visitor.cover_confirmed"
	CameraSnapshot    = "camera.snapshot"   // a still taken for the event in detail.for
	CameraFailed      = "camera.failed"     // a camera gave no still; detail.error says why
	CameraDetection   = "camera.detection"  // Frigate first saw an object
	CameraRecognized  = "camera.recognized" // names Frigate recognised around the grant in detail.for
	CameraPruned      = "camera.pruned"     // a day of stills removed by the retention policy (detail.day)
	CameraShed        = "camera.shed"       // a flood of Frigate messages made routine detections be dropped (detail.shed)
	AlarmRaised       = "alarm.raised"
	AlarmAcknowledged = "alarm.acknowledged"
	AlarmCleared      = "alarm.cleared"
	AlarmEscalated    = "alarm.escalated" // nobody acknowledged it in time: for the supervisor
	LockdownStarted   = "lockdown.started"
	LockdownLifted    = "lockdown.lifted"
	PersonForgiven    = "access.forgiven"
	AuditViewed       = "audit.viewed"
	AuditExported     = "audit.exported"
	SystemStarted     = "system.started"
	SystemStopped     = "system.stopped"
	PersonAdded       = "person.added"
	CredentialAdded   = "credential.added"
	// An admin's changes to who may pass, each naming what changed.
	PersonChanged       = "person.changed"
	PersonDisabled      = "person.disabled"
	PersonEnabled       = "person.enabled"
	PersonDeleted       = "person.deleted"
	CredentialChanged   = "credential.changed"
	CredentialDisabled  = "credential.disabled"
	CredentialEnabled   = "credential.enabled"
	CredentialDeleted   = "credential.deleted"
	PeopleImported      = "people.imported"       // a CSV of people and cards; detail.sha256 is the file's
	UserCreated         = "user.created"          // a dashboard account (detail.user, detail.role)
	UserRevoked         = "user.revoked"          // a dashboard account ended (detail.user)
	UserPasswordChanged = "user.password_changed" // a dashboard account's password replaced (detail.user)
	TokenCreated        = "token.created"         // an API token (detail.token id, role, label, expires)
	TokenRevoked        = "token.revoked"         // detail.token: its id
	AuthLogin           = "auth.login"            // a dashboard login (detail.user, detail.addr)
	AuthFailed          = "auth.failed"           // a refused login (detail.reason: bad_password, locked_out)
	AuthLogout          = "auth.logout"
	ConfigLoaded        = "config.loaded"     // the site config a run started with; detail.sha256 is the file's
	BridgeRejected      = "bridge.rejected"   // a door Pi's message, or one sent in its name, not acted on
	SystemFault         = "system.fault"      // the door loop recovered from a fault; every strike was locked
	SystemClockJump     = "system.clock_jump" // the wall clock moved against the monotonic one (detail.from, to, by)
	AssetRegistered     = "asset.registered"  // a customer's die, mould, drawing or sample entered the register (detail.asset, owner; zone_to)
	AssetMoved          = "asset.moved"       // an asset moved from zone_from to zone_to (detail.asset, owner, source: admin or config)
)

// Denial reasons: stable words that integrations match on.
const (
	ReasonUnknownCredential = "unknown_credential"
	ReasonExpired           = "expired"
	ReasonDisabled          = "disabled" // the card or its holder switched off by an admin
	ReasonOutsideSchedule   = "outside_schedule"
	ReasonNotAuthorized     = "not_authorized"
	ReasonInsideOnly        = "inside_only"
	ReasonBadFrame          = "bad_frame"
	ReasonPINRequired       = "pin_required"
	ReasonBadPIN            = "bad_pin"
	ReasonAntiPassback      = "anti_passback"
	ReasonEscortRequired    = "escort_required"
	ReasonCoverCheckPending = "cover_check_pending"
	ReasonNDAMissing        = "nda_missing"
	ReasonLockdown          = "lockdown"
	ReasonLockedOut         = "reader_locked_out"
	ReasonTwoPersonRequired = "two_person_required" // the first of two waited alone
	ReasonTwoPersonRule     = "two_person_rule"     // would leave a visitor without two staff
)

// Types is every type of event, one table: the dashboard has a label for
// each in both its languages (a test holds it to that).
var Types = []string{
	AccessGranted,
	AccessDenied,
	AccessRequested,
	DoorUnlocked,
	DoorLocked,
	DoorOpened,
	DoorClosed,
	DoorForced,
	DoorHeld,
	DoorREX,
	DoorTamper,
	ReaderStatus,
	VisitorRegistered,
	VisitorCheckedIn,
	VisitorCheckedOut,
	CoverConfirmed,
	CameraSnapshot,
	CameraFailed,
	CameraDetection,
	CameraRecognized,
	CameraPruned,
	CameraShed,
	AlarmRaised,
	AlarmAcknowledged,
	AlarmCleared,
	AlarmEscalated,
	LockdownStarted,
	LockdownLifted,
	PersonForgiven,
	AuditViewed,
	AuditExported,
	SystemStarted,
	SystemStopped,
	PersonAdded,
	CredentialAdded,
	PersonChanged,
	PersonDisabled,
	PersonEnabled,
	PersonDeleted,
	CredentialChanged,
	CredentialDisabled,
	CredentialEnabled,
	CredentialDeleted,
	PeopleImported,
	UserCreated,
	UserRevoked,
	UserPasswordChanged,
	TokenCreated,
	TokenRevoked,
	AuthLogin,
	AuthFailed,
	AuthLogout,
	ConfigLoaded,
	BridgeRejected,
	SystemFault,
	SystemClockJump,
	AssetRegistered,
	AssetMoved,
}

// Reasons is every reason a card is refused, one table, labelled like Types.
var Reasons = []string{
	ReasonUnknownCredential,
	ReasonExpired,
	ReasonDisabled,
	ReasonOutsideSchedule,
	ReasonNotAuthorized,
	ReasonInsideOnly,
	ReasonBadFrame,
	ReasonPINRequired,
	ReasonBadPIN,
	ReasonAntiPassback,
	ReasonEscortRequired,
	ReasonCoverCheckPending,
	ReasonNDAMissing,
	ReasonLockdown,
	ReasonLockedOut,
	ReasonTwoPersonRequired,
	ReasonTwoPersonRule,
}

// Event is one thing that happened at the site.
type Event struct {
	ID         string            `json:"id"`
	Seq        int64             `json:"seq"`
	Time       time.Time         `json:"time"`
	Site       string            `json:"site"`
	Type       string            `json:"type"`
	Door       string            `json:"door,omitempty"`
	Reader     string            `json:"reader,omitempty"`
	Side       string            `json:"side,omitempty"`
	ZoneFrom   string            `json:"zone_from,omitempty"`
	ZoneTo     string            `json:"zone_to,omitempty"`
	Person     *Person           `json:"person,omitempty"`
	Visit      string            `json:"visit,omitempty"`
	Credential *Credential       `json:"credential,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Camera     *Camera           `json:"camera,omitempty"`
	Alarm      *Alarm            `json:"alarm,omitempty"`
	Actor      string            `json:"actor,omitempty"`      // the user who did it, for console actions
	DecidedBy  string            `json:"decided_by,omitempty"` // "bridge": a door Pi decided alone, from its snapshot
	Detail     map[string]string `json:"detail,omitempty"`
	PrevHash   string            `json:"prev_hash,omitempty"`
	Hash       string            `json:"hash,omitempty"`
}

// Person is who an event is about, as they were at the time.
type Person struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Company string `json:"company"`
}

// Credential is the card presented, as printed on it.
type Credential struct {
	Format   string `json:"format"`
	Facility uint64 `json:"facility"`
	Number   uint64 `json:"number"`
	Hex      string `json:"hex,omitempty"`
}

// Camera links an event to a camera and the snapshot it took.
type Camera struct {
	ID             string `json:"id"`
	SnapshotSHA256 string `json:"snapshot_sha256,omitempty"`
}

// Alarm marks an event that needs a guard.
type Alarm struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
}

// GenesisHash is the prev_hash of a site's first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Canonical is the event's JSON without its hashes: the bytes the chain
// hashes and the log keeps. Field order is the struct's, so it is stable.
func (e *Event) Canonical() ([]byte, error) {
	c := *e
	c.PrevHash, c.Hash = "", ""
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("event: encode %s: %w", e.Type, err)
	}
	return b, nil
}

// ChainHash is SHA-256 over the previous hash and the canonical event.
func ChainHash(prev string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// Label is a short text of who or what presented: the person's name, or the
// card as printed.
func (e *Event) Label() string {
	switch {
	case e.Person != nil:
		return e.Person.Name
	case e.Credential != nil && e.Credential.Format == "raw":
		return "raw:" + e.Credential.Hex
	case e.Credential != nil:
		return fmt.Sprintf("%d:%d", e.Credential.Facility, e.Credential.Number)
	}
	return ""
}
