package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/worker"
)

// A scheduled pull is a custom source that fetches a CSV or JSON file from
// a URL every so often and imports it through the same path as an upload
// (same formats, same identity: orders are keyed by their own id under the
// source, so a file pulled twice, or pulled and uploaded to the same
// source, counts each order once). A file whose ETag or content has not
// changed since the last import is skipped. Each pull is a sync job of the
// connector, so one runs at a time per source across every replica.

// maxPullSecret bounds a pull's credential as typed.
const maxPullSecret = 4096

// pullEvery are the periods a pull source may run at, in minutes.
var pullEvery = []int{15, 60, 360, 1440}

// pullForm is the form that creates a pull source, as typed.
type pullForm struct {
	Name, URL, Kind, Format, Auth, Header, User string
	Every                                       int
}

type pullChoice struct {
	Minutes int
	Label   string
}

type pullNewPage struct {
	Form    pullForm
	Every   []pullChoice
	Error   string
	Enabled bool // a keyring seals credentials
}

func (s *Server) handlePullNew(w http.ResponseWriter, r *http.Request) error {
	return s.renderPullNew(w, r, http.StatusOK, pullForm{Kind: "sales", Format: "auto", Auth: "none", Every: 60}, "")
}

func (s *Server) renderPullNew(w http.ResponseWriter, r *http.Request, status int, f pullForm, msg string) error {
	data := s.pageData(r, "Scheduled pull", "connectors")
	var every []pullChoice
	for _, m := range pullEvery {
		every = append(every, pullChoice{m, everyText(m)})
	}
	data.Data = pullNewPage{Form: f, Every: every, Error: msg, Enabled: s.conn != nil}
	return s.render(w, status, "connector_pull_new", data)
}

// validHeaderName reports whether name is a header a credential may go in.
func validHeaderName(name string) bool {
	if name == "" || len(name) > 100 {
		return false
	}
	for _, c := range name {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	switch strings.ToLower(name) {
	case "host", "content-length", "transfer-encoding", "connection", "if-none-match", "te", "upgrade", "cookie":
		return false
	}
	return true
}

func printable(s string) bool {
	return !strings.ContainsFunc(s, func(c rune) bool { return c < ' ' || c == 0x7f })
}

// handlePullCreate creates a pull source and enqueues its first pull.
func (s *Server) handlePullCreate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := phantomos.ActorFrom(ctx)
	f := pullForm{Name: strings.TrimSpace(r.PostFormValue("name")), URL: strings.TrimSpace(r.PostFormValue("url")),
		Kind: r.PostFormValue("kind"), Format: r.PostFormValue("format"), Auth: r.PostFormValue("auth"),
		Header: strings.TrimSpace(r.PostFormValue("header")), User: r.PostFormValue("user")}
	f.Every, _ = strconv.Atoi(r.PostFormValue("every"))
	cr := worker.PullCredential{}
	fail := func(msg string) error { return s.renderPullNew(w, r, http.StatusUnprocessableEntity, f, msg) }
	switch {
	case f.Name == "" || len(f.Name) > 100:
		return fail("Name the source (1 to 100 characters).")
	case f.Kind != "sales" && f.Kind != "products":
		return fail("Choose what the file holds: sales or products.")
	case f.Format != "auto" && f.Format != "csv" && f.Format != "json":
		return fail("Choose the file's format: CSV, JSON or detect.")
	case !slices.Contains(pullEvery, f.Every):
		return fail("Choose how often to pull.")
	}
	u, err := worker.CheckPullURL(f.URL)
	if err != nil {
		return fail(phantomos.ErrorMessage(err))
	}
	f.URL = u.String()
	switch f.Auth {
	case "none":
	case "header":
		cr.Header, cr.Value = f.Header, r.PostFormValue("value")
		if !validHeaderName(cr.Header) {
			return fail("The header name must be letters, digits and dashes (such as Authorization or X-Api-Key).")
		}
		if cr.Value == "" || len(cr.Value) > maxPullSecret || !printable(cr.Value) {
			return fail(fmt.Sprintf("Enter the header's value (at most %d printable characters).", maxPullSecret))
		}
	case "basic":
		cr.User, cr.Password = f.User, r.PostFormValue("password")
		if cr.User == "" || len(cr.User) > 255 || strings.Contains(cr.User, ":") || !printable(cr.User) {
			return fail("Enter the user name (at most 255 characters, no colon).")
		}
		if len(cr.Password) > maxPullSecret || !printable(cr.Password) {
			return fail(fmt.Sprintf("The password must be at most %d printable characters.", maxPullSecret))
		}
	default:
		return fail("Choose how the URL is reached: no credential, a header, or basic auth.")
	}
	if f.Auth != "none" && s.conn == nil {
		return fail("This server cannot keep credentials (PHANTOMOS_SECRET_KEY is not set).")
	}
	id, err := s.store.CreatePullSource(ctx, a.PublisherID, f.Name, store.PullSource{URL: f.URL, Kind: f.Kind, Format: f.Format, Auth: f.Auth, EveryMinutes: f.Every})
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return fail(phantomos.ErrorMessage(err))
		}
		return err
	}
	if f.Auth != "none" {
		if err := s.conn.vault.Save(ctx, connector.Target{Publisher: a.PublisherID, ConnectorID: id}, cr); err != nil {
			// Nothing half-made: a source without its credential goes.
			if derr := s.store.DeletePullSource(context.WithoutCancel(ctx), a.PublisherID, id); derr != nil {
				s.logger.Error("delete pull source", "err", derr)
			}
			return err
		}
	}
	s.audit(r, a.PublisherID, "connector.pull.create", f.Name, map[string]any{"url": u.Redacted(), "kind": f.Kind, "every_minutes": f.Every, "auth": f.Auth})
	if s.jobs != nil {
		if _, _, err := s.jobs.EnqueueSync(ctx, a.PublisherID, id); err != nil {
			s.logger.Warn("enqueue first pull", "connector", id, "err", err)
		}
	}
	http.Redirect(w, r, "/connectors/"+id, http.StatusSeeOther)
	return nil
}

// handlePullNow enqueues a pull of a pull source now.
func (s *Server) handlePullNow(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	p, err := s.store.PullSource(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if s.jobs == nil {
		return errors.New("web: pull: no job queue")
	}
	if _, _, err := s.jobs.EnqueueSync(r.Context(), a.PublisherID, p.ConnectorID); err != nil {
		return err
	}
	http.Redirect(w, r, "/connectors/"+p.ConnectorID, http.StatusSeeOther)
	return nil
}

// pullView is a pull source as its connector page shows it.
type pullView struct {
	*store.PullSource
	Runs      []runView
	EveryText string
	Pending   bool // a pull is waiting or running
}

func (s *Server) pullView(ctx context.Context, pub phantomos.PublisherID, id string) (*pullView, error) {
	p, err := s.store.PullSource(ctx, pub, id)
	if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := &pullView{PullSource: p, EveryText: everyText(p.EveryMinutes)}
	runs, err := s.store.SyncRuns(ctx, pub, id, 10)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, run := range runs {
		v.Runs = append(v.Runs, runView{SyncRun: run, Took: tookText(run.Duration(now))})
	}
	if s.jobs != nil {
		if v.Pending, err = s.jobs.SyncPending(ctx, pub, id); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// everyText says a pull period: "every hour", "every 6 hours".
func everyText(minutes int) string {
	switch {
	case minutes == 60:
		return "every hour"
	case minutes == 1440:
		return "every day"
	case minutes%60 == 0:
		return fmt.Sprintf("every %d hours", minutes/60)
	}
	return fmt.Sprintf("every %d minutes", minutes)
}
