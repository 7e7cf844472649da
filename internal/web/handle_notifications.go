package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/notify"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/worker"
)

// notificationsPage is Settings → Notifications.
type notificationsPage struct {
	Saved, Error string
	// NewSecret is a webhook rule's signing secret, shown once.
	NewSecret    string
	Rules        []ruleRow
	Deliveries   []deliveryRow
	WeeklyDigest bool
	Kinds        []string
	GameIPs      []*phantomos.GameIP
	Assets       []*phantomos.Asset
	Webhooks     bool // webhook and Slack rules can be made
	Email        bool // the server sends email
	MaxRules     int
	// Reports are the team's scheduled reports (owners and admins).
	Reports  []*store.Report
	CanTeam  bool
	Recently []string
}

type ruleRow struct {
	ID, Kinds, Scope, Confidence, Channel, Target, Rhythm string
	// Failure is the last failed delivery of the rule, if any.
	Failure string
}

type deliveryRow struct {
	When, What, Channel, Status, Error string
	Attempts                           int
}

func (s *Server) handleNotifications(w http.ResponseWriter, r *http.Request) error {
	return s.renderNotifications(w, r, http.StatusOK, notificationsPage{})
}

func (s *Server) renderNotifications(w http.ResponseWriter, r *http.Request, status int, d notificationsPage) error {
	a := phantomos.ActorFrom(r.Context())
	ctx := r.Context()
	prefs, err := s.store.NotifyPrefs(ctx, a.PublisherID, a.UserID)
	if err != nil {
		return err
	}
	deliveries, err := s.store.UserDeliveries(ctx, a.PublisherID, a.UserID, 20)
	if err != nil {
		return err
	}
	if d.GameIPs, err = s.store.GameIPs(ctx, a.PublisherID); err != nil {
		return err
	}
	if d.Assets, err = s.store.Assets(ctx, a.PublisherID); err != nil {
		return err
	}
	names := map[string]string{}
	for _, g := range d.GameIPs {
		names[g.ID] = g.Name
	}
	for _, as := range d.Assets {
		names[as.ID] = as.Name
	}
	failures := map[string]string{}
	for _, dl := range deliveries {
		if dl.Status == store.DeliveryFailed && dl.PrefID != "" && failures[dl.PrefID] == "" {
			failures[dl.PrefID] = "Failed " + dl.UpdatedAt.Format("2 Jan 15:04") + " UTC after " + strconv.Itoa(dl.Attempts) + " attempts: " + dl.LastError
		}
	}
	for _, p := range prefs {
		row := ruleRow{ID: p.ID, Kinds: strings.Join(p.Kinds, ", "), Confidence: notify.Percent(p.MinConfidence), Channel: p.Channel,
			Target: p.Target, Rhythm: p.Rhythm, Failure: failures[p.ID]}
		var scope []string
		for _, id := range append(slices.Clone(p.GameIPs), p.Assets...) {
			scope = append(scope, cmp.Or(names[id], "(removed)"))
		}
		row.Scope = "All game IPs and assets"
		if len(scope) > 0 {
			row.Scope = strings.Join(scope, ", ")
		}
		if p.Channel == store.ChannelEmail && p.Target == "" {
			row.Target = a.Email
		}
		d.Rules = append(d.Rules, row)
	}
	for _, dl := range deliveries {
		row := deliveryRow{When: dl.CreatedAt.Format("2 Jan 15:04"), Channel: dl.Channel, Status: dl.Status, Error: dl.LastError, Attempts: dl.Attempts}
		row.What = map[string]string{store.DeliveryAlert: "Alert", store.DeliveryDigest: "Digest", store.DeliveryWeekly: "Weekly digest", store.DeliveryReport: "Report"}[dl.Kind]
		d.Deliveries = append(d.Deliveries, row)
	}
	nu, err := s.store.NotifyUser(ctx, a.PublisherID, a.UserID)
	if err != nil {
		return err
	}
	d.WeeklyDigest = nu.WeeklyDigest
	d.Kinds, d.Webhooks, d.Email, d.MaxRules = notify.Kinds, s.notif != nil, s.work.Mailer() != nil, store.MaxNotifyPrefsPerUser
	d.CanTeam = a.Role.Can(phantomos.PermTeam)
	if d.CanTeam {
		if d.Reports, err = s.store.Reports(ctx, a.PublisherID); err != nil {
			return err
		}
	}
	return s.render(w, status, "notifications", s.pageDataWith(r, "Notifications", "settings", d))
}

// pageDataWith is pageData with its Data set.
func (s *Server) pageDataWith(r *http.Request, title, active string, data any) *page {
	p := s.pageData(r, title, active)
	p.Data = data
	return p
}

