package config

import (
	"slices"
	"strings"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

// Config is a site's topology. People, credentials, visits and events live in
// the database, not here.
type Config struct {
	Site         string                `yaml:"site"`
	Name         string                `yaml:"name"`
	Timezone     string                `yaml:"timezone"`
	Language     string                `yaml:"language"` // ja | en: what the site's own words (Home Assistant's entities) are in
	Hardware     string                `yaml:"hardware"` // sim | periph
	Board        string                `yaml:"board"`
	DataDir      string                `yaml:"data_dir"`
	HTTP         HTTP                  `yaml:"http"`
	MQTT         MQTT                  `yaml:"mqtt"`
	Zones        []Zone                `yaml:"zones"`
	Doors        []Door                `yaml:"doors"`
	Cameras      []Camera              `yaml:"cameras"`
	Assets       []Asset               `yaml:"assets"`
	Schedules    map[string][]string   `yaml:"schedules"`
	AccessLevels []AccessLevel         `yaml:"access_levels"`
	VisitorCards *VisitorCards         `yaml:"visitor_cards"`
	Wiegand      Wiegand               `yaml:"wiegand"`
	OSDP         map[string]OSDPReader `yaml:"osdp"` // reader id → where it is; the rest are Wiegand
	Access       Access                `yaml:"access"`
	Holidays     []string              `yaml:"holidays"` // YYYY-MM-DD: only "Hol" windows apply
	Frigate      *FrigateSite          `yaml:"frigate"`
	Stills       Stills                `yaml:"stills"`
	Storage      Storage               `yaml:"storage"`
	HQ           *HQ                   `yaml:"hq"`

	// Filled by Load.
	File     string              `yaml:"-"`
	Location *time.Location      `yaml:"-"`
	Windows  map[string]Schedule `yaml:"-"`
	Decoder  *wiegand.Decoder    `yaml:"-"`
	holidays map[string]bool
}

// Stills is how long the cameras' stills are kept.
type Stills struct {
	// KeepDays: stills from before the last this many days are removed,
	// a day at a time, and the removal is logged (365).
	KeepDays int `yaml:"keep_days"`
}

// Storage is how the log guards its card and vouches for itself.
type Storage struct {
	// CheckpointEvery: the log's head is signed this often, and at
	// shutdown (10m).
	CheckpointEvery time.Duration `yaml:"checkpoint_every"`
	// MinFreePercent and MinFreeMB: under either, a storage alarm is raised
	// and the oldest stills are removed first (10 and 500).
	MinFreePercent int `yaml:"min_free_percent"`
	MinFreeMB      int `yaml:"min_free_mb"`
	// UnsyncedAlarm: a clock_unsynced alarm while the kernel's clock is not
	// synchronised (true). A site whose Pi keeps time with a real-time clock
	// and has no NTP server may turn it off; events are still marked.
	UnsyncedAlarm *bool `yaml:"unsynced_alarm"`
	// Origin names the log in its C2SP checkpoints (sekisho/<site>): the
	// name under which a customer's or a head office's tools trust its key.
	Origin string `yaml:"origin"`
	// Witnesses are the verifier keys (note format, name+id+key) of those
	// who may countersign the log's checkpoints: a head office, a customer.
	Witnesses []string `yaml:"witnesses"`
}

// Access tunes the site-wide rules.
type Access struct {
	EscortDelay       time.Duration `yaml:"escort_delay"`        // visitor and escort cards at one door within this (10s)
	TwoPersonDelay    time.Duration `yaml:"two_person_delay"`    // second person within this (10s)
	AntiPassbackReset time.Duration `yaml:"anti_passback_reset"` // presence forgotten after this (12h)
	Lockout           Lockout       `yaml:"lockout"`
	LockdownExempt    []string      `yaml:"lockdown_exempt"` // access levels that still enter during a lockdown
	// EscalateAfter: an alarm no guard has acknowledged by then goes to the
	// supervisor (alarm.escalated on the alarms topic) (2m).
	EscalateAfter time.Duration `yaml:"escalate_after"`
	// DecisionTimeout: how long a door Pi waits for the controller's answer
	// to a card before it decides from its snapshot (1s). The controller
	// leaves a card older than this to the door Pi.
	DecisionTimeout time.Duration `yaml:"decision_timeout"`
}

// Lockout locks a reader out after too many bad cards.
type Lockout struct {
	Failures int           `yaml:"failures"` // 5
	Window   time.Duration `yaml:"window"`   // within 60s
	For      time.Duration `yaml:"for"`      // locked out for 5m
}

// IsHoliday reports whether t's date (in the site's zone) is a holiday.
func (c *Config) IsHoliday(t time.Time) bool {
	return c.holidays[t.In(c.Location).Format("2006-01-02")]
}

// Wiegand says which card formats the site's readers send, tried in order.
type Wiegand struct {
	Formats []string         `yaml:"formats"` // built-in names; the defaults when empty
	Custom  []wiegand.Format `yaml:"custom"`
	// FrameGap is the quiet that ends a frame (25 ms, the SIA limit plus a
	// margin); raise it only for readers slower than the standard.
	FrameGap time.Duration `yaml:"frame_gap"`
}

// HTTP is the dashboard and API listener.
type HTTP struct {
	Listen string `yaml:"listen"`
	// SessionIdle ends a browser session after this long without use (15m);
	// SessionMax ends it whatever happens (12h, a shift).
	SessionIdle time.Duration `yaml:"session_idle"`
	SessionMax  time.Duration `yaml:"session_max"`
	// TLS makes the dashboard and API speak HTTPS: with a certificate and
	// key, or with one made at first start (self_signed), for a Pi on a LAN.
	TLS *TLS `yaml:"tls"`
	// MetricsToken lets a Prometheus elsewhere scrape /metrics (as a bearer
	// token); without it /metrics answers this machine only.
	MetricsToken string `yaml:"metrics_token"`
}

// MQTT says which broker events go to: the embedded one or an external one.
type MQTT struct {
	Embedded    *EmbeddedBroker `yaml:"embedded"`
	External    *ExternalBroker `yaml:"external"`
	TopicPrefix string          `yaml:"topic_prefix"`
	// HomeAssistant: announce doors and zones to Home Assistant's MQTT
	// discovery (homeassistant/…/config, retained); on unless false.
	HomeAssistant *bool `yaml:"home_assistant"`
	// DiscoveryPrefix is Home Assistant's discovery prefix (homeassistant).
	DiscoveryPrefix string `yaml:"discovery_prefix"`
}

// EmbeddedBroker runs inside the controller, so a site needs no server.
type EmbeddedBroker struct {
	Listen string `yaml:"listen"`
	// Users, when set, are the only clients allowed in (with the
	// controller's own). A user named as a door's bridge may read and write
	// only that bridge's topics; others may read the site's public topics.
	// Without users the broker admits anyone, so it may then listen on
	// loopback only (the demo).
	Users []BrokerUser `yaml:"users"`
	// TLS, when set, makes the listener speak TLS: with a certificate and
	// key, or with one made at first start (self_signed).
	TLS *TLS `yaml:"tls"`
}

// TLS is a listener's certificate: the embedded broker's or the dashboard's.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// SelfSigned makes a certificate at first start, kept in the data dir;
	// its fingerprint is printed, and door Pis get it in their enrolment.
	SelfSigned bool `yaml:"self_signed"`
	// Hosts are the names and addresses door Pis reach the controller by,
	// written into a self-signed certificate (this machine's own are added).
	Hosts []string `yaml:"hosts"`
}

