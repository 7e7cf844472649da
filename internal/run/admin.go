package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/secret"
)

func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "demo", "[--db URL] [--sales N] [--seed S]")
	db := fs.String("db", "", "database URL or SQLite file (default $DATABASE_URL or phantomos.db)")
	sales := fs.Int("sales", 0, "number of sales rows to generate (default: the demo's own)")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same data")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load to this file (go tool pprof)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *sales < 0 {
		fs.Usage()
		return fmt.Errorf("%w: --sales must not be negative", ErrUsage)
	}
	s, _, err := openStore(ctx, e, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	stop, err := startProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	start := time.Now()
	last := time.Now()
	progress := func(done, total int64) {
		if time.Since(last) >= 2*time.Second || done == total {
			last = time.Now()
			el := time.Since(start).Seconds()
			fmt.Fprintf(e.stderr, "  %d/%d sales (%.0f%%), %.0f rows/s\n", done, total, 100*float64(done)/float64(total), float64(done)/el)
		}
	}
	pub, err := demo.Load(ctx, s, demo.Options{Sales: *sales, Seed: *seed}, progress)
	if err != nil {
		return err
	}
	n, err := s.SalesCount(ctx, pub.ID)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(e.stdout, "Loaded demo publisher %q (slug %s) into %s: %d sales in %s (%.0f rows/s).\n",
		pub.Name, pub.Slug, s.Where(), n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	stop()
	f, err := s.Footprint(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Database %s: sales %s (%.0f bytes a line), rollups %s.\n",
		megabytes(f.Database), megabytes(f.Sales), float64(f.Sales)/float64(max(n, 1)), megabytes(f.Rollups))
	return nil
}

// megabytes formats a size in bytes for a person.
func megabytes(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

func cmdPublisherAdd(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "publisher add", "--name N --slug S [--owner-email E] [--currency USD] [--timezone UTC]")
	db := fs.String("db", "", "database URL or SQLite file")
	name := fs.String("name", "", "publisher name (required)")
	slug := fs.String("slug", "", "unique slug: lowercase letters, digits, dashes (required)")
	owner := fs.String("owner-email", "", "create the owner with this email; password from stdin")
	currency := fs.String("currency", "USD", "reporting currency (ISO 4217)")
	tz := fs.String("timezone", "UTC", "time zone (IANA name)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *slug == "" {
		fs.Usage()
		return fmt.Errorf("%w: --name and --slug are required", ErrUsage)
	}
	var hash string
	if *owner != "" {
		var err error
		if hash, err = readPassword(e); err != nil {
			return err
		}
	}
	s, _, err := openStore(ctx, e, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	p := &phantomos.Publisher{Name: *name, Slug: *slug, ReportingCurrency: *currency, Timezone: *tz}
	if err := s.CreatePublisher(ctx, p); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "Created publisher %q (slug %s, id %s).\n", p.Name, p.Slug, p.ID)
	if *owner != "" {
		u := &phantomos.User{Email: *owner, Role: phantomos.RoleOwner}
		if err := s.CreateUser(ctx, p.ID, u, hash); err != nil {
			return userError(err)
		}
		fmt.Fprintf(e.stdout, "Created owner %s.\n", u.Email)
	}
	return nil
}

func cmdUserAdd(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "user add", "--publisher S --email E --role R [--name N]")
	db := fs.String("db", "", "database URL or SQLite file")
	slug := fs.String("publisher", "", "publisher slug (required)")
	email := fs.String("email", "", "email address (required)")
	role := fs.String("role", "", "owner, admin, member or analyst (required)")
	name := fs.String("name", "", "display name")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *slug == "" || *email == "" || *role == "" {
		fs.Usage()
		return fmt.Errorf("%w: --publisher, --email and --role are required", ErrUsage)
	}
	r, err := phantomos.ParseRole(*role)
	if err != nil {
		fs.Usage()
		return fmt.Errorf("%w: %s", ErrUsage, phantomos.ErrorMessage(err))
	}
	hash, err := readPassword(e)
	if err != nil {
		return err
	}
	s, _, err := openStore(ctx, e, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := s.PublisherBySlug(ctx, *slug)
	if err != nil {
		return userError(err)
	}
	u := &phantomos.User{Email: *email, Name: *name, Role: r}
	if err := s.CreateUser(ctx, p.ID, u, hash); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "Added %s to %s as %s.\n", u.Email, p.Name, u.Role)
	return nil
}

// readPassword reads the password from the first line of stdin, checks its
// length and returns its hash.
func readPassword(e *env) (string, error) {
	pw, err := stdinLine(e.stdin)
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	if len([]rune(pw)) < auth.MinPasswordLength {
		return "", fmt.Errorf("password (read from stdin) must be at least %d characters", auth.MinPasswordLength)
	}
	return auth.HashPassword(pw)
}

// userError turns a coded error into its message for the terminal.
func userError(err error) error {
	if phantomos.ErrorCode(err) != phantomos.EINTERNAL {
		return errors.New(phantomos.ErrorMessage(err))
	}
	return err
}

// cmdRotateKey adds a new current credential key to the key file and
// re-encrypts every stored credential with it; older keys stay readable.
func cmdRotateKey(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "rotate-key", "[--db URL]")
	db := fs.String("db", "", "database URL or SQLite file")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, cfg, err := openStore(ctx, e, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if cfg.SecretKey != "" {
		return errors.New("PHANTOMOS_SECRET_KEY is set: rotate by putting a new key first in it (id:key,id:key), then run rotate-key with it to re-encrypt")
	}
	keys, err := secret.RotateFile(cfg.DataDirectory())
	if err != nil {
		return err
	}
	n, err := connector.Rekey(ctx, keys, s)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "New current key %s; re-encrypted %d connector credentials.\n", keys.CurrentID(), n)
	return nil
}
