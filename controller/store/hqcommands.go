package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sekisho/sekisho/controller/sekisho"
)

// PeopleByEmployeeNumber lists the people not deleted who have the number.
func (s *Store) PeopleByEmployeeNumber(ctx context.Context, number string) ([]sekisho.Person, error) {
	rows, err := s.db.QueryContext(ctx, selectPerson+` WHERE employee_number = ? AND deleted_at = '' ORDER BY id`, number)
	if err != nil {
		return nil, fmt.Errorf("store: people numbered %s: %w", number, err)
	}
	defer rows.Close()
	var out []sekisho.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("store: people numbered %s: %w", number, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// HQCommand says whether head office's command id was applied here, and
// what came of it.
func (s *Store) HQCommand(ctx context.Context, id string) (result string, done bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT result FROM hq_commands WHERE id = ?`, id).Scan(&result)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: head office's command %s: %w", id, err)
	}
	return result, true, nil
}

// SaveHQCommand notes that command id was applied, once.
func (s *Store) SaveHQCommand(ctx context.Context, id, result string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO hq_commands (id, applied_at, result) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`, id, now(), result)
	if err != nil {
		return fmt.Errorf("store: head office's command %s: %w", id, err)
	}
	return nil
}
