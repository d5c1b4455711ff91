package hq_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho/sekisho/controller/config"
	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/hq"
)

// published is an event as a plant's outbox publishes it.
func published(ev event.Event, prev string) []byte {
	body, _ := ev.Canonical()
	h := event.ChainHash(prev, body)
	return append(body[:len(body)-1:len(body)-1], fmt.Sprintf(`,"prev_hash":"%s","hash":"%s"}`, prev, h)...)
}

// An event is read back to the very bytes the plant hashed.
func TestParseEventKeepsTheHashedBytes(t *testing.T) {
	ev := event.Event{ID: "e1", Seq: 7, Site: "plant-a", Type: event.AccessGranted, Door: "press-door",
		Person: &event.Person{ID: "p-1", Name: "佐藤 <&>", Company: "Toyo"}, Detail: map[string]string{"b": "2", "a": "1"}}
	in, err := hq.ParseEvent(published(ev, event.GenesisHash))
	if err != nil || !in.Hashes() || in.Seq != 7 || in.Event.Person.Name != "佐藤 <&>" {
		t.Fatalf("%+v %v", in, err)
	}
	for name, b := range map[string][]byte{
		"not json":     []byte("hello"),
		"no hashes":    []byte(`{"seq":1,"site":"a"}`),
		"bad hex":      []byte(`{"seq":1,"prev_hash":"` + strings.Repeat("z", 64) + `","hash":"` + strings.Repeat("0", 64) + `"}`),
		"seq zero":     published(event.Event{Site: "a"}, event.GenesisHash),
		"too large":    make([]byte, hq.MaxMessage+1),
		"no body left": []byte(`,"prev_hash":"` + strings.Repeat("0", 64) + `","hash":"` + strings.Repeat("0", 64) + `"}`),
	} {
		if _, err := hq.ParseEvent(b); !errors.Is(err, hq.ErrBadMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Whatever a broker carries in a plant's name, reading it never panics,
// and what is read hashes as it claims or is refused by the ledger.
func FuzzParseEvent(f *testing.F) {
	f.Add(published(event.Event{ID: "e", Seq: 1, Site: "a", Type: event.DoorOpened}, event.GenesisHash))
	f.Add([]byte(`{"site":"a","seq":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := hq.ParseEvent(b)
		if err == nil && (in.Seq < 1 || len(in.Hash) != 64 || len(in.PrevHash) != 64) {
			t.Fatalf("accepted %+v", in)
		}
		_, _ = hq.ParseCheckpoint(b)
	})
}

// hq.yaml's mistakes are named all at once, with file, line and key.
func TestCheckConfigNamesEveryMistake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hq.yaml")
	text := `listen: 0.0.0.0:8090
postgres: mysql://hq
broker:
  url: http://hq
sites:
  - id: a/b
    key: not-a-key
    api: https://a.example
  - id: a/b
    kye: x
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := hq.Load(path)
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("%v", err)
	}
	want := []string{"listen", "postgres", "broker.url", "key_file", "sites[0].id", "sites[0].key", "sites[0].token", "sites[1].kye", "sites[1].id", "sites[1].key"}
	got := map[string]int{}
	for _, p := range ps {
		got[p.Key] = p.Line
		if p.File != path {
			t.Errorf("%s names file %q", p.Key, p.File)
		}
	}
	for _, k := range want {
		if got[k] == 0 {
			t.Errorf("no mistake named at %s (got %v)", k, ps)
		}
	}
	if got["sites[1].kye"] != 10 || got["postgres"] != 2 {
		t.Errorf("lines: %v", got)
	}
}

// The example hq.yaml the README starts from is a config head office takes.
func TestExampleConfig(t *testing.T) {
	cfg, err := hq.Load("../../configs/hq.yaml")
	if err != nil || len(cfg.Sites) != 1 || cfg.Sites[0].Prefix != "sekisho/hamamatsu-press" {
		t.Fatalf("%+v %v", cfg, err)
	}
}
