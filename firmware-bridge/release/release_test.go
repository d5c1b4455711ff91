package release

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestLoggerFormatsAndLevels(t *testing.T) {
	for _, tc := range []struct {
		format, level string
		ok            bool
	}{
		{"text", "info", true}, {"json", "debug", true}, {"JSON", "WARN", true}, {"json", "error", true},
		{"xml", "info", false}, {"text", "loud", false}, {"", "info", false},
	} {
		var buf bytes.Buffer
		log, err := Logger(&buf, tc.format, tc.level)
		if (err == nil) != tc.ok {
			t.Errorf("%s/%s: %v", tc.format, tc.level, err)
			continue
		}
		if !tc.ok {
			continue
		}
		log.Info("a swipe", "door", "press-door")
		log.Debug("detail")
		out := buf.String()
		switch {
		case strings.EqualFold(tc.level, "warn") || tc.level == "error":
			if out != "" {
				t.Errorf("%s: info logged at %s: %q", tc.format, tc.level, out)
			}
		case strings.EqualFold(tc.format, "json"):
			var line map[string]any
			if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &line); err != nil || line["door"] != "press-door" {
				t.Errorf("json line %q: %v", out, err)
			}
			if tc.level == "debug" && !strings.Contains(out, "detail") {
				t.Errorf("debug not logged at debug: %q", out)
			}
		default:
			if !strings.Contains(out, "door=press-door") || strings.Contains(out, "detail") {
				t.Errorf("text at info: %q", out)
			}
		}
	}
	if v := Running(); v.Version == "" || v.Commit == "" || !strings.Contains(v.String(), v.Arch) {
		t.Errorf("running: %+v", v)
	}
}
