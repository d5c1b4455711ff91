package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Query is a search across plants. Empty fields match everything; at
// least one of person, card and company is given.
type Query struct {
	Person  string // a name's beginning, or a person's id at a plant
	Card    string // as printed: facility:number
	Company string // a company's name's beginning
	Site    string
	Since   time.Time
	Until   time.Time
	Limit   int
}

// Found is one event a search found.
type Found struct {
	Site     string    `json:"site"`
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Type     string    `json:"type"`
	Door     string    `json:"door"`
	ZoneFrom string    `json:"zone_from"`
	ZoneTo   string    `json:"zone_to"`
	PersonID string    `json:"person_id"`
	Person   string    `json:"person"`
	Company  string    `json:"company"`
	Card     string    `json:"card"`
	Hash     string    `json:"hash"`
}

// ErrBroadQuery is a search that names nobody.
var ErrBroadQuery = fmt.Errorf("ledger: a search names a person, a card or a company")

// Search finds events across plants, newest first.
func (l *Ledger) Search(ctx context.Context, q Query) ([]Found, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	switch {
	case q.Person != "":
		p := arg(q.Person)
		where = append(where, "(person_id = "+p+" OR "+prefix(arg, "lower(person)", q.Person)+")")
	case q.Card != "":
		where = append(where, "card = "+arg(q.Card))
	case q.Company != "":
		where = append(where, prefix(arg, "lower(company)", q.Company))
	default:
		return nil, ErrBroadQuery
	}
	if q.Person != "" && q.Card != "" {
		where = append(where, "card = "+arg(q.Card))
	}
	if q.Company != "" && (q.Person != "" || q.Card != "") {
		where = append(where, prefix(arg, "lower(company)", q.Company))
	}
	if q.Site != "" {
		where = append(where, "site = "+arg(q.Site))
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= "+arg(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "time < "+arg(q.Until))
	}
	limit := q.Limit
	if limit <= 0 || limit > 100000 {
		limit = 1000
	}
	// The matches first, through the person, name, card or company index,
	// then the newest of them: left to itself, the planner may walk the
	// time index newest first past millions of rows looking for them.
	sql := `WITH m AS MATERIALIZED (SELECT site, seq, time, type, door, zone_from, zone_to, person_id, person, company, card, hash FROM events WHERE ` +
		strings.Join(where, " AND ") + `) SELECT * FROM m ORDER BY time DESC, site, seq DESC LIMIT ` + strconv.Itoa(limit)
	// Planned for these very values each time (an unnamed statement): a
	// cached generic plan walks the time index past millions of rows.
	rows, err := l.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("ledger: search: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Found])
	if err != nil {
		return nil, fmt.Errorf("ledger: search: %w", err)
	}
	return out, nil
}

// prefix matches the lower-cased column to s's beginning as a range of
// the text index's byte order (~>=~, ~<~): unlike LIKE with a parameter,
// it uses the index in a generic plan too.
func prefix(arg func(any) string, column, s string) string {
	p := strings.ToLower(s)
	return "(" + column + " ~>=~ " + arg(p) + " AND " + column + " ~<~ " + arg(p+string(utf8.MaxRune)) + ")"
}