// BrokerUser is one login on the embedded broker.
type BrokerUser struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Frigate marks the login a Frigate NVR uses: it may read and write
	// under its topic root (frigate/#), and nothing of the site's but what
	// every user may read.
	Frigate bool `yaml:"frigate"`
	// HomeAssistant marks Home Assistant's login: it may lock and unlock
	// doors through their lock entities (each command logged under this
	// login) and say it is online. Commands from anyone else, or on a
	// broker without users, are never acted on.
	HomeAssistant bool `yaml:"home_assistant"`
}

// ExternalBroker is a Mosquitto or EMQX the site already runs.
type ExternalBroker struct {
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	CAFile   string `yaml:"ca_file"`
}

// Zone is an area people are in: outside, lobby, the die-and-press area.
type Zone struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Public zones (the street, the car park) may be entered by anyone with a
	// valid card: leaving the site needs no access level.
	Public         bool     `yaml:"public"`
	Restricted     bool     `yaml:"restricted"`
	NoPhones       bool     `yaml:"no_phones"`
	EscortRequired []string `yaml:"escort_required"`
	TwoPerson      bool     `yaml:"two_person"` // nobody enters alone; the last two stay while a visitor is inside
}

// Door joins two zones. Its outside reader is on the From side.
type Door struct {
	ID            string        `yaml:"id"`
	Name          string        `yaml:"name"`
	From          string        `yaml:"from"`
	To            string        `yaml:"to"`
	InsideOnly    bool          `yaml:"inside_only"`
	Slot          string        `yaml:"slot"`         // the board file's slot this door is wired to
	Bridge        string        `yaml:"bridge"`       // the door Pi that drives it; empty: this machine
	CardAndPIN    []Side        `yaml:"card_and_pin"` // sides whose reader wants a PIN after the card
	PINTimeout    time.Duration `yaml:"pin_timeout"`
	Readers       Readers       `yaml:"readers"`
	Strike        Strike        `yaml:"strike"`
	Contact       Contact       `yaml:"contact"`
	HeldOpenAfter time.Duration `yaml:"held_open_after"`
	AntiPassback  string        `yaml:"anti_passback"`
	ConsoleUnlock bool          `yaml:"console_unlock"` // a guard may unlock an inside-only door from the dashboard
	Cameras       []string      `yaml:"cameras"`
}

