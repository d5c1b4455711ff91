package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDemoFactoryLoads(t *testing.T) {
	cfg, err := Load("../../configs/demo-factory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Site != "hamamatsu-press" || cfg.Location.String() != "Asia/Tokyo" {
		t.Fatalf("site %q tz %v", cfg.Site, cfg.Location)
	}
	d, side, ok := cfg.ReaderDoor("r-main-out")
	if !ok || d.ID != "main-entrance" || side != Outside || !d.InsideOnly {
		t.Fatalf("r-main-out: %+v %v %v", d, side, ok)
	}
	press, _ := cfg.Zone("die-press")
	if !press.Restricted || !press.NoPhones {
		t.Fatalf("die-press %+v", press)
	}
	owners := map[string]bool{}
	for _, a := range cfg.Assets {
		if a.Zone == "die-press" {
			owners[a.Owner] = true
		}
	}
	if len(owners) < 2 {
		t.Fatalf("die-press should hold dies of two customers, has %v", owners)
	}
	if cfg.MQTT.TopicPrefix != "sekisho/hamamatsu-press" || cfg.MQTT.Embedded.Listen != "127.0.0.1:1883" {
		t.Fatalf("mqtt %+v", cfg.MQTT)
	}
}

const base = `site: s1
zones:
  - id: outside
  - id: hall
doors:
  - id: front
    from: outside
    to: hall
    readers: { outside: r1 }
`

func TestBrokenConfigs(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // file:line: key: message fragment
	}{
		{"unknown key in door", base + "    colour: red\n", "bad.yaml:10: doors[0].colour: unknown key"},
		{"unknown top-level key", "sight: s1\n" + base, "bad.yaml:1: sight: unknown key"},
		{"door to missing zone", strings.Replace(base, "to: hall", "to: press", 1), `bad.yaml:8: doors[0].to: no zone "press" is defined`},
		{"duplicate zone id", strings.Replace(base, "id: hall", "id: outside", 1), `bad.yaml:4: zones[1].id: duplicate id "outside" (first at line 3)`},
		{"duplicate reader", base + "  - id: back\n    from: hall\n    to: outside\n    readers: { inside: r1 }\n", `bad.yaml:13: doors[1].readers.inside: duplicate id "r1"`},
		{"OSDP address out of range", base + "osdp:\n  r1: { port: /dev/ttyAMA0, address: 127 }\n", `bad.yaml:11: osdp.r1.address: address 127: want 0–126 (127 is every reader at once)`},
		{"OSDP reader no door has", base + "osdp:\n  r9: { port: /dev/ttyAMA0, address: 1 }\n", `bad.yaml:11: osdp.r9: no door has a reader "r9"`},
		{"OSDP baud", base + "osdp:\n  r1: { port: /dev/ttyAMA0, address: 1, baud: 14400 }\n", `bad.yaml:11: osdp.r1.baud: baud 14400: want 9600, 19200, 38400, 57600 or 115200`},
		{"bad duration", base + "    strike: { pulse: soon }\n", `bad.yaml:10: doors[0].strike.pulse: "soon" is not a duration like 20s, 5m or 1h30m`},
		{"a word for a number", base + "access:\n  lockout: { failures: five }\n", `bad.yaml:11: access.lockout.failures: "five" is not a whole number`},
		{"a word for a switch", base + "    inside_only: maybe\n", `bad.yaml:10: doors[0].inside_only: "maybe" is not true or false`},
		{"bad schedule", base + "schedules:\n  night: [\"Mon-Fry 22:00-06:00\"]\n", `bad.yaml:11: schedules.night[0]: "Mon-Fry 22:00-06:00": unknown day`},
		{"level with missing schedule", base + "access_levels:\n  - { id: a, zones: [hall], schedule: nights }\n", `bad.yaml:11: access_levels[0].schedule: no schedule "nights" is defined`},
		{"both brokers", base + "mqtt:\n  embedded: {}\n  external: { url: tcp://x:1883 }\n", `bad.yaml:12: mqtt.external: choose embedded or external, not both`},
		{"bad hardware", "hardware: gpio\n" + base, `bad.yaml:1: hardware: hardware "gpio": want sim or periph`},
		{"syntax", base + "  - id: [\n", "bad.yaml:10: (syntax):"},
		{"missing site", strings.Replace(base, "site: s1\n", "", 1), "bad.yaml:1: site: site is missing"},
		{"bad time zone", "timezone: Mars/Olympus\n" + base, `bad.yaml:1: timezone: unknown time zone "Mars/Olympus"`},
		{"camera without http", base + "cameras:\n  - { id: c1, zone: hall, snapshot_url: \"rtsp://cam/stream\" }\n", `bad.yaml:11: cameras[0].snapshot_url: "rtsp://cam/stream": want an http:// or https:// URL`},
		{"sim camera on a real Pi", "hardware: periph\n" + base + "cameras:\n  - { id: c1, zone: hall, snapshot_url: \"sim://c1\" }\n", `bad.yaml:12: cameras[0].snapshot_url: "sim://c1": sim:// cameras exist only with hardware: sim`},
		{"camera auth unknown", base + "cameras:\n  - id: c1\n    zone: hall\n    auth: ntlm\n", `bad.yaml:13: cameras[0].auth: auth "ntlm": want basic, digest or frigate`},
		{"camera through Frigate without Frigate", base + "cameras:\n  - id: c1\n    zone: hall\n    auth: frigate\n    snapshot_url: http://cam/x.jpg\n", `bad.yaml:13: cameras[0].auth: auth frigate asks Frigate's API with the site's Frigate login: give frigate.url`},
		{"frigate silent for a day", base + "frigate:\n  url: http://frigate:5000\n  stats_timeout: 24h\n", `bad.yaml:12: frigate.stats_timeout: 24h0m0s: want up to 1h0m0s`},
		{"camera too patient", base + "cameras:\n  - id: c1\n    zone: hall\n    timeout: 10s\n", `bad.yaml:13: cameras[0].timeout: 10s: want 100ms to 2s`},
		{"frigate zone to nowhere", base + "cameras:\n  - id: c1\n    zone: hall\n    frigate: { camera: hall_1, zones: { yard: garden } }\n", `bad.yaml:13: cameras[0].frigate.zones.yard: no zone "garden" is defined`},
		{"frigate login half given", base + "frigate:\n  url: https://frigate:8971\n  username: sekisho\n", `bad.yaml:12: frigate.username: give Frigate's username and password together`},
		{"frigate without its URL scheme", base + "frigate:\n  url: frigate:5000\n", `bad.yaml:11: frigate.url: "frigate:5000": want Frigate's base URL`},
		{"lockout for a negative time", base + "access:\n  lockout: { failures: 3, for: -5m }\n", `bad.yaml:11: access.lockout.for: must be positive`},
		{"escalation before the alarm", base + "access:\n  escalate_after: -1m\n", `bad.yaml:11: access.escalate_after: must be positive`},
		{"stills kept for less than nothing", base + "stills:\n  keep_days: -30\n", `bad.yaml:11: stills.keep_days: must be positive`},
		{"open broker on the network", base + "mqtt:\n  embedded: { listen: \":1883\" }\n", `bad.yaml:11: mqtt.embedded.listen: ":1883" is reachable from the network, and with no users anyone there could publish`},
		{"plain dashboard on the network", base + "http:\n  listen: \":8080\"\n", `bad.yaml:11: http.listen: ":8080" is reachable from the network in plain HTTP`},
		{"open broker on all addresses", base + "mqtt:\n  embedded: { listen: \"0.0.0.0:1883\" }\n", `bad.yaml:11: mqtt.embedded.listen: "0.0.0.0:1883" is reachable`},
		{"tls half given", base + "mqtt:\n  embedded:\n    tls: { cert_file: a.pem }\n", `bad.yaml:12: mqtt.embedded.tls: give cert_file and key_file, or self_signed: true`},
		{"door Pi never waits", base + "access:\n  decision_timeout: 5ms\n", `bad.yaml:11: access.decision_timeout: 5ms: want 100ms to 10s`},
		{"frigate login without frigate", base + "mqtt:\n  embedded:\n    users:\n      - { username: nvr, password: long-enough-pass, frigate: true }\n", `bad.yaml:13: mqtt.embedded.users[0].frigate: a Frigate login, but the config has no frigate block`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.yaml))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse = %v, want Problems", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%s\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	// A missing zone, a missing camera zone, an unknown key and a bad
	// duration: none hides another.
	y := strings.Replace(base, "to: hall", "to: nowhere", 1) + "    colour: red\n    held_open_after: twenty\n" +
		"cameras:\n  - { id: c1, zone: attic }\n"
	_, err := Parse("bad.yaml", []byte(y))
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 4 {
		t.Fatalf("want 4 problems, got %v", err)
	}
	for _, want := range []string{`doors[0].to: no zone "nowhere"`, "doors[0].colour: unknown key", `doors[0].held_open_after: "twenty" is not a duration`, `cameras[0].zone`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%s", want, err)
		}
	}
}

