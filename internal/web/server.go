// Package web serves PhantomOS over HTTP: the HTML application, the JSON
// API handlers of internal/api, health and metrics, behind one middleware
// chain. Every route and the permission it needs is declared in routes.go.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/worker"
)

//go:embed templates static
var files embed.FS

// Server is the HTTP face of PhantomOS.
type Server struct {
	// jobWait bounds how long a request waits for a job it enqueued
	// (page, API) before answering with its progress instead.
	jobWait jobWaits
	store   *store.Store
	api     *api.Handler
	logger  *slog.Logger
	cfg     config.Config
	version string
	now     func() time.Time

	pages map[string]*template.Template

	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	// work does the background work the handlers enqueue, and the few
	// steps a request does while it waits (a small import, a tagging run
	// someone asked for); the jobs run it in this or another process.
	work *worker.Worker

	conn *connectors // nil until EnableConnectors
	// platforms are the configured commerce platforms (every live one
	// unconfigured until EnableConnectors).
	platforms *platform.Registry
	jobs      *jobs.Queue // nil until SetJobs: nothing can be enqueued
	notif     *notifier   // nil until EnableNotifications: no webhook rules

	imports *importJobs // file imports running in the background

	// demoCopySales is the size of a visitor's private demo copy (0:
	// demo.CopySales); tests make it small.
	demoCopySales int

	// answers caches analytics answers by publisher data version; zones
	// the time zones they are asked in (loading one reads tzdata).
	answers *answerCache
	zones   sync.Map // IANA name → *time.Location

	// The throttles count in the database: every replica enforces one
	// budget.
	loginByIP    *auth.Throttle
	loginByEmail *auth.Throttle
	mfaByIP      *auth.Throttle
	mfaByUser    *auth.Throttle
	signupByIP   *auth.Throttle
	inviteByIP   *auth.Throttle

	body bodyLimits // request body size and pace

	// hasher bounds the argon2 work (and memory) of every password hash
	// and check the server makes.
	hasher *auth.Hasher
	// keyRate limits the requests of each API key.
	keyRate *keyLimiter
	// pushes serialises each publisher's pushes.
	pushes *pushLocks
	// pushGroupHook, when set (by tests), is called with each group of
	// pushed batches before it is written.
	pushGroupHook func([]*orderBatch)
	// groups counts the groups of pushed batches written (/metrics).
	groups groupStats
}

// New returns a server on s. Templates are parsed here, once; a broken
// template fails start-up rather than a request.
func New(s *store.Store, cfg config.Config, logger *slog.Logger, version string) (*Server, error) {
	srv := &Server{
		store: s, api: api.New(s, logger), logger: logger, cfg: cfg, version: version, now: time.Now,
		jobWait:      defaultJobWaits,
		body:         bodyLimits{max: maxBodyBytes, grace: defaultBodyGrace, rate: defaultBodyMinRate},
		registry:     prometheus.NewRegistry(),
		imports:      newImportJobs(),
		answers:      newAnswerCache(answerCacheBytes),
		loginByIP:    auth.NewThrottle(50, 15*time.Minute, nil).Shared("login-ip", s, logger),
		loginByEmail: auth.NewThrottle(10, 15*time.Minute, nil).Shared("login-email", s, logger),
		mfaByIP:      auth.NewThrottle(30, 15*time.Minute, nil).Shared("mfa-ip", s, logger),
		mfaByUser:    auth.NewThrottle(5, 15*time.Minute, nil).Shared("mfa-user", s, logger),
		signupByIP:   auth.NewThrottle(10, time.Hour, nil).Shared("signup-ip", s, logger),
		inviteByIP:   auth.NewThrottle(30, 15*time.Minute, nil).Shared("invite-ip", s, logger),
		hasher:       auth.NewHasher(auth.DefaultHashBudget, auth.DefaultHashWait),
		keyRate:      newKeyLimiter(keyRequestsPerSecond, keyRequestBurst, maxLimitedKeys),
		pushes:       newPushLocks(s.Dialect() == store.SQLite),
	}
	work, err := worker.New(s, cfg, logger)
	if err != nil {
		return nil, err
	}
	srv.work, srv.platforms = work, work.Platforms()
	if err := srv.parseTemplates(); err != nil {
		return nil, err
	}
	srv.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "phantomos_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	srv.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "phantomos_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	srv.registry.MustRegister(srv.requests, srv.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(s.DB(), string(s.Dialect())))
	srv.registry.MustRegister(srv.answers.collectors()...)
	srv.registry.MustRegister(srv.groups.collectors()...)
	return srv, nil
}

// SetClock replaces the server's clock; tests use it.
func (s *Server) SetClock(now func() time.Time) { s.now = now; s.work.SetClock(now) }

// Worker is the server's worker: the jobs' work, for a queue of this
// process to run.
func (s *Server) Worker() *worker.Worker { return s.work }