// Readers names the badge readers on each side of a door.
type Readers struct {
	Outside string `yaml:"outside" json:"outside,omitempty"`
	Inside  string `yaml:"inside" json:"inside,omitempty"`
}

// Strike is the door's lock.
type Strike struct {
	Pulse     time.Duration `yaml:"pulse"`
	Fail      string        `yaml:"fail"` // secure | safe
	ActiveLow bool          `yaml:"active_low"`
}

// Contact is the door position switch.
type Contact struct {
	Debounce time.Duration `yaml:"debounce"`
	Normally string        `yaml:"normally"` // closed (the usual: opens with the door) | open
}

// WantsPIN reports whether the reader on side asks for a PIN after the card.
func (d Door) WantsPIN(side Side) bool {
	for _, s := range d.CardAndPIN {
		if s == side {
			return true
		}
	}
	return false
}

// Camera watches a zone and the doors into it.
type Camera struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Zone        string   `yaml:"zone"`
	Doors       []string `yaml:"doors"`
	SnapshotURL string   `yaml:"snapshot_url"`
	// Auth is how the camera wants its stills asked for: "" (none),
	// basic or digest (Hikvision and most ONVIF cameras), or frigate:
	// through Frigate's API with the site's Frigate login (the default for
	// a camera Frigate knows that has no snapshot_url:
	// <frigate.url>/api/<camera>/latest.jpg).
	Auth     string        `yaml:"auth"`
	Username string        `yaml:"username"`
	Password string        `yaml:"password"`
	Timeout  time.Duration `yaml:"timeout"` // 2s at most, so a hung camera never holds an alarm back
	Frigate  *Frigate      `yaml:"frigate"`
}

// Frigate maps a Sekisho camera to Frigate's name for it, and Frigate's
// zones on that camera to Sekisho zones.
type Frigate struct {
	Camera string            `yaml:"camera"`
	Zones  map[string]string `yaml:"zones"` // Frigate zone → Sekisho zone
}

// TopicRoot is the first level of Frigate's topic: frigate for frigate/events.
func (f *FrigateSite) TopicRoot() string {
	root, _, _ := strings.Cut(f.Topic, "/")
	return root
}

// FrigateSite is the site's Frigate NVR: where to bookmark badge entries,
// where its detections arrive, and the rules that weigh them.
type FrigateSite struct {
	URL string `yaml:"url"` // http://frigate:5000; empty: detections only, no bookmarks or catch-up
	// On Frigate's authenticated port (https://frigate:8971): a Frigate
	// user's name and password (logged in again as its token expires), or
	// a token (JWT) given outright.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Token    string `yaml:"token"`
	// CookieName is the name of Frigate's login cookie, its
	// auth.cookie_name (frigate_token unless changed there).
	CookieName string `yaml:"cookie_name"`
	// StatsTimeout is how long Frigate may be silent on <topic
	// root>/stats before it is taken for stopped (3m: Frigate sends them
	// every mqtt.stats_interval, 60 s by default).
	StatsTimeout time.Duration    `yaml:"stats_timeout"`
	Topic        string           `yaml:"topic"` // frigate/events
	MaxAge       time.Duration    `yaml:"max_age"`
	Tailgating   TailgatingRule   `yaml:"tailgating"`
	Intrusion    IntrusionRule    `yaml:"intrusion"`
	Bookmark     *FrigateBookmark `yaml:"bookmark"`
	Recognition  RecognitionRule  `yaml:"recognition"`
	// Simulated (hardware: sim only) stands a heartbeat in for the Frigate
	// the demo factory has not got: "online" and stats on the broker, as a
	// running Frigate sends them, so the demo's board shows no
	// frigate_offline for a camera system it never had.
	Simulated bool `yaml:"simulated"`
}

