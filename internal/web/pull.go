package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

// pullForm is the form that creates or changes a pull source, as typed.
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
	// Edit is the source being changed; nil on the form that creates one.
	Edit *store.PullSource
}

func (s *Server) handlePullNew(w http.ResponseWriter, r *http.Request) error {
	return s.renderPullForm(w, r, http.StatusOK, pullForm{Kind: "sales", Format: "auto", Auth: "none", Every: 60}, nil, "")
}

func (s *Server) renderPullForm(w http.ResponseWriter, r *http.Request, status int, f pullForm, edit *store.PullSource, msg string) error {
	title := "Scheduled pull"
	if edit != nil {
		title = edit.Name + ": pull settings"
	}
	data := s.pageData(r, title, "connectors")
	var every []pullChoice
	for _, m := range pullEvery {
		every = append(every, pullChoice{m, everyText(m)})
	}
	data.Data = pullNewPage{Form: f, Every: every, Error: msg, Enabled: s.conn != nil, Edit: edit}
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

// pullKeep is the auth value of the edit form that keeps the sealed
// credential as it is.
const pullKeep = "keep"

// readPullForm reads and checks the pull form of r: the form, the
// credential to seal, and a message saying what is wrong ("" when
// nothing). On the edit form of source edit, the name and kind are the
// source's, and auth may be pullKeep when it has a credential.
func (s *Server) readPullForm(r *http.Request, edit *store.PullSource) (pullForm, worker.PullCredential, string) {
	f := pullForm{Name: strings.TrimSpace(r.PostFormValue("name")), URL: strings.TrimSpace(r.PostFormValue("url")),
		Kind: r.PostFormValue("kind"), Format: r.PostFormValue("format"), Auth: r.PostFormValue("auth"),
		Header: strings.TrimSpace(r.PostFormValue("header")), User: r.PostFormValue("user")}
	if edit != nil {
		f.Name, f.Kind = edit.Name, edit.Kind
	}
	f.Every, _ = strconv.Atoi(r.PostFormValue("every"))
	cr := worker.PullCredential{}
	switch {
	case f.Name == "" || len(f.Name) > 100:
		return f, cr, "Name the source (1 to 100 characters)."
	case f.Kind != "sales" && f.Kind != "products":
		return f, cr, "Choose what the file holds: sales or products."
	case f.Format != "auto" && f.Format != "csv" && f.Format != "json":
		return f, cr, "Choose the file's format: CSV, JSON or detect."
	case !slices.Contains(pullEvery, f.Every):
		return f, cr, "Choose how often to pull."
	}
	u, err := worker.CheckPullURL(f.URL)
	if err != nil {
		return f, cr, phantomos.ErrorMessage(err)
	}
	f.URL = u.String()
	switch f.Auth {
	case "none":
	case pullKeep:
		if edit == nil || edit.Auth == "none" {
			return f, cr, "There is no credential to keep: choose none, a header or basic auth."
		}
	case "header":
		cr.Header, cr.Value = f.Header, r.PostFormValue("value")
		if !validHeaderName(cr.Header) {
			return f, cr, "The header name must be letters, digits and dashes (such as Authorization or X-Api-Key)."
		}
		if cr.Value == "" || len(cr.Value) > maxPullSecret || !printable(cr.Value) {
			return f, cr, fmt.Sprintf("Enter the header's value (at most %d printable characters).", maxPullSecret)
		}
	case "basic":
		cr.User, cr.Password = f.User, r.PostFormValue("password")
		if cr.User == "" || len(cr.User) > 255 || strings.Contains(cr.User, ":") || !printable(cr.User) {
			return f, cr, "Enter the user name (at most 255 characters, no colon)."
		}
		if len(cr.Password) > maxPullSecret || !printable(cr.Password) {
			return f, cr, fmt.Sprintf("The password must be at most %d printable characters.", maxPullSecret)
		}
	default:
		return f, cr, "Choose how the URL is reached: no credential, a header, or basic auth."
	}
	if f.Auth != "none" && f.Auth != pullKeep && s.conn == nil {
		return f, cr, "This server cannot keep credentials (PHANTOMOS_SECRET_KEY is not set)."
	}
	return f, cr, ""
}

// handlePullCreate creates a pull source and enqueues its first pull.
func (s *Server) handlePullCreate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := phantomos.ActorFrom(ctx)
	f, cr, msg := s.readPullForm(r, nil)
	if msg != "" {
		return s.renderPullForm(w, r, http.StatusUnprocessableEntity, f, nil, msg)
	}
	id, err := s.store.CreatePullSource(ctx, a.PublisherID, f.Name, store.PullSource{URL: f.URL, Kind: f.Kind, Format: f.Format, Auth: f.Auth, EveryMinutes: f.Every})
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return s.renderPullForm(w, r, http.StatusUnprocessableEntity, f, nil, phantomos.ErrorMessage(err))
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
	u, _ := url.Parse(f.URL)
	s.audit(r, a.PublisherID, "connector.pull.create", f.Name, map[string]any{"url": u.Redacted(), "kind": f.Kind, "every_minutes": f.Every, "auth": f.Auth})
	if s.jobs != nil {
		if _, _, err := s.jobs.EnqueueSync(ctx, a.PublisherID, id); err != nil {
			s.logger.Warn("enqueue first pull", "connector", id, "err", err)
		}
	}
	http.Redirect(w, r, "/connectors/"+id, http.StatusSeeOther)
	return nil
}

