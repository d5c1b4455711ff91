package dashboard

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/sekisho"
)

// Every alarm kind, event type and refusal reason the controller can show
// has a label in Japanese and in English: a guard never reads a raw key
// such as frigate_offline on the board.
func TestEveryWordHasBothLabels(t *testing.T) {
	b, err := Files.ReadFile("static/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	ja, en, found := strings.Cut(src[strings.Index(src, "ja: {"):], "\n    en: {")
	if !found {
		t.Fatal("i18n.js has no ja and en blocks where this test looks")
	}
	key := regexp.MustCompile(`"([a-z0-9_.]+)":`)
	labels := func(block string) map[string]bool {
		out := map[string]bool{}
		for _, m := range key.FindAllStringSubmatch(block, -1) {
			out[m[1]] = true
		}
		return out
	}
	langs := map[string]map[string]bool{"ja": labels(ja), "en": labels(en)}
	var want []string
	for _, k := range sekisho.Kinds {
		want = append(want, "alarm."+string(k.Kind))
	}
	for _, t := range event.Types {
		want = append(want, "type."+t)
	}
	for _, r := range event.Reasons {
		want = append(want, "reason."+r)
	}
	// Home Assistant names the alarm kinds with the controller's own table:
	// the same words as the board's.
	word := regexp.MustCompile(`"(alarm\.[a-z_]+)": "([^"]*)"`)
	said := map[string]map[string]string{"ja": {}, "en": {}}
	for lang, block := range map[string]string{"ja": ja, "en": en} {
		for _, m := range word.FindAllStringSubmatch(block, -1) {
			said[lang][m[1]] = m[2]
		}
	}
	for _, k := range sekisho.Kinds {
		for _, lang := range []string{"ja", "en"} {
			if got := said[lang]["alarm."+string(k.Kind)]; got != k.Name(lang) {
				t.Errorf("%s in %s: the board says %q, the controller %q", k.Kind, lang, got, k.Name(lang))
			}
		}
	}
	for _, w := range want {
		for lang, have := range langs {
			if !have[w] {
				t.Errorf("%s has no %s label", w, lang)
			}
		}
	}
}
