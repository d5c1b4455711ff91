package hq_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sekisho/sekisho/controller/hq/ledger"
	"github.com/sekisho/sekisho/controller/testtool"
)

// Head office's page in a real Chromium at 1366×768: an hq-admin logs in
// through the form, sees the plants, revokes an employee number from the
// page and finds it pending at the plant; the page speaks English in
// English, with no Japanese label left.
func TestHeadOfficePageInABrowser(t *testing.T) {
	t.Parallel()
	hqo := newOffice(t)
	cfg := hqo.pagesOnly("浜松工場")
	office := hqo.run(cfg, "hq-page")
	if err := hqo.ledger.AddUser(context.Background(), "kacho", ledger.RoleAdmin, "pw-kacho-123"); err != nil {
		t.Fatal(err)
	}
	exe := testtool.Need(t, "chromium", "chromium-browser", "google-chrome")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768))
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	base := "http://" + office.Addr()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/hq"),
		chromedp.SendKeys(chromedp.ID("name"), "kacho"),
		chromedp.SendKeys(chromedp.ID("password"), "pw-kacho-123"),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.CSS(`#sites tbody tr`)),
		chromedp.WaitVisible(chromedp.ID("revoke")),
		chromedp.SendKeys(chromedp.ID("r-number"), "E-77"),
		chromedp.Click(chromedp.CSS(`#revoke button`)),
		chromedp.WaitVisible(chromedp.CSS(`#revocations li`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	sites, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#sites tbody`)))
	if err != nil {
		t.Fatal(err)
	}
	pending, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("revocations")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sites, "浜松工場") {
		t.Fatalf("the plants' table: %q", sites)
	}
	if !strings.Contains(pending, "E-77") || !strings.Contains(pending, "plant-a") {
		t.Fatalf("the revocation as listed: %q", pending)
	}
	// The toggle goes to the other language: to English from wherever the
	// browser's own language started the page.
	for range 2 {
		lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil {
			t.Fatal(err)
		}
		if lang == "en" {
			break
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-toggle"))); err != nil {
			t.Fatal(err)
		}
	}
	var english string
	testtool.WaitFor(t, 30*time.Second, "the page in English", func() bool {
		english, err = chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("[data-i18n]")].map(e => e.textContent).join("\n")`))
		return err == nil && strings.Contains(english, "Plants")
	})
	if ja := regexp.MustCompile(`[\p{Hiragana}\p{Katakana}\p{Han}]+`).FindString(english); ja != "" {
		t.Fatalf("the English page still says %q:\n%s", ja, english)
	}
}
