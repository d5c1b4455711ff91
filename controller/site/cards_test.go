package site_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho/sekisho/controller/cli"
	"github.com/sekisho/sekisho/controller/event"
)

// An installer imports people with the CLI while the site runs: the doors
// decide from memory, so the site must notice the other process's change,
// let the new card in, and refuse it once the next import disables it.
func TestCLIImportWhileRunningReachesTheDoors(t *testing.T) {
	t.Parallel()
	ts := startSite(t, "")
	events := ts.stream()
	waitFor(t, "cards in memory", ts.Store.CardsLoaded)

	importCSV := func(enabled string) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "people.csv")
		row := "p-kondo,近藤 誠,contractor,遠州設備,staff,H10301,12,701,,,," + enabled + "\n"
		if err := os.WriteFile(file, []byte("id,name,kind,company,levels,format,facility,number,pin,valid_from,valid_until,enabled\n"+row), 0o600); err != nil {
			t.Fatal(err)
		}
		changed := ts.Store.CardsChanged()
		var out, errOut bytes.Buffer
		args := []string{"people", "import", file, "--config", "../../configs/demo-factory.yaml", "--db", ts.db}
		if code := cli.Run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("import: %d %s", code, errOut.String())
		}
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			t.Fatal("the site never noticed the import")
		}
	}

	importCSV("true")
	ts.swipe("r-floor-out", 12, 701)
	ev := await(t, events, "the imported card's decision", func(ev event.Event) bool { return ev.Reader == "r-floor-out" })
	if ev.Type != event.AccessGranted || ev.Person == nil || ev.Person.ID != "p-kondo" {
		t.Fatalf("imported card: %s %s %+v", ev.Type, ev.Reason, ev.Person)
	}

	waitFor(t, "cards reloaded", ts.Store.CardsLoaded)
	importCSV("false")
	ts.swipe("r-floor-out", 12, 701)
	ev = await(t, events, "the disabled card's decision", func(ev event.Event) bool { return ev.Reader == "r-floor-out" })
	if ev.Type != event.AccessDenied || ev.Reason != event.ReasonDisabled {
		t.Fatalf("disabled by the CLI, yet: %s %s", ev.Type, ev.Reason)
	}
}
