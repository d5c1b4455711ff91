package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sekisho/sekisho/firmware-bridge/wiegand"
)

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Defaults a site gets when its config leaves them out.
const (
	DefaultPulse     = 5 * time.Second
	DefaultHTTP      = "127.0.0.1:8080"
	DefaultMQTT      = "127.0.0.1:1883" // loopback: a broker without users admits anyone
	DefaultDataDir   = "./data"
	DefaultTimezone  = "UTC"
	DefaultHeldAfter = 30 * time.Second
)

var personKinds = map[string]bool{"employee": true, "contractor": true, "visitor": true}

func (c *checker) id(p path, id string, seen map[string]path) {
	switch {
	case id == "":
		c.at(p, "id is missing")
	case !idRE.MatchString(id):
		c.at(p, "id %q: use lower-case letters, digits, - and _", id)
	case seen[id] != nil:
		c.at(p, "duplicate id %q (first at line %d)", id, c.lineOf(seen[id]))
	default:
		seen[id] = p
	}
}

func (c *checker) ref(p path, id, what string, set map[string]path) {
	if id == "" {
		c.at(p, "%s is missing", what)
	} else if set[id] == nil {
		c.at(p, "no %s %q is defined", what, id)
	}
}

func (c *checker) validate(cfg *Config) {
	if cfg.Site == "" {
		c.at(path{"site"}, "site is missing: it names the topics and files of this site")
	} else if !idRE.MatchString(cfg.Site) {
		c.at(path{"site"}, "site %q: use lower-case letters, digits, - and _", cfg.Site)
	}
	if cfg.Timezone == "" {
		cfg.Timezone = DefaultTimezone
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		c.at(path{"timezone"}, "unknown time zone %q", cfg.Timezone)
		loc = time.UTC
	}
	cfg.Location = loc
	switch cfg.Language {
	case "":
		cfg.Language = "ja"
	case "ja", "en":
	default:
		c.at(path{"language"}, "language %q: want ja or en", cfg.Language)
	}
	switch cfg.Hardware {
	case "":
		cfg.Hardware = "sim"
	case "sim":
	case "periph":
		if cfg.Board == "" {
			c.at(path{"board"}, "hardware: periph needs a board file (the pin map)")
		}
	default:
		c.at(path{"hardware"}, "hardware %q: want sim or periph", cfg.Hardware)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.HTTP.Listen == "" {
		cfg.HTTP.Listen = DefaultHTTP
	}
	if err := CheckHTTPExposure(cfg.HTTP.Listen, cfg.HTTP.TLS); err != nil {
		c.at(path{"http", "listen"}, "%v", err)
	}
	if t := cfg.HTTP.MetricsToken; t != "" && len(t) < 24 {
		c.at(path{"http", "metrics_token"}, "a metrics token of %d characters is guessable: use 24 or more (openssl rand -hex 16)", len(t))
	}
	c.validateMQTT(cfg)
	c.validateOSDP(cfg)

	zones := map[string]path{}
	for i, z := range cfg.Zones {
		p := path{"zones", i}
		c.id(p.with("id"), z.ID, zones)
		for j, k := range z.EscortRequired {
			if !personKinds[k] {
				c.at(p.with("escort_required", j), "%q is not a kind of person (employee, contractor, visitor)", k)
			}
		}
	}
	if len(cfg.Zones) == 0 {
		c.at(path{"zones"}, "a site needs zones for its doors to join")
	}

	doors, readers, cameras := map[string]path{}, map[string]path{}, map[string]path{}
	for i, cam := range cfg.Cameras {
		c.id(path{"cameras", i, "id"}, cam.ID, cameras)
	}
	for i := range cfg.Doors {
		d := &cfg.Doors[i]
		p := path{"doors", i}
		c.id(p.with("id"), d.ID, doors)
		c.ref(p.with("from"), d.From, "zone", zones)
		c.ref(p.with("to"), d.To, "zone", zones)
		if d.From != "" && d.From == d.To {
			c.at(p.with("to"), "a door joins two different zones; from and to are both %q", d.From)
		}
		if d.Readers.Outside == "" && d.Readers.Inside == "" {
			c.at(p.with("readers"), "a door needs at least one reader")
		}
		for _, side := range []struct{ key, id string }{{"outside", d.Readers.Outside}, {"inside", d.Readers.Inside}} {
			if side.id != "" {
				c.id(p.with("readers", side.key), side.id, readers)
			}
		}
		if d.Strike.Pulse == 0 {
			d.Strike.Pulse = DefaultPulse
		} else if d.Strike.Pulse < 0 || d.Strike.Pulse > 5*time.Minute {
			c.at(p.with("strike", "pulse"), "pulse %v: want between 0 and 5m", d.Strike.Pulse)
		}
		switch d.Strike.Fail {
		case "":
			d.Strike.Fail = "secure"
		case "secure", "safe":
		default:
			c.at(p.with("strike", "fail"), "fail %q: want secure (locked without power) or safe", d.Strike.Fail)
		}
		if d.HeldOpenAfter == 0 {
			d.HeldOpenAfter = DefaultHeldAfter
		} else if d.HeldOpenAfter < 0 {
			c.at(p.with("held_open_after"), "must be positive")
		}
		switch d.AntiPassback {
		case "":
			d.AntiPassback = "none"
		case "none", "soft", "hard":
		default:
			c.at(p.with("anti_passback"), "%q: want none, soft or hard", d.AntiPassback)
		}
		for j, cam := range d.Cameras {
			c.ref(p.with("cameras", j), cam, "camera", cameras)
		}
		if d.Bridge != "" && !idRE.MatchString(d.Bridge) {
			c.at(p.with("bridge"), "bridge %q: use lower-case letters, digits, - and _", d.Bridge)
		}
		if (cfg.Hardware == "periph" || d.Bridge != "") && d.Slot == "" {
			c.at(p.with("slot"), "a door on a Pi (hardware: periph, or a bridge) needs its slot on the board file")
		}
		if d.PINTimeout < 0 || d.PINTimeout > time.Minute {
			c.at(p.with("pin_timeout"), "%v: want up to 1m", d.PINTimeout)
		}
		for j, side := range d.CardAndPIN {
			if side != Outside && side != Inside {
				c.at(p.with("card_and_pin", j), "%q: want outside or inside", side)
			}
		}
		switch d.Contact.Normally {
		case "":
			d.Contact.Normally = "closed"
		case "closed", "open":
		default:
			c.at(p.with("contact", "normally"), "%q: want closed (opens with the door) or open", d.Contact.Normally)
		}
	}
	if g := cfg.Wiegand.FrameGap; g != 0 && (g < 3*time.Millisecond || g > 200*time.Millisecond) {
		c.at(path{"wiegand", "frame_gap"}, "%v: want 3ms to 200ms", g)
	}
	dec, err := wiegand.NewDecoder(cfg.Wiegand.Formats, cfg.Wiegand.Custom)
	if err != nil {
		c.at(path{"wiegand"}, "%v", err)
	}
	cfg.Decoder = dec
	frigateNames := map[string]path{}
	for i := range cfg.Cameras {
		cam := &cfg.Cameras[i]
		p := path{"cameras", i}
		c.ref(p.with("zone"), cam.Zone, "zone", zones)
		for j, d := range cam.Doors {
			c.ref(p.with("doors", j), d, "door", doors)
		}
		// A camera Frigate knows gives its latest frame through Frigate's
		// own API, with the site's Frigate login, when no address is given.
		if cam.SnapshotURL == "" && cam.Frigate != nil && cam.Frigate.Camera != "" && cfg.Frigate != nil && cfg.Frigate.URL != "" &&
			(cam.Auth == "" || cam.Auth == "frigate") {
			cam.SnapshotURL = strings.TrimRight(cfg.Frigate.URL, "/") + "/api/" + url.PathEscape(cam.Frigate.Camera) + "/latest.jpg"
			cam.Auth = "frigate"
		}
		if cam.SnapshotURL != "" {
			u, err := url.Parse(cam.SnapshotURL)
			switch {
			case err == nil && u.Scheme == "sim" && cfg.Hardware != "sim":
				c.at(p.with("snapshot_url"), "%q: sim:// cameras exist only with hardware: sim", cam.SnapshotURL)
			case err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "sim") || u.Host == "":
				c.at(p.with("snapshot_url"), "%q: want an http:// or https:// URL", cam.SnapshotURL)
			}
		}
		switch cam.Auth {
		case "", "basic", "digest":
		case "frigate":
			if cfg.Frigate == nil || cfg.Frigate.URL == "" {
				c.at(p.with("auth"), "auth frigate asks Frigate's API with the site's Frigate login: give frigate.url")
			}
		default:
			c.at(p.with("auth"), "auth %q: want basic, digest or frigate", cam.Auth)
		}
		if (cam.Auth == "basic" || cam.Auth == "digest") && cam.Username == "" {
			c.at(p.with("username"), "auth %s needs a username", cam.Auth)
		}
		if cam.Timeout == 0 {
			cam.Timeout = 2 * time.Second
		} else if cam.Timeout < 100*time.Millisecond || cam.Timeout > 2*time.Second {
			c.at(p.with("timeout"), "%v: want 100ms to 2s, so a camera never holds the door's alarms back", cam.Timeout)
		}
		if f := cam.Frigate; f != nil {
			if f.Camera == "" {
				c.at(p.with("frigate", "camera"), "camera is missing: Frigate's name for this camera")
			} else if first, dup := frigateNames[f.Camera]; dup {
				c.at(p.with("frigate", "camera"), "Frigate camera %q is mapped already (line %d)", f.Camera, c.lineOf(first))
			} else {
				frigateNames[f.Camera] = p.with("frigate", "camera")
			}
			for fz, z := range f.Zones {
				c.ref(p.with("frigate", "zones", fz), z, "zone", zones)
			}
		}
	}
	if f := cfg.Frigate; f != nil {
		c.validateFrigate(f, cfg.Hardware)
	}
	assets := map[string]path{}
	for i, a := range cfg.Assets {
		p := path{"assets", i}
		c.id(p.with("id"), a.ID, assets)
		c.ref(p.with("zone"), a.Zone, "zone", zones)
		if strings.TrimSpace(a.Owner) == "" {
			c.at(p.with("owner"), "owner is missing: the cover check needs to know whose it is")
		}
	}

	cfg.Windows = map[string]Schedule{}
	schedules := map[string]path{}
	for name, windows := range cfg.Schedules {
		p := path{"schedules", name}
		schedules[name] = p
		if len(windows) == 0 {
			c.at(p, "schedule has no windows")
		}
		for j, w := range windows {
			win, err := ParseWindow(w)
			if err != nil {
				c.at(p.with(j), "%v", err)
				continue
			}
			cfg.Windows[name] = append(cfg.Windows[name], win)
		}
	}
	levels := map[string]path{}
	for i, l := range cfg.AccessLevels {
		p := path{"access_levels", i}
		c.id(p.with("id"), l.ID, levels)
		if len(l.Zones) == 0 {
			c.at(p.with("zones"), "an access level needs zones")
		}
		for j, z := range l.Zones {
			c.ref(p.with("zones", j), z, "zone", zones)
		}
		if l.Schedule != "" {
			c.ref(p.with("schedule"), l.Schedule, "schedule", schedules)
		}
	}
	a := &cfg.Access
	for _, d := range []struct {
		key path
		v   *time.Duration
		def time.Duration
	}{
		{path{"access", "escort_delay"}, &a.EscortDelay, 10 * time.Second},
		{path{"access", "two_person_delay"}, &a.TwoPersonDelay, 10 * time.Second},
		{path{"access", "anti_passback_reset"}, &a.AntiPassbackReset, 12 * time.Hour},
		{path{"access", "lockout", "for"}, &a.Lockout.For, 5 * time.Minute},
		{path{"access", "lockout", "window"}, &a.Lockout.Window, time.Minute},
		{path{"access", "escalate_after"}, &a.EscalateAfter, 2 * time.Minute},
		{path{"access", "decision_timeout"}, &a.DecisionTimeout, time.Second},
	} {
		if *d.v == 0 {
			*d.v = d.def
		} else if *d.v < 0 {
			c.at(d.key, "must be positive")
		}
	}
	if a.DecisionTimeout < 100*time.Millisecond || a.DecisionTimeout > 10*time.Second {
		c.at(path{"access", "decision_timeout"}, "%s: want 100ms to 10s (a person waits at the door that long)", a.DecisionTimeout)
	}
	if cfg.Stills.KeepDays == 0 {
		cfg.Stills.KeepDays = 365
	} else if cfg.Stills.KeepDays < 0 {
		c.at(path{"stills", "keep_days"}, "must be positive")
	}
	c.tls(path{"http", "tls"}, cfg.HTTP.TLS)
	if cfg.HTTP.SessionIdle == 0 {
		cfg.HTTP.SessionIdle = 15 * time.Minute
	} else if cfg.HTTP.SessionIdle < time.Minute {
		c.at(path{"http", "session_idle"}, "%s: want 1m or more", cfg.HTTP.SessionIdle)
	}
	if cfg.HTTP.SessionMax == 0 {
		cfg.HTTP.SessionMax = 12 * time.Hour
	} else if cfg.HTTP.SessionMax < cfg.HTTP.SessionIdle {
		c.at(path{"http", "session_max"}, "%s: want at least session_idle (%s)", cfg.HTTP.SessionMax, cfg.HTTP.SessionIdle)
	}
	st := &cfg.Storage
	if st.CheckpointEvery == 0 {
		st.CheckpointEvery = 10 * time.Minute
	} else if st.CheckpointEvery < time.Second {
		c.at(path{"storage", "checkpoint_every"}, "%s: want 1s or more", st.CheckpointEvery)
	}
	c.hq(cfg)
	c.logProof(cfg)
	if st.MinFreePercent == 0 {
		st.MinFreePercent = 10
	} else if st.MinFreePercent < 0 || st.MinFreePercent > 90 {
		c.at(path{"storage", "min_free_percent"}, "%d: want 1 to 90", st.MinFreePercent)
	}
	if st.MinFreeMB == 0 {
		st.MinFreeMB = 500
	} else if st.MinFreeMB < 0 {
		c.at(path{"storage", "min_free_mb"}, "must be positive")
	}
	if a.Lockout.Failures == 0 {
		a.Lockout.Failures = 5
	}
	for j, l := range a.LockdownExempt {
		c.ref(path{"access", "lockdown_exempt", j}, l, "access level", levels)
	}
	cfg.holidays = map[string]bool{}
	for j, h := range cfg.Holidays {
		if _, err := time.Parse("2006-01-02", h); err != nil {
			c.at(path{"holidays", j}, "%q: want YYYY-MM-DD", h)
		}
		cfg.holidays[h] = true
	}
	if vc := cfg.VisitorCards; vc != nil {
		if vc.Format == "" {
			vc.Format = "H10301"
		}
		if vc.OverstayAt == "" {
			vc.OverstayAt = "19:00"
		}
		if _, err := clock(vc.OverstayAt); err != nil {
			c.at(path{"visitor_cards", "overstay_at"}, "%v", err)
		}
		for j, n := range vc.Numbers {
			if _, _, err := CardRange(n); err != nil {
				c.at(path{"visitor_cards", "numbers", j}, "%v", err)
			}
		}
	}
}

