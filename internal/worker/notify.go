package worker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/insights"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/notify"
	"github.com/phantomos/phantomos/internal/report"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
)

// Bounds of one sweep.
const (
	// maxAlertsPerSweep is how many immediate alerts one rule sends per
	// sweep; the rest follow in the next ones.
	maxAlertsPerSweep = 10
	// maxDigestAlerts bounds the alerts in one digest.
	maxDigestAlerts = 50
	// sweepInsights bounds the insights a sweep reads per publisher.
	sweepInsights = 500
	// staleDelivery is how long a pending delivery waits before the sweep
	// enqueues it again (its job was lost between commit and enqueue).
	staleDelivery = 30 * time.Minute
	// maxReportCSV bounds a scheduled report's attachment.
	maxReportCSV = 5 << 20
)

// jobBase is the address links in notifications start with: the
// configured base URL, else localhost on the listen port.
func (w *Worker) jobBase() string {
	if w.cfg.BaseURL != "" {
		return strings.TrimRight(w.cfg.BaseURL, "/")
	}
	_, port, err := net.SplitHostPort(w.cfg.Addr)
	if err != nil || port == "" || port == "0" {
		return "http://localhost"
	}
	return "http://localhost:" + port
}

// NotifySweep is the notification sweep job's work: for each publisher,
// new alerts for each rule (at once or in a due digest), the weekly
// digests of the ISO week and the scheduled reports of their period.
// Every message is first stored under its stable key, so a sweep run
// twice, or an insight found again, sends nothing twice.
func (w *Worker) NotifySweep(ctx context.Context) error {
	pubs, err := w.store.Publishers(ctx)
	if err != nil {
		return err
	}
	now := w.now()
	var errs []error
	for _, pub := range pubs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if pub.Settings.ExpiresAt != nil {
			continue // a demo copy: its visitor gets no mail
		}
		if err := w.sweepPublisher(ctx, pub, now); err != nil {
			w.logger.Warn("notify: sweep", "publisher", pub.ID, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *Worker) sweepPublisher(ctx context.Context, pub *phantomos.Publisher, now time.Time) error {
	users, err := w.store.Users(ctx, pub.ID)
	if err != nil {
		return err
	}
	active := map[string]*phantomos.User{}
	for _, u := range users {
		if u.DisabledAt == nil {
			active[u.ID] = u
		}
	}
	var added []string
	if err := w.sweepAlerts(ctx, pub, active, now, &added); err != nil {
		return err
	}
	if err := w.sweepWeekly(ctx, pub, now, &added); err != nil {
		return err
	}
	if err := w.sweepReports(ctx, pub, active, now, &added); err != nil {
		return err
	}
	stale, err := w.store.PendingDeliveries(ctx, pub.ID, now.Add(-staleDelivery), 100)
	if err != nil {
		return err
	}
	for _, d := range stale {
		added = append(added, d.ID)
	}
	return w.enqueueDeliveries(ctx, pub.ID, added)
}

func (w *Worker) enqueueDeliveries(ctx context.Context, pub phantomos.PublisherID, ids []string) error {
	if w.jobs == nil {
		return nil
	}
	for _, id := range ids {
		if err := w.jobs.EnqueueDelivery(ctx, pub, id); err != nil {
			return err
		}
	}
	return nil
}

// sweepAlerts records each rule's new alerts.
func (w *Worker) sweepAlerts(ctx context.Context, pub *phantomos.Publisher, active map[string]*phantomos.User, now time.Time, added *[]string) error {
	prefs, err := w.store.NotifyPrefs(ctx, pub.ID, "")
	if err != nil || len(prefs) == 0 {
		return err
	}
	list, err := w.store.Insights(ctx, pub.ID, store.InsightFilter{Status: store.InsightNew, Limit: sweepInsights})
	if err != nil {
		return err
	}
	// Oldest first, so that a capped sweep sends the oldest news first.
	slices.SortStableFunc(list, func(a, b *store.Insight) int { return a.CreatedAt.Compare(b.CreatedAt) })
	assets, err := w.store.Assets(ctx, pub.ID)
	if err != nil {
		return err
	}
	ipOf := map[string]string{}
	for _, a := range assets {
		ipOf[a.ID] = a.GameIPID
	}
	subjects := make([]notify.Subject, len(list))
	for i, in := range list {
		subjects[i] = subjectOf(in, ipOf)
	}
	base := w.jobBase()
	for _, p := range prefs {
		u := active[p.UserID]
		if u == nil {
			continue
		}
		covered, err := w.store.CoveredAlerts(ctx, pub.ID, p.ID)
		if err != nil {
			return err
		}
		var fresh []notify.Alert
		for i, in := range list {
			if in.Fingerprint == insights.SummaryFingerprint || covered[in.Fingerprint] || !notify.Matches(p, in.Type, in.Confidence, subjects[i]) {
				continue
			}
			fresh = append(fresh, notify.Alert{Fingerprint: in.Fingerprint, Kind: notify.KindOf(in.Type), Title: in.Title,
				Description: in.Description, Confidence: in.Confidence, Link: base + "/intelligence#insight-" + in.ID})
		}
		if len(fresh) == 0 {
			continue
		}
		payload := notify.Payload{Settings: base + "/settings/notifications"}
		if p.Channel == store.ChannelEmail {
			payload.To = cmp.Or(p.Target, u.Email)
		}
		if p.Rhythm == store.RhythmImmediate {
			for _, a := range fresh[:min(len(fresh), maxAlertsPerSweep)] {
				payload.Alerts = []notify.Alert{a}
				d := &store.Delivery{PrefID: p.ID, UserID: p.UserID, DedupKey: "alert:" + p.ID + ":" + a.Fingerprint, Kind: store.DeliveryAlert, Channel: p.Channel}
				if err := w.addDelivery(ctx, pub.ID, d, payload, []string{a.Fingerprint}, added); err != nil {
					return err
				}
			}
			continue
		}
		every := 24 * time.Hour
		if p.Rhythm == store.RhythmWeekly {
			every = 7 * 24 * time.Hour
		}
		if p.LastDigestAt != nil && now.Sub(*p.LastDigestAt) < every {
			continue
		}
		fresh = fresh[:min(len(fresh), maxDigestAlerts)]
		payload.Alerts = fresh
		payload.Label = fmt.Sprintf("%s digest: %d new insight%s", map[string]string{store.RhythmDaily: "Daily", store.RhythmWeekly: "Weekly"}[p.Rhythm],
			len(fresh), map[bool]string{true: "", false: "s"}[len(fresh) == 1])
		fps := make([]string, len(fresh))
		for i, a := range fresh {
			fps[i] = a.Fingerprint
		}
		d := &store.Delivery{PrefID: p.ID, UserID: p.UserID, DedupKey: "digest:" + p.ID + ":" + now.UTC().Format(time.RFC3339), Kind: store.DeliveryDigest, Channel: p.Channel}
		if err := w.addDelivery(ctx, pub.ID, d, payload, fps, added); err != nil {
			return err
		}
		if err := w.store.SetNotifyDigestAt(ctx, pub.ID, p.ID, now); err != nil {
			return err
		}
	}
	return nil
}

func (w *Worker) addDelivery(ctx context.Context, pub phantomos.PublisherID, d *store.Delivery, payload notify.Payload, fps []string, added *[]string) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	d.Payload = b
	ok, err := w.store.AddDelivery(ctx, pub, d, fps)
	if err != nil {
		return err
	}
	if ok {
		*added = append(*added, d.ID)
	}
	return nil
}

// subjectOf returns the game IPs and assets insight in is about: its
// subject and its figures' filters, with each asset's game IP.
func subjectOf(in *store.Insight, ipOf map[string]string) notify.Subject {
	var ev insights.Evidence
	var subj notify.Subject
	if json.Unmarshal(in.Evidence, &ev) != nil {
		return subj
	}
	addAsset := func(id string) {
		if id != "" && !slices.Contains(subj.Assets, id) {
			subj.Assets = append(subj.Assets, id)
			if ip := ipOf[id]; ip != "" && !slices.Contains(subj.GameIPs, ip) {
				subj.GameIPs = append(subj.GameIPs, ip)
			}
		}
	}
	addIP := func(id string) {
		if id != "" && !slices.Contains(subj.GameIPs, id) {
			subj.GameIPs = append(subj.GameIPs, id)
		}
	}
	switch ev.Subject.Kind {
	case "asset":
		addAsset(ev.Subject.ID)
	case "game_ip":
		addIP(ev.Subject.ID)
	}
	for _, f := range ev.Figures {
		addAsset(f.Filter.Asset)
		addIP(f.Filter.GameIP)
	}
	return subj
}

// isoWeek names the ISO week of t: 2026-W49.
func isoWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// sweepWeekly records the weekly digest of the current ISO week for each
// subscriber: the last seven days against the seven before.
func (w *Worker) sweepWeekly(ctx context.Context, pub *phantomos.Publisher, now time.Time, added *[]string) error {
	subs, err := w.store.WeeklyDigestUsers(ctx, pub.ID)
	if err != nil || len(subs) == 0 || w.notif == nil {
		return err
	}
	week := isoWeek(now.In(w.location(pub)))
	var weekly *notify.Weekly
	base := w.jobBase()
	for _, u := range subs {
		key := "weekly:" + u.UserID + ":" + week
		if weekly == nil {
			if weekly, err = w.weeklyContent(ctx, pub, now, base); err != nil {
				return err
			}
		}
		tok, err := notify.UnsubscribeToken(w.notif.keys, pub.ID, u.UserID)
		if err != nil {
			return err
		}
		payload := notify.Payload{To: u.Email, Weekly: weekly, Settings: base + "/settings/notifications", Unsubscribe: base + "/unsubscribe?t=" + url.QueryEscape(tok)}
		d := &store.Delivery{UserID: u.UserID, DedupKey: key, Kind: store.DeliveryWeekly, Channel: store.ChannelEmail}
		if err := w.addDelivery(ctx, pub.ID, d, payload, nil, added); err != nil {
			return err
		}
	}
	return nil
}

func (w *Worker) weeklyContent(ctx context.Context, pub *phantomos.Publisher, now time.Time, base string) (*notify.Weekly, error) {
	p, err := analytics.Range("7d", now, w.location(pub))
	if err != nil {
		return nil, err
	}
	cmp, hasCmp, err := analytics.Compare(p, analytics.ComparePrevious)
	if err != nil {
		return nil, err
	}
	o, err := analytics.BuildOverview(ctx, w.store, pub, p, cmp, hasCmp, store.Filter{})
	if err != nil {
		return nil, err
	}
	weekly := &notify.Weekly{Publisher: pub.Name, Currency: pub.ReportingCurrency, From: string(p.From), To: string(p.To), Net: o.Current.NetRevenue,
		Overview: base + "/overview?range=7d", Assets: base + "/assets?range=7d"}
	if o.Previous != nil {
		weekly.PrevNet = o.Previous.NetRevenue
	}
	for _, pt := range o.Trend {
		weekly.Days = append(weekly.Days, notify.DayAmount{Day: string(pt.Start), Amount: pt.NetRevenue})
	}
	ar, err := analytics.BuildAssetReport(ctx, w.store, pub, p, cmp, hasCmp, store.Filter{})
	if err != nil {
		return nil, err
	}
	for _, a := range ar.Assets {
		if len(weekly.TopAssets) == 5 || a.NetRevenue <= 0 {
			break
		}
		weekly.TopAssets = append(weekly.TopAssets, notify.Named{Name: a.Name, Amount: a.NetRevenue, Link: base + "/assets/" + a.ID + "?range=7d"})
	}
	since := now.Add(-7 * 24 * time.Hour)
	for _, typ := range []string{store.InsightRisk, store.InsightGrowth} {
		list, err := w.store.Insights(ctx, pub.ID, store.InsightFilter{Type: typ, Status: store.InsightNew, Limit: 50})
		if err != nil {
			return nil, err
		}
		for _, in := range list {
			if in.CreatedAt.Before(since) {
				continue
			}
			a := notify.Alert{Fingerprint: in.Fingerprint, Kind: notify.KindOf(in.Type), Title: in.Title, Confidence: in.Confidence, Link: base + "/intelligence#insight-" + in.ID}
			if typ == store.InsightRisk && len(weekly.Risks) < 5 {
				weekly.Risks = append(weekly.Risks, a)
			} else if typ == store.InsightGrowth && len(weekly.Openings) < 5 {
				weekly.Openings = append(weekly.Openings, a)
			}
		}
	}
	return weekly, nil
}

// reportPeriod names the period of schedule that now falls in.
func reportPeriod(schedule string, now time.Time) string {
	switch schedule {
	case "daily":
		return now.Format("2006-01-02")
	case "weekly":
		return isoWeek(now)
	default:
		return now.Format("2006-01")
	}
}

// sweepReports records each scheduled report due in this period: the
// view's CSV as its creator sees it, to each recipient still on the team.
func (w *Worker) sweepReports(ctx context.Context, pub *phantomos.Publisher, active map[string]*phantomos.User, now time.Time, added *[]string) error {
	reports, err := w.store.Reports(ctx, pub.ID)
	if err != nil {
		return err
	}
	base := w.jobBase()
	local := now.In(w.location(pub))
	for _, rp := range reports {
		period := reportPeriod(rp.Schedule, local)
		if rp.LastPeriod == period {
			continue
		}
		creator := active[rp.CreatedBy]
		if creator == nil || !creator.Role.Can(phantomos.PermTeam) {
			continue // its owner left or was demoted: nobody vouches for it
		}
		name, csv, err := w.reportCSV(ctx, pub, rp)
		if err != nil {
			w.logger.Warn("notify: report", "publisher", pub.ID, "report", rp.ID, "err", err)
			continue
		}
		emails := map[string]bool{}
		for _, u := range active {
			emails[u.Email] = true
		}
		for _, to := range rp.Recipients {
			if !emails[to] {
				continue // no longer on the team
			}
			payload := notify.Payload{To: to, Settings: base + "/settings/notifications",
				Report: &notify.Report{Name: rp.Name, Period: period, Filename: name, CSV: csv, Link: base + "/" + rp.View + queryPrefix(rp.Query)}}
			d := &store.Delivery{ReportID: rp.ID, DedupKey: "report:" + rp.ID + ":" + period + ":" + to, Kind: store.DeliveryReport, Channel: store.ChannelEmail}
			if err := w.addDelivery(ctx, pub.ID, d, payload, nil, added); err != nil {
				return err
			}
		}
		if err := w.store.SetReportPeriod(ctx, pub.ID, rp.ID, period); err != nil {
			return err
		}
	}
	return nil
}

func queryPrefix(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

// reportCSV renders report rp's view as CSV exactly as its page's export
// does. Its creator vouches for it: the figures are the publisher's, which
// every member sees.
func (w *Worker) reportCSV(ctx context.Context, pub *phantomos.Publisher, rp *store.Report) (string, string, error) {
	q, err := url.ParseQuery(rp.Query)
	if err != nil {
		return "", "", fmt.Errorf("report query: %w", err)
	}
	sp, err := report.Parse(q, w.now(), w.location(pub))
	if err != nil {
		return "", "", err
	}
	var (
		name string
		body []byte
	)
	if rp.View == "assets" {
		rep, err := analytics.BuildAssetReport(ctx, w.store, pub, sp.Period, sp.Compare, sp.HasCompare, sp.Filter)
		if err != nil {
			return "", "", err
		}
		name, body, err = report.AssetsCSV(pub, rep)
		if err != nil {
			return "", "", err
		}
	} else {
		o, err := analytics.BuildOverview(ctx, w.store, pub, sp.Period, sp.Compare, sp.HasCompare, sp.Filter)
		if err != nil {
			return "", "", err
		}
		name, body, err = report.OverviewCSV(pub, o)
		if err != nil {
			return "", "", err
		}
	}
	if len(body) > maxReportCSV {
		return "", "", fmt.Errorf("report CSV is %d bytes, more than %d", len(body), maxReportCSV)
	}
	return name, string(body), nil
}

// NotifyDeliver is the delivery job's work: one attempt at delivery id.
// A delivery already sent is left alone, so a repeated job sends nothing.
func (w *Worker) NotifyDeliver(ctx context.Context, pub phantomos.PublisherID, id string, final bool) error {
	d, err := w.store.Delivery(ctx, pub, id)
	if err != nil {
		return err
	}
	if d.Status != store.DeliveryPending {
		return nil
	}
	err = w.send(ctx, pub, d)
	if err != nil && phantomos.ErrorCode(err) != phantomos.EINTERNAL {
		final = true // a rule gone or invalid: no retry mends it
		err = jobs.Permanent(err)
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if rerr := w.store.DeliveryAttempt(ctx, pub, id, msg, final); rerr != nil {
		return rerr
	}
	return err
}

func (w *Worker) send(ctx context.Context, pub phantomos.PublisherID, d *store.Delivery) error {
	var p notify.Payload
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return fmt.Errorf("delivery payload: %w", err)
	}
	switch d.Channel {
	case store.ChannelEmail:
		if w.mailer == nil {
			return errors.New("email is not configured on this server (PHANTOMOS_SMTP_URL)")
		}
		switch d.Kind {
		case store.DeliveryWeekly:
			m, err := notify.WeeklyEmail(&p)
			if err != nil {
				return err
			}
			return w.mailer.Send(ctx, m)
		case store.DeliveryReport:
			return w.mailer.Send(ctx, notify.ReportEmail(&p))
		default:
			m, err := notify.AlertEmail(&p)
			if err != nil {
				return err
			}
			return w.mailer.Send(ctx, m)
		}
	case store.ChannelWebhook, store.ChannelSlack:
		if w.notif == nil {
			return errors.New("webhooks are not enabled on this server")
		}
		if d.PrefID == "" {
			return phantomos.Errorf(phantomos.ENOTFOUND, "The notification rule was deleted.")
		}
		pref, err := w.store.NotifyPref(ctx, pub, d.PrefID)
		if err != nil {
			return err
		}
		sec, err := w.notif.keys.OpenFor(pref.Secret, pref.SecretKeyID, SecretAD(pub, pref.UserID))
		if err != nil {
			return fmt.Errorf("open the rule's secret: %w", err)
		}
		if d.Channel == store.ChannelSlack {
			body, err := notify.SlackMessage(p.Label, p.Alerts)
			if err != nil {
				return err
			}
			return w.notif.sender.Post(ctx, string(sec), nil, body)
		}
		return w.notif.sender.SendWebhook(ctx, pref.Target, string(sec), d.ID, w.now(), map[string]any{"label": p.Label, "alerts": p.Alerts})
	}
	return phantomos.Errorf(phantomos.EINVALID, "Unknown channel %q.", d.Channel)
}

// SecretAD binds a rule's sealed secret to its publisher and user.
func SecretAD(pub phantomos.PublisherID, userID string) []byte {
	return []byte("phantomos notify secret|" + string(pub) + "|" + userID)
}

// NotifyOptions configure notifications.
type NotifyOptions struct {
	// AllowPrivateTargets lets webhook and Slack rules reach loopback and
	// private addresses. Production never sets it (a rule must not reach
	// the deployment's own network); tests do, to reach their receivers.
	AllowPrivateTargets bool
}

// notifier is what notifications need beyond the store: keys to open
// webhook secrets and Slack URLs and to make unsubscribe tokens, and the
// webhook sender.
type notifier struct {
	keys   *secret.Keyring
	sender notify.Sender
}

// EnableNotifications turns on the delivery of webhook and Slack rules
// and the weekly digest's unsubscribe links, with keys opening their
// secrets.
func (w *Worker) EnableNotifications(keys *secret.Keyring, opts NotifyOptions) {
	w.notif = &notifier{keys: keys, sender: notify.Sender{AllowPrivate: opts.AllowPrivateTargets}}
}
