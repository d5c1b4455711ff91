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
	AlarmReaderInsecure  AlarmKind = "reader_insecure"   // an OSDP reader answered in clear, failed a MAC or its key
	AlarmReaderOffline   AlarmKind = "reader_offline"    // an OSDP reader stopped answering
	AlarmReaderPower     AlarmKind = "reader_power"      // an OSDP reader reports a power fault
	AlarmReaderTamper    AlarmKind = "reader_tamper"     // an OSDP reader's own tamper switch opened
	// At the visitor desk.
	AlarmOverstay AlarmKind = "overstay" // a visitor still checked in after hours
	// From the cameras.
	AlarmTailgating      AlarmKind = "tailgating"          // more people through than badged
	AlarmIntrusion       AlarmKind = "intrusion"           // someone in a zone nobody badged into
	AlarmPhone           AlarmKind = "phone"               // a phone in a no-phones zone
	AlarmFrigateOffline  AlarmKind = "frigate_offline"     // no camera is watching
	AlarmFrigateOverflow AlarmKind = "frigate_overflow"    // detections came faster than weighed
	AlarmBadgeMismatch   AlarmKind = "badge_face_mismatch" // a face recognised as someone other than the card's holder
	// From door Pis.
	AlarmBridgeRejected  AlarmKind = "bridge_rejected"  // messages in a door Pi's name refused
	AlarmBridgeUnvouched AlarmKind = "bridge_unvouched" // a cut-off Pi let in a card it may not have known was revoked
	// The controller itself.
	AlarmStorage       AlarmKind = "storage"        // the log cannot be written, or the card is filling
	AlarmFault         AlarmKind = "fault"          // the door loop faulted; every door was locked
	AlarmLoginFailures AlarmKind = "login_failures" // someone guessing passwords
	AlarmClockUnsynced AlarmKind = "clock_unsynced" // the kernel's clock is not synchronised (no RTC, no NTP yet)
	// The log no longer extends the checkpoint the site last signed: it
	// was cut or rewritten. The site signs nothing more until it is seen to.
	AlarmLogInconsistent AlarmKind = "log_inconsistent"
)

// KindInfo is what the site knows of one kind of alarm.
type KindInfo struct {
	Kind     AlarmKind
	Severity Severity // as raised, unless the moment says otherwise
	// Door: the alarm is about one door, and clears with it.
	Door bool
	// Ja and En name it for people (Home Assistant's entities); the
	// dashboard's labels are the same words (a test holds them to it).
	Ja, En string
}

// Name is the kind's name in lang ("ja", else English).
func (k KindInfo) Name(lang string) string {
	if lang == "ja" {
		return k.Ja
	}
	return k.En
}

// Kinds is every kind of alarm, in the order the README lists them.
var Kinds = []KindInfo{
	{AlarmForced, Critical, true, "こじ開け", "Forced open"},
	{AlarmHeld, Warning, true, "開放しすぎ", "Held open"},
	{AlarmTamper, Critical, true, "タンパー検知", "Tamper"},
	{AlarmAntiPassback, Warning, true, "アンチパスバック違反", "Anti-passback violation"},
	{AlarmReaderLockedOut, Critical, true, "リーダー停止（不正カードの連続）", "Reader locked out (bad cards)"},
	{AlarmReaderInsecure, Critical, false, "リーダーの暗号通信の異常（カード拒否中）", "Reader not secure (its cards refused)"},
	{AlarmReaderOffline, High, false, "リーダーの応答なし", "Reader offline"},
	{AlarmReaderPower, Warning, false, "リーダーの電源異常", "Reader power fault"},
	{AlarmReaderTamper, Critical, false, "リーダーのタンパー検知", "Reader tamper"},
	{AlarmOverstay, Warning, false, "退館漏れ", "Visitor not checked out"},
	{AlarmTailgating, Critical, true, "共連れ", "Tailgating"},
	{AlarmIntrusion, Critical, false, "侵入者（入室記録なし）", "Intruder (nobody badged in)"},
	{AlarmPhone, Critical, false, "携帯電話（撮影禁止エリア）", "Phone in a no-phones zone"},
	{AlarmFrigateOffline, High, false, "カメラ監視の停止（Frigate オフライン）", "Cameras not watching (Frigate offline)"},
	{AlarmFrigateOverflow, High, false, "カメラ検知の過負荷", "Camera detections overloaded"},
	{AlarmBadgeMismatch, High, false, "カードと顔の不一致", "Badge and face do not match"},
	{AlarmBridgeRejected, High, false, "ドアPiへのなりすまし", "Someone speaking for a door Pi"},
	{AlarmBridgeUnvouched, High, true, "ドアPiの単独判断（失効の可能性があるカード）", "A door Pi let in a card it may not know was revoked"},
	{AlarmStorage, Critical, false, "記録の保存障害（ディスク）", "Log storage (disk)"},
	{AlarmFault, High, false, "システム障害", "System fault"},
	{AlarmLoginFailures, High, false, "ログイン失敗の連続", "Repeated failed logins"},
	{AlarmClockUnsynced, Warning, false, "時計が未同期（NTP）", "Clock not synchronised (NTP)"},
	{AlarmLogInconsistent, Critical, false, "記録が署名済みチェックポイントと不一致（改ざんの疑い）", "Log does not extend its signed checkpoint (tampering?)"},
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
