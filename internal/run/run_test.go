package run

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
)

func runCLI(t *testing.T, getenv map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = Run(context.Background(), args, func(k string) string { return getenv[k] }, &out, &errb, Options{Stdin: strings.NewReader(stdin)})
	return out.String(), errb.String(), err
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"frobnicate"},
		{"serve", "--port", "8080"},
		{"serve", "stray"},
		{"demo", "--sales", "many"},
		{"demo", "--sales", "-5"},
		{"user", "add", "--email", "a@b.c"},
		{"user", "add", "--publisher", "p", "--email", "a@b.c", "--role", "king"},
		{"publisher", "add", "--name", "X"},
		{"publisher"},
	} {
		_, stderr, err := runCLI(t, nil, "", args...)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("phantomos %v: err = %v, want a usage error", args, err)
		}
		if !strings.Contains(stderr, "Usage: phantomos") {
			t.Errorf("phantomos %v: no usage printed; stderr:\n%s", args, stderr)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	out, _, err := runCLI(t, nil, "", "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"serve", "migrate", "demo", "publisher add", "user add", "version"} {
		if !strings.Contains(out, "  "+c+" ") {
			t.Errorf("help does not list %q:\n%s", c, out)
		}
	}
	out, _, err = runCLI(t, nil, "", "version")
	if err != nil || !strings.HasPrefix(out, "phantomos ") {
		t.Errorf("version = %q, %v", out, err)
	}
}

