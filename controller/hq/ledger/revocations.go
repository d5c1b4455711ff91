package ledger

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sekisho/sekisho/controller/hqcommand"
)

// AddRevocation keeps a revocation as signed and sent.
func (l *Ledger) AddRevocation(ctx context.Context, r hqcommand.Revocation, message []byte) error {
	_, err := l.pool.Exec(ctx, `INSERT INTO revocations (id, employee_number, issued_by, reason, issued_at, message) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.EmployeeNumber, r.By, r.Reason, r.IssuedAt, message)
	if err != nil {
		return fmt.Errorf("ledger: revocation %s: %w", r.ID, err)
	}
	return nil
}

// Acknowledge keeps a plant's word that it applied a revocation (the
// first word; one heard again changes nothing).
func (l *Ledger) Acknowledge(ctx context.Context, a hqcommand.Ack) error {
	_, err := l.pool.Exec(ctx, `INSERT INTO revocation_acks (id, site, applied, error, at)
		SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM revocations WHERE id = $1) ON CONFLICT DO NOTHING`,
		a.ID, a.Site, a.Applied, a.Error, a.At)
	if err != nil {
		return fmt.Errorf("ledger: acknowledgement of %s by %s: %w", a.ID, a.Site, err)
	}
	return nil
}

// RevocationStatus is a revocation with where it stands at each plant.
type RevocationStatus struct {
	hqcommand.Revocation
	Message []byte         `json:"-"`
	Applied map[string]int `json:"applied"` // site → people disabled there
	Pending []string       `json:"pending"` // sites that have not said yet
}

// Revocations lists every revocation, newest first, with the plants of
// sites that acknowledged it and those that have not.
func (l *Ledger) Revocations(ctx context.Context, sites []string) ([]RevocationStatus, error) {
	rows, err := l.pool.Query(ctx, `SELECT r.id, r.employee_number, r.issued_by, r.reason, r.issued_at, r.message,
			COALESCE(array_agg(a.site) FILTER (WHERE a.site IS NOT NULL), '{}'), COALESCE(array_agg(a.applied) FILTER (WHERE a.site IS NOT NULL), '{}')
		FROM revocations r LEFT JOIN revocation_acks a ON a.id = r.id
		GROUP BY r.id ORDER BY r.issued_at DESC, r.id`)
	if err != nil {
		return nil, fmt.Errorf("ledger: revocations: %w", err)
	}
	var out []RevocationStatus
	var acked []string
	var applied []int32
	var at time.Time
	var r RevocationStatus
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.EmployeeNumber, &r.By, &r.Reason, &at, &r.Message, &acked, &applied}, func() error {
		s := RevocationStatus{Revocation: r.Revocation, Message: r.Message, Applied: map[string]int{}, Pending: []string{}}
		s.IssuedAt = at
		for i, site := range acked {
			s.Applied[site] = int(applied[i])
		}
		for _, site := range sites {
			if _, ok := s.Applied[site]; !ok {
				s.Pending = append(s.Pending, site)
			}
		}
		slices.Sort(s.Pending)
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: revocations: %w", err)
	}
	return out, nil
}
