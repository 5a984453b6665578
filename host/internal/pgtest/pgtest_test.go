package pgtest

import (
	"context"
	"database/sql"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// TestStart checks that each caller gets its own working database on the
// shared server.
func TestStart(t *testing.T) {
	ctx := context.Background()
	var names []string
	for range 2 {
		dsn := Start(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var name string
		if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatalf("query %s: %v", dsn, err)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Fatalf("create table in %s: %v", name, err)
		}
		names = append(names, name)
	}
	if names[0] == names[1] {
		t.Fatalf("two callers got the same database %s", names[0])
	}
}
