package testtool_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sekisho/sekisho/controller/testtool"
)

// A private PostgreSQL takes connections and makes databases.
func TestStartPostgres(t *testing.T) {
	pg := testtool.StartPostgres(t)
	dsn := pg.NewDatabase(t)
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var one int
	if err := c.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %d %v", one, err)
	}
}