// handleNotificationCreate adds a rule for the signed-in user.
func (s *Server) handleNotificationCreate(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	fail := func(status int, msg string) error {
		return s.renderNotifications(w, r, status, notificationsPage{Error: msg})
	}
	if err := s.ownSettings(r); err != nil {
		return formError(err, fail)
	}
	f := r.PostForm
	conf, err := strconv.ParseFloat(cmp.Or(strings.TrimSpace(f.Get("min_confidence")), "0"), 64)
	if err != nil {
		return fail(http.StatusUnprocessableEntity, "Minimum confidence must be a number from 0 to 100.")
	}
	p := &store.NotifyPref{UserID: a.UserID, Kinds: f["kind"], MinConfidence: conf / 100, Channel: f.Get("channel"), Rhythm: f.Get("rhythm")}
	for _, id := range f["scope"] {
		kind, id, _ := strings.Cut(id, ":")
		switch kind {
		case "ip":
			p.GameIPs = append(p.GameIPs, id)
		case "asset":
			p.Assets = append(p.Assets, id)
		}
	}
	if err := notify.Validate(p); err != nil {
		return formError(err, fail)
	}
	if err := s.checkScope(r, p); err != nil {
		return formError(err, fail)
	}
	target := strings.TrimSpace(f.Get("target"))
	shown := ""
	switch p.Channel {
	case store.ChannelEmail:
		// Email goes to the user's own address: a rule cannot mail others.
		p.Target = ""
	case store.ChannelWebhook, store.ChannelSlack:
		if s.notif == nil {
			return fail(http.StatusUnprocessableEntity, "Webhooks are not enabled on this server.")
		}
		u, err := s.notif.sender.CheckTarget(target)
		if err != nil {
			return formError(err, fail)
		}
		sec := target
		if p.Channel == store.ChannelWebhook {
			sec = notify.NewSecret()
			shown, p.Target = sec, target
		} else {
			if !s.notif.opts.AllowPrivateTargets && (u.Host != "hooks.slack.com" || !strings.HasPrefix(u.Path, "/services/")) {
				return fail(http.StatusUnprocessableEntity, "A Slack incoming webhook URL starts with https://hooks.slack.com/services/.")
			}
			p.Target = u.Host + "/…" // the path is the secret
		}
		ct, keyID, err := s.notif.keys.SealFor([]byte(sec), worker.SecretAD(a.PublisherID, a.UserID))
		if err != nil {
			return err
		}
		p.Secret, p.SecretKeyID = ct, keyID
	}
	if err := s.store.CreateNotifyPref(r.Context(), a.PublisherID, p); err != nil {
		return formError(err, fail)
	}
	s.audit(r, a.PublisherID, "notify.rule_create", p.ID, map[string]any{"channel": p.Channel, "rhythm": p.Rhythm, "kinds": p.Kinds})
	saved := "Rule added."
	if shown != "" {
		saved = "Rule added. Copy the signing secret now: it is shown only once."
	}
	return s.renderNotifications(w, r, http.StatusOK, notificationsPage{Saved: saved, NewSecret: shown})
}

// ownSettings refuses API keys (they have no user) and the demo's shared
// account.
func (s *Server) ownSettings(r *http.Request) error {
	if err := readOnlyAccount(r); err != nil {
		return err
	}
	if phantomos.ActorFrom(r.Context()).UserID == "" {
		return phantomos.Errorf(phantomos.EFORBIDDEN, "Notifications belong to a signed-in person, not an API key.")
	}
	return nil
}