// handlePullEdit shows the settings of a pull source to change: what
// fixes a pull that fails because the file moved or the credential
// changed, without a new source (whose orders would be keyed apart).
func (s *Server) handlePullEdit(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	p, err := s.store.PullSource(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := pullForm{Name: p.Name, URL: p.URL, Kind: p.Kind, Format: p.Format, Auth: p.Auth, Every: p.EveryMinutes}
	if p.Auth != "none" {
		f.Auth = pullKeep
	}
	return s.renderPullForm(w, r, http.StatusOK, f, p, "")
}

// handlePullUpdate changes a pull source's settings and pulls it at once.
func (s *Server) handlePullUpdate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := phantomos.ActorFrom(ctx)
	p, err := s.store.PullSource(ctx, a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	f, cr, msg := s.readPullForm(r, p)
	if msg != "" {
		return s.renderPullForm(w, r, http.StatusUnprocessableEntity, f, p, msg)
	}
	auth := f.Auth
	if auth == pullKeep {
		auth = p.Auth
	} else if auth != "none" || p.Auth != "none" {
		// A new credential, or none any more: the old one is overwritten.
		if s.conn == nil {
			return s.renderPullForm(w, r, http.StatusUnprocessableEntity, f, p, "This server cannot keep credentials (PHANTOMOS_SECRET_KEY is not set).")
		}
		if err := s.conn.vault.Save(ctx, connector.Target{Publisher: a.PublisherID, ConnectorID: p.ConnectorID}, cr); err != nil {
			return err
		}
	}
	if err := s.store.UpdatePullSource(ctx, a.PublisherID, p.ConnectorID, store.PullSource{URL: f.URL, Format: f.Format, Auth: auth, EveryMinutes: f.Every}); err != nil {
		return err
	}
	u, _ := url.Parse(f.URL)
	s.audit(r, a.PublisherID, "connector.pull.update", p.Name, map[string]any{"url": u.Redacted(), "format": f.Format, "every_minutes": f.Every, "auth": auth,
		"credential_changed": f.Auth != pullKeep})
	if s.jobs != nil {
		if _, _, err := s.jobs.EnqueueSync(ctx, a.PublisherID, p.ConnectorID); err != nil {
			s.logger.Warn("enqueue pull", "connector", p.ConnectorID, "err", err)
		}
	}
	http.Redirect(w, r, "/connectors/"+p.ConnectorID, http.StatusSeeOther)
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
