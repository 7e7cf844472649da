// Package worker does PhantomOS's background work, the work of the jobs
// internal/jobs queues: connector syncs and scheduled pulls, file imports,
// the periodic schedule (insights and forecasts, due syncs, tagging of new
// products, expired demo copies), tagging runs and the notification sweep
// and deliveries. It knows no HTTP: internal/web validates what people
// ask for, enqueues it and shows its progress from the database, and
// "phantomos worker" runs a Worker without any web server.
package worker

import (
	"context"
	"crypto/x509"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/platforms"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/mail"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/tagging/claudetag"
)

// Worker does the work of the jobs. It implements jobs.Work,
// jobs.NotifyWork, jobs.WebhookWork, jobs.FetchWork, jobs.TagWork,
// jobs.SuggestWork, jobs.InsightsWork and jobs.MailWork.
type Worker struct {
	store  *store.Store
	logger *slog.Logger
	cfg    config.Config
	now    func() time.Time

	platforms *platform.Registry
	conn      *connectors // nil until EnableConnectors: nothing syncs
	jobs      *jobs.Queue // nil until SetJobs: nothing is enqueued
	notif     *notifier   // nil until EnableNotifications: no webhook rules

	mailer mail.Sender       // nil without PHANTOMOS_SMTP_URL
	claude *claudetag.Tagger // nil without ANTHROPIC_API_KEY

	imports imports

	// localTagger builds the local tagger of the schedule's runs (nil:
	// each publisher's own); tests set a failing one.
	localTagger func(context.Context, *store.Store, phantomos.PublisherID) (mapping.Local, error)

	zones sync.Map // IANA name → *time.Location

	// pullRoots are the certificate authorities pulls trust (nil: the
	// system's), from config.PullCAFile.
	pullRoots *x509.CertPool
}

var (
	_ jobs.Work         = (*Worker)(nil)
	_ jobs.NotifyWork   = (*Worker)(nil)
	_ jobs.WebhookWork  = (*Worker)(nil)
	_ jobs.TagWork      = (*Worker)(nil)
	_ jobs.InsightsWork = (*Worker)(nil)
)

// New returns a worker on s. The mailer and Claude are made from cfg
// (PHANTOMOS_SMTP_URL, ANTHROPIC_API_KEY).
func New(s *store.Store, cfg config.Config, logger *slog.Logger) (*Worker, error) {
	w := &Worker{store: s, cfg: cfg, logger: logger, now: time.Now, platforms: defaultPlatforms(logger)}
	roots, err := loadPullRoots(cfg.PullCAFile)
	if err != nil {
		return nil, err
	}
	w.pullRoots = roots
	if cfg.SMTPURL != "" {
		m, err := mail.NewSMTP(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		w.mailer = m
	}
	if cfg.AnthropicAPIKey != "" {
		c, err := claudetag.New(claudetag.Config{APIKey: cfg.AnthropicAPIKey})
		if err != nil {
			return nil, err
		}
		w.claude = c
	}
	return w, nil
}

// SetClock replaces the worker's clock; tests use it.
func (w *Worker) SetClock(now func() time.Time) { w.now = now }

// SetJobs gives the worker the queue it enqueues follow-up work to (the
// schedule's syncs, deliveries).
func (w *Worker) SetJobs(q *jobs.Queue) { w.jobs = q }

// Mailer is the mail sender, nil when mail is not configured.
func (w *Worker) Mailer() mail.Sender { return w.mailer }

// SetMailer replaces the mail sender; tests use it.
func (w *Worker) SetMailer(m mail.Sender) { w.mailer = m }

// Claude is the Claude tagger, nil without ANTHROPIC_API_KEY.
func (w *Worker) Claude() *claudetag.Tagger { return w.claude }

// SetClaude replaces the Claude tagger; tests use it.
func (w *Worker) SetClaude(c *claudetag.Tagger) { w.claude = c }

// SetLocalTagger makes the schedule's tagging runs build their local
// tagger with local (nil: each publisher's own); tests pass a failing one.
func (w *Worker) SetLocalTagger(local func(context.Context, *store.Store, phantomos.PublisherID) (mapping.Local, error)) {
	w.localTagger = local
}

// Platforms are the configured commerce platforms.
func (w *Worker) Platforms() *platform.Registry { return w.platforms }

func (w *Worker) platform(typ string) (platform.Platform, bool) { return w.platforms.Get(typ) }

// defaultPlatforms is every live platform with an empty configuration,
// until EnableConnectors says otherwise.
func defaultPlatforms(logger *slog.Logger) *platform.Registry {
	reg, err := platform.Open(platforms.All(), platform.Config{Logger: logger})
	if err != nil {
		logger.Warn("platforms without configuration", "err", err)
		reg, _ = platform.With(platforms.All())
	}
	return reg
}

// ConnectorOptions configure the connectors of a worker.
type ConnectorOptions struct {
	// BaseURL is the public address (PHANTOMOS_BASE_URL). When it is
	// https, connected stores are subscribed to webhooks under
	// BaseURL/webhooks/.
	BaseURL string
	// Platforms are the configured platforms; nil: every live platform
	// with an empty configuration.
	Platforms *platform.Registry
	// Engine tunes the sync engine; its Logger defaults to the worker's.
	Engine connector.Config
}

// connectors is what syncing needs: the vault over the credential
// keyring and the engine.
type connectors struct {
	keys   *secret.Keyring
	vault  *connector.Vault
	engine *connector.Engine
	opts   ConnectorOptions
}

// EnableConnectors lets the worker open credentials sealed with keys and
// sync the stores of the configured platforms.
func (w *Worker) EnableConnectors(keys *secret.Keyring, opts ConnectorOptions) {
	ecfg := opts.Engine
	if ecfg.Logger == nil {
		ecfg.Logger = w.logger
	}
	if ecfg.Shared == nil && w.store.Dialect() == store.Postgres {
		// Replicas share PostgreSQL: each connector's request pace is
		// one budget in the database. An SQLite file has one process.
		ecfg.Shared = w.store
	}
	if opts.Platforms != nil {
		w.platforms = opts.Platforms
	}
	w.conn = &connectors{
		keys:   keys,
		vault:  connector.NewVault(keys, w.store),
		engine: connector.NewEngine(&connector.StoreSink{Store: w.store}, w.store, ecfg),
		opts:   opts,
	}
}

// Vault is the credential vault, nil until EnableConnectors.
func (w *Worker) Vault() *connector.Vault {
	if w.conn == nil {
		return nil
	}
	return w.conn.vault
}

// Engine is the sync engine, nil until EnableConnectors. The web server
// applies webhooks' batches through it.
func (w *Worker) Engine() *connector.Engine {
	if w.conn == nil {
		return nil
	}
	return w.conn.engine
}

// WebhooksOn reports whether connected stores are subscribed to webhooks:
// the deployment has a public https address to receive them.
func (w *Worker) WebhooksOn() bool {
	return w.conn != nil && strings.HasPrefix(w.conn.opts.BaseURL, "https://")
}

// location is pub's time zone, loaded once per name.
func (w *Worker) location(pub *phantomos.Publisher) *time.Location {
	if loc, ok := w.zones.Load(pub.Timezone); ok {
		return loc.(*time.Location)
	}
	loc := pub.Location()
	w.zones.Store(pub.Timezone, loc)
	return loc
}