func (c *checker) validateFrigate(f *FrigateSite, hardware string) {
	p := path{"frigate"}
	if f.URL != "" {
		if u, err := url.Parse(f.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.at(p.with("url"), "%q: want Frigate's base URL, like http://frigate:5000", f.URL)
		}
		f.URL = strings.TrimRight(f.URL, "/")
	}
	switch {
	case (f.Username == "") != (f.Password == ""):
		c.at(p.with("username"), "give Frigate's username and password together (a user made in Frigate's Settings > Users)")
	case f.Username != "" && f.Token != "":
		c.at(p.with("token"), "give a username and password, or a token, not both")
	case (f.Username != "" || f.Token != "") && f.URL == "":
		c.at(p.with("url"), "a Frigate login needs Frigate's URL (its authenticated port, https://frigate:8971)")
	}
	switch {
	case f.Simulated && hardware != "sim":
		c.at(p.with("simulated"), "a simulated Frigate exists only with hardware: sim; a real site hears its real Frigate")
	case f.Simulated && f.URL != "":
		c.at(p.with("simulated"), "a simulated Frigate and a real one at url: choose one")
	}
	if f.Topic == "" {
		f.Topic = "frigate/events"
	}
	defaults := []struct {
		key  []any
		v    *time.Duration
		def  time.Duration
		max  time.Duration
		what string
	}{
		{[]any{"max_age"}, &f.MaxAge, 10 * time.Minute, 24 * time.Hour, "detections further than this from now are refused"},
		{[]any{"tailgating", "window"}, &f.Tailgating.Window, 10 * time.Second, 2 * time.Minute, "people are counted this long after a grant"},
		{[]any{"tailgating", "before"}, &f.Tailgating.Before, 3 * time.Second, time.Minute, "and this long before it"},
		{[]any{"intrusion", "grace"}, &f.Intrusion.Grace, 30 * time.Second, time.Hour, "after the last badge in or out"},
		{[]any{"recognition", "window"}, &f.Recognition.Window, 10 * time.Second, 2 * time.Minute, "names recognised this long either side of a grant are put beside it"},
		{[]any{"stats_timeout"}, &f.StatsTimeout, 3 * time.Minute, time.Hour, "Frigate silent on its stats this long is taken for stopped: a few of its mqtt.stats_interval"},
	}
	for _, d := range defaults {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < 0 || *d.v > d.max:
			c.at(p.with(d.key...), "%v: want up to %v (%s)", *d.v, d.max, d.what)
		}
	}
	if f.CookieName == "" {
		f.CookieName = "frigate_token"
	}
	switch t := f.Recognition.Threshold; {
	case t == 0:
		f.Recognition.Threshold = 0.8
	case t < 0.5 || t > 1 || t != t:
		c.at(p.with("recognition", "threshold"), "%v: want a face's score from 0.5 to 1", t)
	}
	if f.Bookmark == nil {
		f.Bookmark = &FrigateBookmark{}
	}
	if f.Bookmark.Label == "" {
		f.Bookmark.Label = "person"
	}
	if f.Bookmark.Duration == 0 {
		f.Bookmark.Duration = 30 * time.Second
	}
}