// checkScope checks that a rule's game IPs and assets are the publisher's.
func (s *Server) checkScope(r *http.Request, p *store.NotifyPref) error {
	if len(p.GameIPs)+len(p.Assets) == 0 {
		return nil
	}
	a := phantomos.ActorFrom(r.Context())
	ips, err := s.store.GameIPs(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	assets, err := s.store.Assets(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, g := range ips {
		known["ip:"+g.ID] = true
	}
	for _, as := range assets {
		known["asset:"+as.ID] = true
	}
	for _, id := range p.GameIPs {
		if !known["ip:"+id] {
			return phantomos.Errorf(phantomos.EINVALID, "Game IP %s is not in your catalog.", id)
		}
	}
	for _, id := range p.Assets {
		if !known["asset:"+id] {
			return phantomos.Errorf(phantomos.EINVALID, "Asset %s is not in your catalog.", id)
		}
	}
	return nil
}

func (s *Server) handleNotificationDelete(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if err := s.ownSettings(r); err != nil {
		return err
	}
	if err := s.store.DeleteNotifyPref(r.Context(), a.PublisherID, a.UserID, r.PathValue("id")); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "notify.rule_delete", r.PathValue("id"), nil)
	http.Redirect(w, r, "/settings/notifications", http.StatusSeeOther)
	return nil
}

func (s *Server) handleWeeklyDigest(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	fail := func(status int, msg string) error {
		return s.renderNotifications(w, r, status, notificationsPage{Error: msg})
	}
	if err := s.ownSettings(r); err != nil {
		return formError(err, fail)
	}
	on := r.PostFormValue("weekly") == "on"
	if err := s.store.SetWeeklyDigest(r.Context(), a.PublisherID, a.UserID, on); err != nil {
		return formError(err, fail)
	}
	msg := "You will get the weekly digest by email."
	if !on {
		msg = "The weekly digest is off."
	}
	return s.renderNotifications(w, r, http.StatusOK, notificationsPage{Saved: msg})
}

// maxReportQuery bounds a saved view's query string.
const maxReportQuery = 1000

// handleReportCreate saves an Overview or Assets view as a scheduled
// report (owners and admins).
func (s *Server) handleReportCreate(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	fail := func(status int, msg string) error {
		return s.renderNotifications(w, r, status, notificationsPage{Error: msg})
	}
	if err := s.ownSettings(r); err != nil {
		return formError(err, fail)
	}
	f := r.PostForm
	rp := &store.Report{CreatedBy: a.UserID, Name: strings.TrimSpace(f.Get("name")), View: f.Get("view"), Schedule: f.Get("schedule")}
	if rp.View != "overview" && rp.View != "assets" {
		return fail(http.StatusUnprocessableEntity, "A report saves the Overview or the Assets view.")
	}
	if rp.Name == "" || len(rp.Name) > 100 {
		return fail(http.StatusUnprocessableEntity, "A report needs a name of at most 100 characters.")
	}
	if rp.Schedule != "daily" && rp.Schedule != "weekly" && rp.Schedule != "monthly" {
		return fail(http.StatusUnprocessableEntity, "The schedule must be daily, weekly or monthly.")
	}
	q := strings.TrimPrefix(f.Get("query"), "?")
	if len(q) > maxReportQuery {
		return fail(http.StatusUnprocessableEntity, "The view's filters are too long to save.")
	}
	// The view must parse as the page would read it.
	vals, err := url.ParseQuery(q)
	if err != nil {
		return fail(http.StatusUnprocessableEntity, "The view's filters are not a valid query.")
	}
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	probe, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "/"+rp.View+"?"+vals.Encode(), nil)
	v, err := s.parseView(probe, pub)
	if err != nil {
		return formError(err, fail)
	}
	rp.Query = strings.TrimPrefix(v.QueryString(), "?")
	users, err := s.store.Users(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	team := map[string]bool{}
	for _, u := range users {
		if u.DisabledAt == nil {
			team[u.Email] = true
		}
	}
	for _, e := range strings.FieldsFunc(f.Get("recipients"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' }) {
		e = strings.ToLower(e)
		if len(rp.Recipients) == store.MaxReportRecipients {
			return fail(http.StatusUnprocessableEntity, "A report goes to at most "+strconv.Itoa(store.MaxReportRecipients)+" people.")
		}
		if !team[e] {
			return fail(http.StatusUnprocessableEntity, "Reports go to team members only: "+strconvQuoteShort(e)+" is not on your team.")
		}
		if !slices.Contains(rp.Recipients, e) {
			rp.Recipients = append(rp.Recipients, e)
		}
	}
	if len(rp.Recipients) == 0 {
		rp.Recipients = []string{a.Email}
	}
	if err := s.store.CreateReport(r.Context(), a.PublisherID, rp); err != nil {
		return formError(err, fail)
	}
	s.audit(r, a.PublisherID, "notify.report_create", rp.ID, map[string]any{"view": rp.View, "schedule": rp.Schedule, "recipients": rp.Recipients})
	return s.renderNotifications(w, r, http.StatusOK, notificationsPage{Saved: "Report “" + rp.Name + "” saved: it is emailed " + rp.Schedule + " as CSV."})
}

func strconvQuoteShort(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strconv.Quote(s)
}

func (s *Server) handleReportDelete(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if err := readOnlyAccount(r); err != nil {
		return err
	}
	if err := s.store.DeleteReport(r.Context(), a.PublisherID, r.PathValue("id")); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "notify.report_delete", r.PathValue("id"), nil)
	http.Redirect(w, r, "/settings/notifications#reports", http.StatusSeeOther)
	return nil
}

// unsubscribePage is the public page of the weekly digest's unsubscribe
// link.
type unsubscribePage struct {
	Token string
	Done  bool
	Error string
}

// handleUnsubscribePage shows a button rather than unsubscribing at once:
// mail scanners open links, and must not unsubscribe people.
func (s *Server) handleUnsubscribePage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("t")
	d := unsubscribePage{Token: tok}
	status := http.StatusOK
	if s.notif == nil {
		d.Error, status = "This link is not valid.", http.StatusNotFound
	} else if _, _, err := notify.OpenUnsubscribeToken(s.notif.keys, tok); err != nil {
		d.Error, status = phantomos.ErrorMessage(err), http.StatusNotFound
	}
	return s.render(w, status, "unsubscribe", s.pageDataWith(r, "Unsubscribe", "", d))
}

// handleUnsubscribe turns the weekly digest off for the token's user,
// without signing in; mail clients' one-click unsubscribe (RFC 8058)
// posts here too.
func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("t")
	if tok == "" {
		tok = r.PostFormValue("t")
	}
	if s.notif == nil {
		return phantomos.Errorf(phantomos.ENOTFOUND, "This unsubscribe link is not valid.")
	}
	pub, user, err := notify.OpenUnsubscribeToken(s.notif.keys, tok)
	if err != nil {
		return err
	}
	if err := s.store.SetWeeklyDigest(r.Context(), pub, user, false); err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "unsubscribe", s.pageDataWith(r, "Unsubscribe", "", unsubscribePage{Done: true}))
}
