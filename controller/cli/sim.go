package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

func simPost(ctx context.Context, at reachFlags, path string, body any, stdout io.Writer) error {
	url, client, err := at.reach()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(url, "/")+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("is the controller running in sim mode? %w", err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(out))
	}
	fmt.Fprintf(stdout, "%s\n", bytes.TrimSpace(out))
	return nil
}

func simSwipe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim swipe", stderr)
	at := addReachFlags(fs)
	reader := fs.String("reader", "", "reader id, e.g. r-floor-out")
	format := fs.String("format", "H10301", "card format")
	facility := fs.Uint64("facility", 0, "facility code")
	number := fs.Uint64("number", 0, "card number")
	bits := fs.String("bits", "", "a raw frame instead, e.g. 0101…")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *reader == "" {
		return fmt.Errorf("%w: sim swipe needs --reader", errUsage)
	}
	body := map[string]any{"format": *format, "facility": *facility, "number": *number}
	if *bits != "" {
		body = map[string]any{"bits": *bits}
	}
	return simPost(ctx, at, "/api/sim/readers/"+*reader+"/wiegand", body, stdout)
}

func simShift(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim shift", stderr)
	at := addReachFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return simPost(ctx, at, "/api/sim/shift", map[string]any{}, stdout)
}
