package site_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/sekisho/sekisho/controller/event"
	"github.com/sekisho/sekisho/controller/site"
	"github.com/sekisho/sekisho/controller/trustreport"
)

// A customer's report and its bundle through the running controller: the
// entries to the press area while Toyo's die is there, nothing of Enshu's
// die, a bundle whose every proof and consistency proof holds with
// standard tools, and each export on record.
func TestCustomerReportAndBundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ts := startSiteWith(t, func(o *site.Options) { o.DataDir = dir })
	ts.addCardholder("Op", []string{"press-operators"}, 5, 6)
	live := ts.stream()
	ts.swipe("r-press-out", 5, 6)
	grant := await(t, live, "the press grant", isType(event.AccessGranted, func(ev event.Event) bool { return ev.Door == "press-door" }))
	await(t, live, "its still", isType(event.CameraSnapshot, func(ev event.Event) bool { return ev.Detail["for"] == grant.ID }))

	// Yesterday to today, in the site's days: a run just after midnight
	// still holds the grant.
	now := time.Now().In(ts.Config.Location)
	today, yesterday := now.Format(time.DateOnly), now.AddDate(0, 0, -1).Format(time.DateOnly)
	q := url.Values{"company": {"Toyo Auto"}, "from": {yesterday}, "to": {today}}.Encode()
	var rep trustreport.Report
	if code := ts.call("GET", "/api/reports/customer?"+q, nil, &rep); code != http.StatusOK {
		t.Fatalf("report: %d", code)
	}
	if len(rep.Assets) != 1 || rep.Assets[0].Asset != "die-a-100" || len(rep.Entries) != 1 || rep.Entries[0].Seq != grant.Seq ||
		len(rep.Entries[0].Stills) != 1 || rep.Entries[0].Stills[0].SHA256 == "" || len(rep.Completeness["ja"].Cannot) == 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, path := range []string{"/api/reports/customer.csv?" + q, "/api/reports/customer.html?lang=ja&" + q, "/api/reports/customer?" + q} {
		code, b := ts.raw("GET", path, nil, "")
		if code != http.StatusOK || !bytes.Contains(b, []byte("Op")) || bytes.Contains(b, []byte("die-b-220")) || bytes.Contains(b, []byte("Enshu")) {
			t.Fatalf("%s: %d\n%s", path, code, b)
		}
	}
	for _, bad := range []string{"company=&from=" + today + "&to=" + today, "company=X&from=yesterday&to=" + today, "company=X&from=2020-01-01&to=2026-01-01", "company=X&from=" + today + "&to=2020-01-01"} {
		if code, word, _ := ts.refusal(t, "GET", "/api/reports/customer?"+bad, "", ""); code != http.StatusBadRequest || word != "bad_query" {
			t.Errorf("%s: %d %s", bad, code, word)
		}
	}
	floor, _, _ := ts.Store.CreateToken(context.Background(), "manager", []string{"floor"}, "", time.Time{})
	if code, word, _ := ts.refusal(t, "GET", "/api/reports/customer?"+q, "", floor); code != http.StatusForbidden {
		t.Errorf("a floor manager had the press report: %d %s", code, word)
	}

	// The bundle, checked with nothing but the site's key.
	code, out := runCLI(t, "checkpoints", "key", "--data-dir", dir, "--origin", "sekisho/"+ts.Config.Site)
	if code != 0 {
		t.Fatalf("key: %s", out)
	}
	siteKey, err := note.NewVerifier(strings.Fields(out)[1])
	if err != nil {
		t.Fatal(err)
	}
	code, b := ts.raw("GET", "/api/reports/customer/bundle?"+q, nil, "")
	if code != http.StatusOK {
		t.Fatalf("bundle: %d %s", code, b)
	}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	proofs := map[int64]bool{}
	var inBundle trustreport.Report
	for _, f := range z.File {
		rc, _ := f.Open()
		var body bytes.Buffer
		body.ReadFrom(rc)
		rc.Close()
		switch {
		case strings.HasPrefix(f.Name, "proofs/"):
			checkProof(t, body.Bytes(), siteKey)
			var seq int64
			fmt.Sscanf(f.Name, "proofs/event-%d.tlog-proof", &seq)
			proofs[seq] = true
		case f.Name == "report.json":
			json.Unmarshal(body.Bytes(), &inBundle)
		case strings.HasSuffix(f.Name, ".checkpoint"):
			if _, err := note.Open(body.Bytes(), note.VerifierList(siteKey)); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
		}
	}
	for _, seq := range inBundle.Seqs() {
		if !proofs[seq] {
			t.Errorf("event %d is in the report without a proof", seq)
		}
	}
	if len(proofs) < 3 || inBundle.Proof == nil || inBundle.Proof.Last < grant.Seq {
		t.Fatalf("bundle: %d proofs, %+v", len(proofs), inBundle.Proof)
	}
	for _, want := range []string{"customer report (json)", "customer report (csv)", "customer report (bundle)"} {
		await(t, live, "audit of "+want, isType(event.AuditExported, func(ev event.Event) bool { return ev.Detail["what"] == want }))
	}
}