func TestSchedule(t *testing.T) {
	day, _ := ParseWindow("Mon-Fri 07:00-19:00")
	night, _ := ParseWindow("Fri 22:00-06:00")
	s := Schedule{day, night}
	tz := time.FixedZone("JST", 9*3600)
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-11-25T07:00", true},  // Wednesday opening
		{"2026-11-25T18:59", true},  // Wednesday just before close
		{"2026-11-25T19:00", false}, // closed
		{"2026-11-28T10:00", false}, // Saturday day
		{"2026-11-27T23:00", true},  // Friday night
		{"2026-11-28T05:59", true},  // Friday night, into Saturday
		{"2026-11-29T05:00", false}, // Saturday night is not Friday night
	}
	for _, tt := range tests {
		at, _ := time.ParseInLocation("2006-01-02T15:04", tt.at, tz)
		if got := s.Allows(at); got != tt.want {
			t.Errorf("Allows(%s %s) = %v, want %v", at.Weekday(), tt.at, got, tt.want)
		}
	}
}

// A camera Frigate knows, with no address of its own, gives its stills
// through Frigate's API with the site's Frigate login; Frigate's login
// cookie and its silence are as configured, or Frigate's defaults.
func TestCameraStillsThroughFrigate(t *testing.T) {
	cfg, err := Parse("site.yaml", []byte(base+`cameras:
  - id: c1
    zone: hall
    frigate: { camera: hall 1 }
  - id: c2
    zone: hall
    snapshot_url: http://cam2/jpg
    frigate: { camera: hall_2 }
frigate:
  url: https://frigate:8971/
  username: sekisho
  password: a long password
`))
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Cameras[0]; c.SnapshotURL != "https://frigate:8971/api/hall%201/latest.jpg" || c.Auth != "frigate" {
		t.Errorf("camera known to Frigate: %s, auth %q", c.SnapshotURL, c.Auth)
	}
	if c := cfg.Cameras[1]; c.SnapshotURL != "http://cam2/jpg" || c.Auth != "" {
		t.Errorf("camera with its own address: %s, auth %q", c.SnapshotURL, c.Auth)
	}
	if cfg.Frigate.CookieName != "frigate_token" || cfg.Frigate.StatsTimeout != 3*time.Minute {
		t.Errorf("defaults: cookie %q, stats timeout %v", cfg.Frigate.CookieName, cfg.Frigate.StatsTimeout)
	}
}
