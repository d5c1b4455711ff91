package sekisho

// AlarmKind names what an alarm is about. Every kind is in Kinds: adding
// one is a row there, its two labels in the dashboard's i18n.js (a test
// holds them to it), and the code that raises it.
type AlarmKind string

// Severity is how urgent an alarm is.
type Severity string

// Severities, least urgent first.
const (
	Warning  Severity = "warning"
	High     Severity = "high"
	Critical Severity = "critical"
)

// The kinds of alarm a site raises.
const (
	// At a door.
	AlarmForced          AlarmKind = "forced"            // opened without a grant
	AlarmHeld            AlarmKind = "held"              // left open too long
	AlarmTamper          AlarmKind = "tamper"            // a reader's or the box's tamper loop opened
	AlarmAntiPassback    AlarmKind = "anti_passback"     // a card used twice in the same direction
	AlarmReaderLockedOut AlarmKind = "reader_locked_out" // a run of unknown cards at one reader
	// At the visitor desk.
	AlarmOverstay AlarmKind = "overstay" // a visitor still checked in after hours
	// From the cameras.
	AlarmTailgating      AlarmKind = "tailgating"       // more people through than badged
	AlarmIntrusion       AlarmKind = "intrusion"        // someone in a zone nobody badged into
	AlarmPhone           AlarmKind = "phone"            // a phone in a no-phones zone
	AlarmFrigateOffline  AlarmKind = "frigate_offline"  // no camera is watching
	AlarmFrigateOverflow AlarmKind = "frigate_overflow" // detections came faster than weighed
	// From door Pis.
	AlarmBridgeRejected  AlarmKind = "bridge_rejected"  // messages in a door Pi's name refused
	AlarmBridgeUnvouched AlarmKind = "bridge_unvouched" // a cut-off Pi let in a card it may not have known was revoked
	// The controller itself.
	AlarmStorage       AlarmKind = "storage"        // the log cannot be written, or the card is filling
	AlarmFault         AlarmKind = "fault"          // the door loop faulted; every door was locked
	AlarmLoginFailures AlarmKind = "login_failures" // someone guessing passwords
)

// KindInfo is what the site knows of one kind of alarm.
type KindInfo struct {
	Kind     AlarmKind
	Severity Severity // as raised, unless the moment says otherwise
	// Door: the alarm is about one door, and clears with it.
	Door bool
}

// Kinds is every kind of alarm, in the order the README lists them.
var Kinds = []KindInfo{
	{AlarmForced, Critical, true},
	{AlarmHeld, Warning, true},
	{AlarmTamper, Critical, true},
	{AlarmAntiPassback, Warning, true},
	{AlarmReaderLockedOut, Critical, true},
	{AlarmOverstay, Warning, false},
	{AlarmTailgating, Critical, true},
	{AlarmIntrusion, Critical, false},
	{AlarmPhone, Critical, false},
	{AlarmFrigateOffline, High, false},
	{AlarmFrigateOverflow, High, false},
	{AlarmBridgeRejected, High, false},
	{AlarmBridgeUnvouched, High, true},
	{AlarmStorage, Critical, false},
	{AlarmFault, High, false},
	{AlarmLoginFailures, High, false},
}

// KnownKind reports whether k is one of Kinds.
func KnownKind(k AlarmKind) bool {
	for _, i := range Kinds {
		if i.Kind == k {
			return true
		}
	}
	return false
}

// SeverityOf is a kind's usual severity (High for a kind not in Kinds).
func SeverityOf(k AlarmKind) Severity {
	for _, i := range Kinds {
		if i.Kind == k {
			return i.Severity
		}
	}
	return High
}

// Alarm is something a guard must see and acknowledge.
type Alarm struct {
	ID        string    `json:"id"`
	Kind      AlarmKind `json:"kind"`
	Severity  Severity  `json:"severity"`
	Door      string    `json:"door,omitempty"`
	Reader    string    `json:"reader,omitempty"`
	PersonID  string    `json:"person_id,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	RaisedAt  string    `json:"raised_at"`
	ClearedAt string    `json:"cleared_at,omitempty"`
	AckedBy   string    `json:"acked_by,omitempty"`
	AckedAt   string    `json:"acked_at,omitempty"`
	// EscalatedAt: when the alarm, still unacknowledged, went to the
	// supervisor.
	EscalatedAt string `json:"escalated_at,omitempty"`
}