func (c *checker) validateMQTT(cfg *Config) {
	m := &cfg.MQTT
	switch {
	case m.Embedded != nil && m.External != nil:
		c.at(path{"mqtt", "external"}, "choose embedded or external, not both")
	case m.External != nil:
		if m.External.URL == "" {
			c.at(path{"mqtt", "external", "url"}, "url is missing, e.g. tcp://broker.local:1883")
		} else if !strings.Contains(m.External.URL, "://") {
			c.at(path{"mqtt", "external", "url"}, "url %q: want scheme://host:port (tcp, ssl, ws)", m.External.URL)
		}
	case m.Embedded == nil:
		m.Embedded = &EmbeddedBroker{}
	}
	if m.DiscoveryPrefix == "" {
		m.DiscoveryPrefix = "homeassistant"
	} else if strings.ContainsAny(m.DiscoveryPrefix, "#+") || strings.Trim(m.DiscoveryPrefix, "/") != m.DiscoveryPrefix {
		c.at(path{"mqtt", "discovery_prefix"}, "%q: want a topic level like homeassistant (no wildcards, no leading or trailing /)", m.DiscoveryPrefix)
	}
	if m.Embedded != nil && m.Embedded.Listen == "" {
		m.Embedded.Listen = DefaultMQTT
	}
	if m.Embedded != nil {
		if err := CheckBrokerExposure(m.Embedded.Listen, len(m.Embedded.Users)); err != nil {
			c.at(path{"mqtt", "embedded", "listen"}, "%v", err)
		}
		c.tls(path{"mqtt", "embedded", "tls"}, m.Embedded.TLS)
		seen := map[string]bool{}
		for i, u := range m.Embedded.Users {
			p := path{"mqtt", "embedded", "users", i}
			switch {
			case u.Username == "" || strings.ContainsAny(u.Username, "*+#/"):
				c.at(p.with("username"), "a username without * + # /")
			case seen[u.Username]:
				c.at(p.with("username"), "user %q twice", u.Username)
			case len(u.Password) < 12:
				c.at(p.with("password"), "use at least 12 characters")
			case u.Frigate && cfg.Frigate == nil:
				c.at(p.with("frigate"), "a Frigate login, but the config has no frigate block")
			}
			seen[u.Username] = true
		}
	}
	if m.TopicPrefix == "" {
		m.TopicPrefix = "sekisho/" + cfg.Site
	} else if strings.ContainsAny(m.TopicPrefix, "#+") || strings.HasSuffix(m.TopicPrefix, "/") {
		c.at(path{"mqtt", "topic_prefix"}, "%q: no wildcards and no trailing /", m.TopicPrefix)
	}
}

// tls checks a certificate's settings: files, or one made at first start.
func (c *checker) tls(p path, t *TLS) {
	switch {
	case t == nil:
	case t.SelfSigned && (t.CertFile != "" || t.KeyFile != ""):
		c.at(p, "choose self_signed or cert_file and key_file, not both")
	case !t.SelfSigned && (t.CertFile == "" || t.KeyFile == ""):
		c.at(p, "give cert_file and key_file, or self_signed: true")
	}
}