// handlerFunc is a handler that returns its error to one adapter, which
// decides the status, the format (HTML or problem+json) and what to log.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handler returns the whole application behind its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.Pattern, s.guard(rt))
	}
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static))))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, phantomos.Errorf(phantomos.ENOTFOUND, "There is no page at %s.", r.URL.Path))
	}))

	csrf := http.NewCrossOriginProtection()
	var h http.Handler = mux
	h = s.authenticate(h)
	h = csrf.Handler(h)
	h = s.limitBodies(h)
	h = securityHeaders(h, s.cfg.SecureCookies())
	h = s.observe(h)
	h = s.recoverPanics(h)
	h = requestID(h)
	return h
}

func staticFiles(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// guard wraps a route's handler with its permission check and the error
// adapter. Anonymous requests to a protected page go to the sign-in page;
// to the API they get 401. A role without the permission gets 403.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r.Context(), rt.Pattern)
		if a := phantomos.ActorFrom(r.Context()); a != nil && a.Scope == phantomos.ScopeIngest && !ingestRoute(rt.Pattern) {
			s.fail(w, r, phantomos.Errorf(phantomos.EFORBIDDEN, "This API key has the ingest scope: it may only push orders and products."))
			return
		}
		if rt.Perm != phantomos.PermPublic {
			a := phantomos.ActorFrom(r.Context())
			if a == nil {
				if isAPI(r) {
					api.WriteError(w, r, phantomos.Errorf(phantomos.EUNAUTHORIZED, "Sign in or send an API key as Authorization: Bearer <key>."))
					return
				}
				target := "/login"
				if r.Method == http.MethodGet && r.URL.Path != "/" {
					target += "?next=" + url.QueryEscape(r.URL.RequestURI())
				}
				http.Redirect(w, r, target, http.StatusSeeOther)
				return
			}
			if !a.Role.Can(rt.Perm) {
				s.fail(w, r, phantomos.Errorf(phantomos.EFORBIDDEN, "Your role (%s) cannot do this. Ask an owner or admin of your team.", a.Role))
				return
			}
		}
		if !isAPI(r) {
			if err := parseForm(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if err := rt.handler(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail reports err to the client in the route's format and logs internal
// errors with the request id.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	err = s.bodyError(r, err)
	code := phantomos.ErrorCode(err)
	if code == phantomos.EINTERNAL {
		s.logger.Error("request failed", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if isAPI(r) {
		api.WriteError(w, r, err)
		return
	}
	st := api.Status(err)
	var buf bytes.Buffer
	data := s.pageData(r, "Error", "")
	data.Data = errorPage{Status: st, Title: http.StatusText(st), Message: phantomos.ErrorMessage(err)}
	if terr := s.pages["error"].ExecuteTemplate(&buf, "layout", data); terr != nil {
		s.logger.Error("render error page", "err", terr)
		http.Error(w, http.StatusText(st), st)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(st)
	w.Write(buf.Bytes())
}

type errorPage struct {
	Status  int
	Title   string
	Message string
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// parseTemplates parses one template set per page: the layout plus the page.
func (s *Server) parseTemplates() error {
	s.pages = map[string]*template.Template{}
	entries, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", e)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// page is what every template receives.
type page struct {
	Title     string
	Active    string // sidebar section
	Actor     *phantomos.Actor
	Publisher *phantomos.Publisher
	Demo      bool
	// Shared is the demo's analyst account, which every visitor of the demo
	// signs in to: its own settings cannot change, so pages do not offer it.
	Shared  bool
	Version string
	Flash   string
	Data    any
	// Notices are the newest insights not yet dismissed or done, for the
	// header's dropdown; MoreNotices says there are more than shown.
	Notices     []*store.Insight
	MoreNotices bool
}

// maxNotices is how many new insights the header lists.
const maxNotices = 5

func (s *Server) pageData(r *http.Request, title, active string) *page {
	p := &page{Title: title, Active: active, Actor: phantomos.ActorFrom(r.Context()), Demo: s.cfg.Demo, Version: s.version}
	p.Shared = readOnlyAccount(r) != nil
	if p.Actor != nil {
		if pub, err := s.store.Publisher(r.Context(), p.Actor.PublisherID); err == nil {
			p.Publisher = pub
		}
		// A failure here costs the dropdown, not the page.
		if list, err := s.store.Insights(r.Context(), p.Actor.PublisherID, store.InsightFilter{Status: store.InsightNew, Limit: maxNotices + 1}); err == nil {
			if len(list) > maxNotices {
				list, p.MoreNotices = list[:maxNotices], true
			}
			p.Notices = list
		}
	}
	return p
}

// render executes a page into a buffer and writes it only when complete, so
// a template error is a clean 500 and never half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data *page) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	if err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		s.logger.Debug("write page", "err", err)
	}
	return nil
}