// TestStartupErrorsAreOneClearLine covers what DESIGN.md asks of bad
// configuration: an unreachable PostgreSQL, a read-only or locked SQLite
// file, a port in use.
func TestStartupErrorsAreOneClearLine(t *testing.T) {
	dir := t.TempDir()
	readonly := filepath.Join(dir, "ro.db")
	if _, _, err := runCLI(t, nil, "", "migrate", "--db", readonly); err != nil {
		t.Fatal(err)
	}
	os.Chmod(readonly, 0o444)
	roDir := filepath.Join(dir, "rodir")
	os.Mkdir(roDir, 0o555)

	locked := filepath.Join(dir, "locked.db")
	if _, _, err := runCLI(t, nil, "", "migrate", "--db", locked); err != nil {
		t.Fatal(err)
	}
	holder, err := sql.Open("sqlite", "file:"+locked+"?_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	holder.SetMaxOpenConns(1)
	if _, err := holder.Exec("BEGIN EXCLUSIVE; UPDATE publishers SET name = name; "); err != nil {
		t.Fatal(err)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	root := os.Geteuid() == 0
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
		skip bool
	}{
		{name: "unreachable postgres", env: map[string]string{"DATABASE_URL": "postgres://u:secret@127.0.0.1:1/db?connect_timeout=2"},
			args: []string{"migrate"}, want: []string{"127.0.0.1:1", "connection refused"}},
		{name: "bad postgres url", args: []string{"migrate", "--db", "postgres://host:notaport/db"}, want: []string{"invalid"}},
		// root ignores file permissions, so these two only mean something for other users.
		{name: "read-only file", args: []string{"migrate", "--db", readonly}, want: []string{"ro.db", "read-only"}, skip: root},
		{name: "read-only directory", args: []string{"migrate", "--db", filepath.Join(roDir, "new.db")}, want: []string{"not writable"}, skip: root},
		{name: "missing directory", args: []string{"migrate", "--db", filepath.Join(dir, "nope", "x.db")}, want: []string{"does not exist"}},
		{name: "locked file", args: []string{"migrate", "--db", locked}, want: []string{"locked.db", "locked by another process"}},
		{name: "port in use", args: []string{"serve", "--db", filepath.Join(dir, "serve.db"), "--addr", busy.Addr().String()}, want: []string{busy.Addr().String(), "already in use"}},
		{name: "bad base url", env: map[string]string{"PHANTOMOS_BASE_URL": "localhost:8080"}, args: []string{"migrate", "--db", filepath.Join(dir, "b.db")}, want: []string{"PHANTOMOS_BASE_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip {
				t.Skip("running as root: file permissions do not apply")
			}
			_, _, err := runCLI(t, tc.env, "", tc.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrUsage) {
				t.Fatalf("got a usage error: %v", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if strings.Contains(msg, "secret") {
				t.Errorf("error leaks the password: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestPublisherAndUserAdd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	out, _, err := runCLI(t, nil, "a long enough password\n", "publisher", "add", "--db", db, "--name", "Acme Games", "--slug", "acme", "--owner-email", "Boss@Acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `Created publisher "Acme Games"`) || !strings.Contains(out, "boss@acme.test") {
		t.Errorf("publisher add output:\n%s", out)
	}
	if _, _, err := runCLI(t, nil, "", "publisher", "add", "--db", db, "--name", "Again", "--slug", "acme"); err == nil || !strings.Contains(err.Error(), "already taken") {
		t.Errorf("duplicate slug: %v", err)
	}
	if _, _, err := runCLI(t, nil, "short\n", "user", "add", "--db", db, "--publisher", "acme", "--email", "x@acme.test", "--role", "member"); err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("short password: %v", err)
	}
	if _, _, err := runCLI(t, nil, "another long password\n", "user", "add", "--db", db, "--publisher", "nope", "--email", "x@acme.test", "--role", "member"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown publisher: %v", err)
	}
	out, _, err = runCLI(t, nil, "another long password\n", "user", "add", "--db", db, "--publisher", "acme", "--email", "x@acme.test", "--role", "analyst")
	if err != nil || !strings.Contains(out, "as analyst") {
		t.Errorf("user add = %q, %v", out, err)
	}
}

func TestTagCommand(t *testing.T) {
	dir := t.TempDir()
	assets := filepath.Join(dir, "assets.csv")
	products := filepath.Join(dir, "products.csv")
	os.WriteFile(assets, []byte("game_ip,asset,asset_type,aliases\nStarfall Odyssey,Void Empress,character,Empress\nStarfall Odyssey,Captain Nova,character,Nova\n"), 0o644)
	os.WriteFile(products, []byte("id,title,description\np1,Void Empress 1/6 Scale Figure,Starfall Odyssey collectible\np2,Ocean Blue Shirt,\n"), 0o644)
	out, _, err := runCLI(t, nil, "", "tag", "--assets", assets, "--products", products)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "id,game_ip,asset,confidence" || len(lines) != 2 || !strings.HasPrefix(lines[1], "p1,Starfall Odyssey,Void Empress,") {
		t.Errorf("tag output:\n%s", out)
	}
	os.WriteFile(assets, []byte("game_ip,asset,asset_type,aliases\nX,Y,villain,\n"), 0o644)
	if _, _, err := runCLI(t, nil, "", "tag", "--assets", assets, "--products", products); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad asset type: %v, want an error naming line 2", err)
	}
}

func TestForecastCommand(t *testing.T) {
	in := "series_id,period,value\n"
	for i := range 36 {
		in += "s1," + time.Date(2023, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC).Format("2006-01") + "," + strconv.Itoa(100+i*2+[]int{0, 5, 10, 5, 0, -5, -10, -5, 0, 20, 40, 60}[i%12]) + "\n"
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.csv")
	os.WriteFile(path, []byte(in), 0o644)
	out, _, err := runCLI(t, nil, "", "forecast", "--input", path, "--horizon", "6")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "series_id,period,forecast,lo80,hi80,lo95,hi95,model" || len(lines) != 7 || !strings.HasPrefix(lines[1], "s1,2026-01,") {
		t.Errorf("forecast output:\n%s", out)
	}
	os.WriteFile(path, []byte("series_id,period,value\ns1,2024-01,abc\n"), 0o644)
	if _, _, err := runCLI(t, nil, "", "forecast", "--input", path, "--horizon", "3"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad value: %v, want an error naming line 2", err)
	}
	if _, _, err := runCLI(t, nil, "", "forecast", "--input", path); !errors.Is(err, ErrUsage) {
		t.Errorf("missing horizon: %v, want usage", err)
	}
}

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "i.db")
	if _, _, err := runCLI(t, nil, "", "publisher", "add", "--db", db, "--name", "Imp", "--slug", "imp"); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("order_id,date,sku,quantity,total,currency\nA1,2026-01-05,X,2,10.00,USD\nA2,2026-01-06,Y,1,5.50,USD\n"), 0o644)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("order_id,date,sku,quantity,total,currency\nB1,2026-01-05,X,2,10.00,USD\nB2,not-a-date,X,1,5.00,USD\n"), 0o644)

	_, _, err := runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "imp", bad)
	if err == nil || errors.Is(err, ErrUsage) {
		t.Fatalf("bad file: err = %v, want a failure", err)
	}
	out, _, _ := runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "imp", bad)
	if !strings.Contains(out, `line 3, column "date"`) {
		t.Errorf("bad file output does not name line and column:\n%s", out)
	}
	out, _, err = runCLI(t, nil, "", "import", "sales", good, "--db", db, "--publisher", "imp")
	if err != nil || !strings.Contains(out, "inserted 2") {
		t.Fatalf("good file: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, nil, "", "import", "sales", "--db", db, "--publisher", "imp", good)
	if err != nil || !strings.Contains(out, "inserted 0") || !strings.Contains(out, "unchanged 2") {
		t.Errorf("re-import: %v\n%s", err, out)
	}
	// Nothing of the bad file was written: two sales in all.
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pub, _ := s.PublisherBySlug(context.Background(), "imp")
	if n, _ := s.SalesCount(context.Background(), pub.ID); n != 2 {
		t.Errorf("%d sales stored, want 2", n)
	}
	if _, _, err := runCLI(t, nil, "", "import", "orders", "--db", db, "--publisher", "imp", good); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown kind: %v, want usage", err)
	}
}

