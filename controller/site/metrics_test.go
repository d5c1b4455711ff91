package site_test

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
)

// Prometheus scrapes the site: decisions by result and reason, the card to
// strike time, doors, alarms, the outbox, the broker link, the card's free
// space; from this machine, or with the metrics token from anywhere, and
// never with an ordinary API token.
func TestMetricsForPrometheus(t *testing.T) {
	t.Parallel()
	const token = "0123456789abcdef0123456789abcdef"
	ts := startSite(t, "", func(cfg *config.Config) { cfg.HTTP.MetricsToken = token })
	live := ts.stream()
	ts.swipe("r-floor-out", 12, 345)
	await(t, live, "the grant", isType(event.AccessGranted, nil))
	ts.swipe("r-floor-out", 99, 9999)
	await(t, live, "the refusal", isType(event.AccessDenied, nil))

	scrape := func(auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.base+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	var body string
	waitFor(t, "both decisions counted", func() bool {
		var code int
		code, body = scrape("")
		return code == http.StatusOK && strings.Contains(body, `sekisho_decisions_total{reason="unknown_credential",result="denied"} 1`)
	})
	for _, want := range []string{
		`sekisho_decisions_total{reason="",result="granted"} 1`,
		`sekisho_unlock_latency_seconds_count 1`,
		`sekisho_door_locked{door="press-door"} 1`,
		`sekisho_door_open{door="floor-door"} 0`,
		`sekisho_mqtt_connected 1`,
		`sekisho_outbox_lag_events`,
		`sekisho_log_head_seq`,
		`sekisho_log_append_failures_total 0`,
		`sekisho_disk_free_bytes`,
		`sekisho_storage_ok 1`,
		`sekisho_build_info{commit=`,
		`go_goroutines`,
		// Every series the config names is there from the start, at 0.
		`sekisho_decisions_total{reason="nda_missing",result="denied"} 0`,
		`sekisho_decisions_total{reason="inside_only",result="requested"} 0`,
		`sekisho_alarms_open{kind="frigate_offline"} 0`,
		`sekisho_alarms_open{kind="forced"} 0`,
		`sekisho_door_alarm{door="press-door",kind="forced"} 0`,
		`sekisho_camera_failures_total{camera="cam-press-1"} 0`,
		`sekisho_frigate_refused_total{kind="bad_json"} 0`,
		`sekisho_frigate_refused_total{kind="bad_name"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in the scrape", want)
		}
	}
	if code, _ := scrape(token); code != http.StatusOK {
		t.Errorf("with the metrics token: %d", code)
	}
	if code, _ := scrape(ts.token); code != http.StatusUnauthorized {
		t.Errorf("with an API token: %d", code)
	}
}

// The README's list of metrics is the scrape's: every sekisho_ metric the
// site exports is named there, and the README names none that does not
// exist (those of door Pis and Frigate's refusals appear only with them).
func TestReadmeNamesTheMetrics(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	res, err := http.Get(ts.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# HELP (sekisho_[a-z_]+)`).FindAllStringSubmatch(string(b), -1) {
		exported[m[1]] = true
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(readme), "`/metrics` is Prometheus's")
	j := strings.Index(string(readme)[i:], "and Go's own")
	if i < 0 || j < 0 {
		t.Fatal("the README's list of metrics is not where this test looks")
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`(sekisho_[a-z_]+)`").FindAllStringSubmatch(string(readme)[i:i+j], -1) {
		named[m[1]] = true
	}
	for m := range exported {
		if !named[m] {
			t.Errorf("%s is exported but not in the README", m)
		}
	}
	for m := range named {
		if !exported[m] && !strings.HasPrefix(m, "sekisho_bridge_") && m != "sekisho_frigate_refused_total" {
			t.Errorf("the README names %s, which the site does not export", m)
		}
	}
}
