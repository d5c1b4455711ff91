package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

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
		where = append(where, "(person_id = "+p+" OR lower(person) LIKE "+like(arg, q.Person)+")")
	case q.Card != "":
		where = append(where, "card = "+arg(q.Card))
	case q.Company != "":
		where = append(where, "lower(company) LIKE "+like(arg, q.Company))
	default:
		return nil, ErrBroadQuery
	}
	if q.Person != "" && q.Card != "" {
		where = append(where, "card = "+arg(q.Card))
	}
	if q.Company != "" && (q.Person != "" || q.Card != "") {
		where = append(where, "lower(company) LIKE "+like(arg, q.Company))
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
	sql := `SELECT site, seq, time, type, door, zone_from, zone_to, person_id, person, company, card, hash FROM events WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY time DESC, site, seq DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := l.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: search: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Found])
	if err != nil {
		return nil, fmt.Errorf("ledger: search: %w", err)
	}
	return out, nil
}

// like is a prefix pattern for s, its own % and _ matched as themselves:
// a name's beginning, found through the lower-case text index.
func like(arg func(any) string, s string) string {
	r := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
	return arg(strings.ToLower(r.Replace(s)) + "%")
}
