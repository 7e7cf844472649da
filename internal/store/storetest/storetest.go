// Package storetest runs store tests on every engine: a fresh SQLite file
// and a fresh PostgreSQL database each time.
//
// The PostgreSQL half connects to PHANTOMOS_TEST_DATABASE_URL, or to
// postgres://postgres@127.0.0.1:5432/postgres when that is unset. When no
// server answers it skips, unless PHANTOMOS_TEST_POSTGRES=required, where it
// fails: CI sets that so the PostgreSQL half can never silently vanish.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// DefaultPostgresURL is the server tried when PHANTOMOS_TEST_DATABASE_URL
// is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ForEachDialect runs fn as two subtests, "sqlite" and "postgres", each on a
// fresh, migrated database that is removed when the subtest ends.
func ForEachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, New(t, d))
		})
	}
}

// New returns a fresh, migrated store of dialect d, closed at cleanup.
func New(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	url := URL(t, d)
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// URL returns the address of a fresh, empty database of dialect d, dropped
// at cleanup. For SQLite it is a file in the test's temporary directory.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "phantomos.db")
	}
	admin := adminDB(t)
	name := fmt.Sprintf("phantomos_test_%d_%s", time.Now().UnixNano(), strings.ReplaceAll(phantomos.NewID()[24:], "-", ""))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends connections a failed test left open.
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("storetest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, baseURL(), name)
}

func baseURL() string {
	if u := os.Getenv("PHANTOMOS_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// Required reports whether PostgreSQL tests must run rather than skip.
func Required() bool { return os.Getenv("PHANTOMOS_TEST_POSTGRES") == "required" }

var (
	adminOnce sync.Once
	adminConn *sql.DB
	adminErr  error
)

// adminDB connects once per test binary to the server's maintenance
// database, from which test databases are created and dropped.
func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	adminOnce.Do(func() {
		cfg, err := pgx.ParseConfig(baseURL())
		if err != nil {
			adminErr = err
			return
		}
		cfg.ConnectTimeout = 3 * time.Second
		db := stdlib.OpenDB(*cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			adminErr = err
			return
		}
		adminConn = db
	})
	if adminErr != nil {
		if Required() {
			t.Fatalf("storetest: PostgreSQL required (PHANTOMOS_TEST_POSTGRES=required) but %s does not answer: %v", redact(baseURL()), adminErr)
		}
		t.Skipf("storetest: no PostgreSQL at %s (%v); set PHANTOMOS_TEST_POSTGRES=required to fail instead", redact(baseURL()), adminErr)
	}
	return adminConn
}

func withDatabase(t testing.TB, base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(bad URL)"
	}
	return u.Redacted()
}