// TailgatingRule counts people through a door's camera view after a grant.
type TailgatingRule struct {
	Window time.Duration `yaml:"window"` // people counted until this long after the grant (10s)
	Before time.Duration `yaml:"before"` // and from this long before it, as they walk up (3s)
}

// RecognitionRule puts the names Frigate 0.16+ recognises (faces from its
// library, known plates) beside the grants at a door.
type RecognitionRule struct {
	// Window: names recognised at a door's cameras this long either side
	// of a grant there are put beside it (10s).
	Window time.Duration `yaml:"window"`
	// MismatchAlarm raises badge_face_mismatch when a face is recognised
	// as someone other than the badge holder (off by default: read the
	// README's notice first). Never a denial.
	MismatchAlarm bool `yaml:"mismatch_alarm"`
	// Threshold is the least score of a face for the alarm (0.8).
	Threshold float64 `yaml:"threshold"`
}

// IntrusionRule weighs a person seen in a restricted zone nobody badged into.
type IntrusionRule struct {
	Grace time.Duration `yaml:"grace"` // after the last badge in or out of the zone (30s)
}

// FrigateBookmark is the manual event Sekisho creates in Frigate for a
// restricted entry.
type FrigateBookmark struct {
	Label    string        `yaml:"label"`    // person
	Duration time.Duration `yaml:"duration"` // 30s
}

// Asset is a customer's die or part kept in a zone: the cover check (目隠し)
// asks for it to be covered before another company's visitor enters.
type Asset struct {
	ID          string `yaml:"id"`
	Owner       string `yaml:"owner"`
	Zone        string `yaml:"zone"`
	Description string `yaml:"description"`
}

// AccessLevel grants zones during a schedule (always, when none is named).
type AccessLevel struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Zones    []string `yaml:"zones"`
	Schedule string   `yaml:"schedule"`
}

// VisitorCards is the desk's pool of day badges.
type VisitorCards struct {
	Format   string   `yaml:"format"`
	Facility uint64   `yaml:"facility"`
	Numbers  []string `yaml:"numbers"` // "1-50", "77"
	// OverstayAt is the time of day after which a visitor still checked in
	// raises an overstay alarm (19:00 when empty).
	OverstayAt string `yaml:"overstay_at"`
}

// Overstay is OverstayAt in minutes after midnight (checked when loaded).
func (v *VisitorCards) Overstay() int {
	m, err := clock(v.OverstayAt)
	if err != nil {
		return 19 * 60
	}
	return m
}

// CamerasAt are the cameras that watch a door: those the door names and
// those that name the door.
func (c *Config) CamerasAt(door string) []Camera {
	var out []Camera
	d, _ := c.Door(door)
	for _, cam := range c.Cameras {
		if slices.Contains(d.Cameras, cam.ID) || slices.Contains(cam.Doors, door) {
			out = append(out, cam)
		}
	}
	return out
}

// Zone returns the zone id, or false.
func (c *Config) Zone(id string) (Zone, bool) {
	for _, z := range c.Zones {
		if z.ID == id {
			return z, true
		}
	}
	return Zone{}, false
}

// LocalDoors are the doors this machine drives itself.
func (c *Config) LocalDoors() []Door {
	var out []Door
	for _, d := range c.Doors {
		if d.Bridge == "" {
			out = append(out, d)
		}
	}
	return out
}

// Bridges maps each door Pi's id to the doors it drives.
func (c *Config) Bridges() map[string][]Door {
	out := map[string][]Door{}
	for _, d := range c.Doors {
		if d.Bridge != "" {
			out[d.Bridge] = append(out[d.Bridge], d)
		}
	}
	return out
}

// Door returns the door id, or false.
func (c *Config) Door(id string) (Door, bool) {
	for _, d := range c.Doors {
		if d.ID == id {
			return d, true
		}
	}
	return Door{}, false
}

// Level returns the access level id, or false.
func (c *Config) Level(id string) (AccessLevel, bool) {
	for _, l := range c.AccessLevels {
		if l.ID == id {
			return l, true
		}
	}
	return AccessLevel{}, false
}

// Side says which side of its door a reader is on.
type Side string

const (
	Outside Side = "outside"
	Inside  Side = "inside"
)

// ReaderDoor finds the door a reader belongs to and its side.
func (c *Config) ReaderDoor(reader string) (Door, Side, bool) {
	for _, d := range c.Doors {
		switch reader {
		case d.Readers.Outside:
			return d, Outside, true
		case d.Readers.Inside:
			return d, Inside, true
		}
	}
	return Door{}, "", false
}