func TestRotateKey(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	if _, _, err := runCLI(t, nil, "", "migrate", "--db", db); err != nil {
		t.Fatal(err)
	}
	// No key file yet: rotate-key has nothing to rotate.
	if _, _, err := runCLI(t, nil, "", "rotate-key", "--db", db); err == nil {
		t.Error("rotate-key without a key file succeeded")
	}
	os.WriteFile(filepath.Join(dir, "secret.key"), []byte("k1:"+secretKeyForTest()+"\n"), 0o600)
	out, _, err := runCLI(t, nil, "", "rotate-key", "--db", db)
	if err != nil || !strings.Contains(out, "New current key") {
		t.Fatalf("rotate-key = %q, %v", out, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "secret.key"))
	if !strings.Contains(string(b), "k1:") || strings.Count(string(b), ":") < 2 {
		t.Errorf("key file after rotation keeps the old key and adds a new one:\n%s", b)
	}
	if _, _, err := runCLI(t, map[string]string{"PHANTOMOS_SECRET_KEY": secretKeyForTest()}, "", "rotate-key", "--db", db); err == nil {
		t.Error("rotate-key with PHANTOMOS_SECRET_KEY set succeeded")
	}
}

func secretKeyForTest() string { return secret.Generate() }

// TestServeSaysWhenReady: serve prints one plain line with the address to
// open once it listens, so a first start is not silent.
func TestServeSaysWhenReady(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "PHANTOMOS_DATA_DIR" {
			return dir
		}
		return ""
	}
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "ready.db")}, getenv, &out, io.Discard,
			Options{Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "PhantomOS is ready: open http://" + addr + "\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
}

// TestBenchPush runs the push benchmark small: every round writes every
// line both ways (it fails otherwise), the report has each round and the
// medians, and the benchmark's publishers are gone afterwards.
func TestBenchPush(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	out, _, err := runCLI(t, nil, "", "bench", "push", "--db", db, "--rows", "2500")
	if err != nil {
		t.Fatalf("bench push: %v\n%s", err, out)
	}
	for _, want := range []string{"round 1 ", "round 2 ", "round 3 ", "(median; generic CSV", "(median; 8 clients, 3 requests", "of the file import (medians; target 0.80:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	sdb, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var pubs, lines int
	if err := sdb.QueryRow(`SELECT (SELECT COUNT(*) FROM publishers), (SELECT COUNT(*) FROM sales)`).Scan(&pubs, &lines); err != nil {
		t.Fatal(err)
	}
	if pubs != 0 || lines != 0 {
		t.Errorf("after the benchmark: %d publishers, %d sale lines left", pubs, lines)
	}
	// With the push publisher's filter rollups current from the start: the
	// benchmark fails if the groups leave them stale.
	out, _, err = runCLI(t, nil, "", "bench", "push", "--db", db, "--rows", "2500", "--filter-rollups")
	if err != nil {
		t.Fatalf("bench push --filter-rollups: %v\n%s", err, out)
	}
	if !strings.Contains(out, "each group keeps them current") {
		t.Errorf("the report does not say the filter rollups were current:\n%s", out)
	}
}
