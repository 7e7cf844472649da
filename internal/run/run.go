// Package run is the phantomos command line: it parses subcommands and
// flags, loads configuration, wires the store and the server, and shuts
// down cleanly. main only calls Run; tests call it too.
package run

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/connector/platforms"
	"github.com/phantomos/phantomos/internal/store"
)

// Version is set at build time with -ldflags "-X .../internal/run.Version=…";
// otherwise it comes from the module's build information.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

// ErrUsage marks an error in the command line: Run's caller exits 2 for it.
var ErrUsage = errors.New("usage")

// env bundles what every command gets from the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
	// ready, when set, is called with the server's address once it listens.
	ready func(addr string)
}

type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "[--addr :8080] [--db URL] [--demo] [--no-workers]", "run the web application and API, and the background workers", cmdServe},
		{"worker", "[--db URL]", "run the background workers alone (syncs, schedule), for deployments that scale them apart", cmdWorker},
		{"migrate", "[--db URL]", "apply pending database migrations", cmdMigrate},
		{"demo", "[--db URL] [--sales N] [--seed S]", "load the demo publisher (slug demo)", cmdDemo},
		{"publisher add", "--name N --slug S [--owner-email E] [--currency USD] [--timezone UTC]", "create a publisher (and its owner; password from stdin)", cmdPublisherAdd},
		{"user add", "--publisher S --email E --role R [--name N]", "add a user; the password is read from stdin", cmdUserAdd},
		{"import", "{products|sales|assets|fx} --publisher S [--format F] [--valid-only] [--dry-run] FILE", "import a file (all or nothing unless --valid-only)", cmdImport},
		{"rotate-key", "[--db URL]", "new credential key; re-encrypt connector credentials", cmdRotateKey},
		{"tag", "--assets ASSETS.csv --products PRODUCTS.csv", "suggest assets for products offline (CSV out)", cmdTag},
		{"forecast", "--input SERIES.csv --horizon H [--season M]", "statistical forecasts with intervals (CSV out)", cmdForecast},
		{"eval", "{tagging|forecast|ask} [--data DIR]", "evaluate tagging or forecasting on ../shared/eval-data, or Ask on the demo (ask [--postgres URL])", cmdEval},
		{"bench", "{analytics|http|import|push} [--db URL] [--sales N] [--rows N]", "benchmarks: page data vs naive queries, HTTP under load, import vs raw bulk load, push API vs file import", cmdBench},
		{"version", "", "print the version", cmdVersion},
		{"help", "", "list the commands", nil},
	}
}

// Options are what Run needs beyond the command line.
type Options struct {
	Stdin io.Reader
	// Ready is called with the listening address when serve is up.
	Ready func(addr string)
}

// Run executes the command line args (without the program name). It returns
// an error wrapping ErrUsage for bad usage, which main turns into exit 2.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, opts ...Options) error {
	e := &env{getenv: getenv, stdin: strings.NewReader(""), stdout: stdout, stderr: stderr}
	for _, o := range opts {
		if o.Stdin != nil {
			e.stdin = o.Stdin
		}
		e.ready = o.Ready
	}
	e.logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if getenv("PHANTOMOS_LOG_FORMAT") == "json" {
		e.logger = slog.New(slog.NewJSONHandler(stderr, nil))
	}
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("%w: no command given", ErrUsage)
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name && c.run != nil {
			return c.run(ctx, e, args[len(words):])
		}
	}
	usage(stderr)
	return fmt.Errorf("%w: unknown command %q", ErrUsage, strings.Join(args, " "))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "PhantomOS: merchandise intelligence for game publishers.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: phantomos <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-15s %-40s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Environment: DATABASE_URL (postgres://… or a SQLite file, default phantomos.db), PHANTOMOS_ADDR,")
	fmt.Fprintln(w, "PHANTOMOS_BASE_URL, PHANTOMOS_DEMO, PHANTOMOS_SECRET_KEY, PHANTOMOS_SIGNUP, PHANTOMOS_SMTP_URL, ANTHROPIC_API_KEY,")
	for _, reg := range platforms.All() {
		for _, v := range reg.Env {
			fmt.Fprintf(w, "%s (%s: %s).\n", v.Name, reg.Name, v.Help)
		}
	}
	fmt.Fprintln(w, "Flags override the environment.")
}

// flags returns a flag set for command name that reports errors as usage
// errors instead of exiting.
func flags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: phantomos %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning flag errors and stray arguments into usage
// errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return fmt.Errorf("%w: help requested", ErrUsage)
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}

// openStore loads the configuration, applies dbFlag over it, validates it,
// opens the database and migrates it.
func openStore(ctx context.Context, e *env, dbFlag string) (*store.Store, config.Config, error) {
	cfg := config.Load(e.getenv)
	if dbFlag != "" {
		cfg.DatabaseURL = dbFlag
	}
	if err := cfg.Validate(); err != nil {
		return nil, cfg, err
	}
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, cfg, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, cfg, err
	}
	return s, cfg, nil
}

func cmdVersion(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "version", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "phantomos %s\n", version())
	return nil
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "migrate", "[--db URL]")
	db := fs.String("db", "", "database URL or SQLite file (default $DATABASE_URL or phantomos.db)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg := config.Load(e.getenv)
	if *db != "" {
		cfg.DatabaseURL = *db
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	cur, _, err := s.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: applied %d migration(s); schema version %d\n", s.Where(), n, cur)
	return nil
}

// stdinLine reads the first line of stdin, for passwords.
func stdinLine(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimRight(line, "\r"), nil
}
