package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

// Notification channels, rhythms and delivery states, as the notify_*
// tables allow them.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"

	RhythmImmediate = "immediate"
	RhythmDaily     = "daily"
	RhythmWeekly    = "weekly"

	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"

	DeliveryAlert  = "alert"
	DeliveryDigest = "digest"
	DeliveryWeekly = "weekly"
	DeliveryReport = "report"
)

// Bounds of what one user or publisher keeps.
const (
	MaxNotifyPrefsPerUser  = 10
	MaxReportsPerPublisher = 20
	MaxNotifyScope         = 50 // game IPs plus assets of one rule
	MaxReportRecipients    = 10
)

// NotifyPref is one notification rule of one user.
type NotifyPref struct {
	ID            string
	UserID        string
	Kinds         []string // risk, trend, opportunity, forecast
	GameIPs       []string // empty with Assets: everything
	Assets        []string
	MinConfidence float64
	Channel       string
	// Target is the email address (empty: the user's own) or the webhook
	// URL; for Slack, whose URL is itself the secret, a label.
	Target string
	// Secret is sealed (internal/secret): the webhook's signing secret or
	// the Slack URL; SecretKeyID names the key that sealed it.
	Secret       []byte
	SecretKeyID  string
	Rhythm       string
	LastDigestAt *time.Time
	CreatedAt    time.Time
}

const notifyPrefColumns = `id, user_id, kinds, game_ips, assets, min_confidence, channel, target, secret, secret_key_id, rhythm, last_digest_at, created_at`

func scanNotifyPref(r rowScanner) (*NotifyPref, error) {
	var p NotifyPref
	var kinds, gips, assets string
	var last sql.NullTime
	if err := r.Scan(&p.ID, &p.UserID, &kinds, &gips, &assets, &p.MinConfidence, &p.Channel, &p.Target, &p.Secret, &p.SecretKeyID, &p.Rhythm, &last, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.Kinds = strings.Split(kinds, ",")
	if err := json.Unmarshal([]byte(gips), &p.GameIPs); err != nil {
		return nil, fmt.Errorf("store: notify pref %s game IPs: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(assets), &p.Assets); err != nil {
		return nil, fmt.Errorf("store: notify pref %s assets: %w", p.ID, err)
	}
	if last.Valid {
		t := last.Time.UTC()
		p.LastDigestAt = &t
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return &p, nil
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// CreateNotifyPref stores rule p of user p.UserID of publisher pub; a
// user keeps at most MaxNotifyPrefsPerUser. The caller validates the
// values (internal/notify).
func (s *Store) CreateNotifyPref(ctx context.Context, pub phantomos.PublisherID, p *NotifyPref) error {
	if len(p.GameIPs)+len(p.Assets) > MaxNotifyScope {
		return phantomos.Errorf(phantomos.EINVALID, "A rule names at most %d game IPs and assets.", MaxNotifyScope)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_prefs WHERE publisher_id = $1 AND user_id = $2`, pub, p.UserID).Scan(&n); err != nil {
			return fmt.Errorf("store: count notify prefs: %w", err)
		}
		if n >= MaxNotifyPrefsPerUser {
			return phantomos.Errorf(phantomos.ECONFLICT, "You have %d notification rules, the most one person may keep. Delete one first.", n)
		}
		now := s.nowUTC()
		p.ID, p.CreatedAt = phantomos.NewID(), now
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_prefs (id, publisher_id, user_id, kinds, game_ips, assets, min_confidence, channel, target, secret, secret_key_id, rhythm, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
			p.ID, pub, p.UserID, strings.Join(p.Kinds, ","), jsonList(p.GameIPs), jsonList(p.Assets), p.MinConfidence, p.Channel, p.Target, p.Secret, p.SecretKeyID, p.Rhythm, now)
		if err != nil {
			return fmt.Errorf("store: create notify pref: %w", err)
		}
		return nil
	})
}

// NotifyPrefs returns the rules of user userID of publisher pub, or of
// every user when userID is empty, oldest first.
func (s *Store) NotifyPrefs(ctx context.Context, pub phantomos.PublisherID, userID string) ([]*NotifyPref, error) {
	q := `SELECT ` + notifyPrefColumns + ` FROM notify_prefs WHERE publisher_id = $1`
	args := []any{pub}
	if userID != "" {
		if !phantomos.ValidID(userID) {
			return nil, nil
		}
		q += ` AND user_id = $2`
		args = append(args, userID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: notify prefs: %w", err)
	}
	defer rows.Close()
	var out []*NotifyPref
	for rows.Next() {
		p, err := scanNotifyPref(rows)
		if err != nil {
			return nil, fmt.Errorf("store: notify prefs: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// NotifyPref returns rule id of publisher pub.
func (s *Store) NotifyPref(ctx context.Context, pub phantomos.PublisherID, id string) (*NotifyPref, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Notification rule not found.")
	}
	p, err := scanNotifyPref(s.db.QueryRowContext(ctx, `SELECT `+notifyPrefColumns+` FROM notify_prefs WHERE publisher_id = $1 AND id = $2`, pub, id))
	if err != nil {
		return nil, notFound(err, "Notification rule")
	}
	return p, nil
}

// DeleteNotifyPref removes rule id of user userID of publisher pub.
func (s *Store) DeleteNotifyPref(ctx context.Context, pub phantomos.PublisherID, userID, id string) error {
	if !phantomos.ValidID(id) || !phantomos.ValidID(userID) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Notification rule not found.")
	}
	res, err := s.exec(ctx, `DELETE FROM notify_prefs WHERE publisher_id = $1 AND user_id = $2 AND id = $3`, pub, userID, id)
	if err != nil {
		return fmt.Errorf("store: delete notify pref: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Notification rule not found.")
	}
	return nil
}

// SetNotifyDigestAt records when rule id last had its digest.
func (s *Store) SetNotifyDigestAt(ctx context.Context, pub phantomos.PublisherID, id string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE notify_prefs SET last_digest_at = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`,
		pub, id, at.UTC().Truncate(time.Microsecond), s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: notify digest time: %w", err)
	}
	return nil
}

// NotifyUser is a user's weekly digest subscription.
type NotifyUser struct {
	UserID         string
	Email          string
	Name           string
	WeeklyDigest   bool
	UnsubscribedAt *time.Time
}

// NotifyUser returns user userID's subscription (off when never set).
func (s *Store) NotifyUser(ctx context.Context, pub phantomos.PublisherID, userID string) (*NotifyUser, error) {
	u := &NotifyUser{UserID: userID}
	if !phantomos.ValidID(userID) {
		return u, nil
	}
	var unsub sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT weekly_digest, unsubscribed_at FROM notify_users WHERE publisher_id = $1 AND user_id = $2`, pub, userID).Scan(&u.WeeklyDigest, &unsub)
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("store: notify user: %w", err)
	}
	if unsub.Valid {
		t := unsub.Time.UTC()
		u.UnsubscribedAt = &t
	}
	return u, nil
}

// SetWeeklyDigest turns user userID's weekly digest on or off; turning it
// off records the time (the unsubscribe link does the same).
func (s *Store) SetWeeklyDigest(ctx context.Context, pub phantomos.PublisherID, userID string, on bool) error {
	if !phantomos.ValidID(userID) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "User not found.")
	}
	now := s.nowUTC()
	var unsub any
	if !on {
		unsub = now
	}
	res, err := s.exec(ctx, `INSERT INTO notify_users (publisher_id, user_id, weekly_digest, unsubscribed_at, updated_at)
		SELECT $1, id, $3, $4, $5 FROM users WHERE publisher_id = $1 AND id = $2
		ON CONFLICT (publisher_id, user_id) DO UPDATE SET weekly_digest = excluded.weekly_digest, unsubscribed_at = excluded.unsubscribed_at, updated_at = excluded.updated_at`,
		pub, userID, on, unsub, now)
	if err != nil {
		return fmt.Errorf("store: weekly digest: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return phantomos.Errorf(phantomos.ENOTFOUND, "User not found.")
	}
	return nil
}

// WeeklyDigestUsers returns publisher pub's active users who want the
// weekly digest.
func (s *Store) WeeklyDigestUsers(ctx context.Context, pub phantomos.PublisherID) ([]*NotifyUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u.id, u.email, u.name FROM notify_users n JOIN users u ON u.id = n.user_id AND u.publisher_id = n.publisher_id
		WHERE n.publisher_id = $1 AND n.weekly_digest AND u.disabled_at IS NULL ORDER BY u.email`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: weekly digest users: %w", err)
	}
	defer rows.Close()
	var out []*NotifyUser
	for rows.Next() {
		u := &NotifyUser{WeeklyDigest: true}
		if err := rows.Scan(&u.UserID, &u.Email, &u.Name); err != nil {
			return nil, fmt.Errorf("store: weekly digest users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Report is an Overview or Assets view emailed as CSV on a schedule.
type Report struct {
	ID         string
	CreatedBy  string
	Name       string
	View       string // overview or assets
	Query      string // the page's URL query: its filters and period
	Schedule   string // daily, weekly or monthly
	Recipients []string
	LastPeriod string // the last period sent, e.g. 2026-12-06, 2026-W49, 2026-12
	CreatedAt  time.Time
}

const reportColumns = `id, COALESCE(CAST(created_by AS TEXT), ''), name, view, query, schedule, recipients, last_period, created_at`

func scanReport(r rowScanner) (*Report, error) {
	var rp Report
	var rec string
	if err := r.Scan(&rp.ID, &rp.CreatedBy, &rp.Name, &rp.View, &rp.Query, &rp.Schedule, &rec, &rp.LastPeriod, &rp.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rec), &rp.Recipients); err != nil {
		return nil, fmt.Errorf("store: report %s recipients: %w", rp.ID, err)
	}
	rp.CreatedAt = rp.CreatedAt.UTC()
	return &rp, nil
}

// CreateReport stores rp for publisher pub; a publisher keeps at most
// MaxReportsPerPublisher. The caller validates the values.
func (s *Store) CreateReport(ctx context.Context, pub phantomos.PublisherID, rp *Report) error {
	if len(rp.Recipients) == 0 || len(rp.Recipients) > MaxReportRecipients {
		return phantomos.Errorf(phantomos.EINVALID, "A report goes to 1 to %d team members.", MaxReportRecipients)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_reports WHERE publisher_id = $1`, pub).Scan(&n); err != nil {
			return fmt.Errorf("store: count reports: %w", err)
		}
		if n >= MaxReportsPerPublisher {
			return phantomos.Errorf(phantomos.ECONFLICT, "Your team has %d scheduled reports, the most it may keep. Delete one first.", n)
		}
		now := s.nowUTC()
		rp.ID, rp.CreatedAt = phantomos.NewID(), now
		var by any
		if rp.CreatedBy != "" {
			by = rp.CreatedBy
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_reports (id, publisher_id, created_by, name, view, query, schedule, recipients, last_period, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
			rp.ID, pub, by, rp.Name, rp.View, rp.Query, rp.Schedule, jsonList(rp.Recipients), rp.LastPeriod, now)
		if err != nil {
			return fmt.Errorf("store: create report: %w", err)
		}
		return nil
	})
}

// Reports returns publisher pub's scheduled reports, oldest first.
func (s *Store) Reports(ctx context.Context, pub phantomos.PublisherID) ([]*Report, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+reportColumns+` FROM notify_reports WHERE publisher_id = $1 ORDER BY created_at, id`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: reports: %w", err)
	}
	defer rows.Close()
	var out []*Report
	for rows.Next() {
		rp, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("store: reports: %w", err)
		}
		out = append(out, rp)
	}
	return out, rows.Err()
}

// DeleteReport removes report id of publisher pub.
func (s *Store) DeleteReport(ctx context.Context, pub phantomos.PublisherID, id string) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Report not found.")
	}
	res, err := s.exec(ctx, `DELETE FROM notify_reports WHERE publisher_id = $1 AND id = $2`, pub, id)
	if err != nil {
		return fmt.Errorf("store: delete report: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Report not found.")
	}
	return nil
}

// SetReportPeriod records that report id was sent for period.
func (s *Store) SetReportPeriod(ctx context.Context, pub phantomos.PublisherID, id, period string) error {
	_, err := s.exec(ctx, `UPDATE notify_reports SET last_period = $3, updated_at = $4 WHERE publisher_id = $1 AND id = $2`, pub, id, period, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: report period: %w", err)
	}
	return nil
}

// Delivery is one message to send, with its stable identity DedupKey.
type Delivery struct {
	ID        string
	PrefID    string
	UserID    string
	ReportID  string
	DedupKey  string
	Kind      string // alert, digest, weekly, report
	Channel   string
	Payload   json.RawMessage // belongs to internal/notify
	Status    string
	Attempts  int
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
	SentAt    *time.Time
}

const deliveryColumns = `id, COALESCE(CAST(pref_id AS TEXT), ''), COALESCE(CAST(user_id AS TEXT), ''), COALESCE(CAST(report_id AS TEXT), ''),
	dedup_key, kind, channel, payload, status, attempts, last_error, created_at, updated_at, sent_at`

func scanDelivery(r rowScanner) (*Delivery, error) {
	var d Delivery
	var payload string
	var sent sql.NullTime
	if err := r.Scan(&d.ID, &d.PrefID, &d.UserID, &d.ReportID, &d.DedupKey, &d.Kind, &d.Channel, &payload, &d.Status, &d.Attempts, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &sent); err != nil {
		return nil, err
	}
	d.Payload = json.RawMessage(payload)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	if sent.Valid {
		t := sent.Time.UTC()
		d.SentAt = &t
	}
	return &d, nil
}

// AddDelivery stores d, pending, unless publisher pub already has one of
// the same DedupKey: it reports whether d was added. The fingerprints are
// the insights d covers for its rule (none for weekly digests and
// reports); a rule covers each fingerprint once, so an insight found
// again is never sent again.
func (s *Store) AddDelivery(ctx context.Context, pub phantomos.PublisherID, d *Delivery, fingerprints []string) (bool, error) {
	if len(d.DedupKey) > 300 {
		return false, fmt.Errorf("store: delivery key too long")
	}
	added := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.nowUTC()
		d.ID, d.Status, d.Attempts, d.CreatedAt, d.UpdatedAt = phantomos.NewID(), DeliveryPending, 0, now, now
		res, err := tx.ExecContext(ctx, `INSERT INTO notify_deliveries (id, publisher_id, pref_id, user_id, report_id, dedup_key, kind, channel, payload, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (publisher_id, dedup_key) DO NOTHING`,
			d.ID, pub, nullID(d.PrefID), nullID(d.UserID), nullID(d.ReportID), d.DedupKey, d.Kind, d.Channel, string(d.Payload), d.Status, now)
		if err != nil {
			return fmt.Errorf("store: add delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		for _, fp := range fingerprints {
			res, err := tx.ExecContext(ctx, `INSERT INTO notify_alerts (publisher_id, pref_id, fingerprint, delivery_id, created_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pref_id, fingerprint) DO NOTHING`, pub, d.PrefID, fp, d.ID, now)
			if err != nil {
				return fmt.Errorf("store: add delivery alert: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				// Covered meanwhile: the whole delivery would repeat it.
				return errCovered
			}
		}
		added = true
		return nil
	})
	if err == errCovered {
		return false, nil
	}
	return added, err
}

var errCovered = fmt.Errorf("store: alert already covered")

// CoveredAlerts returns the fingerprints rule prefID has already covered.
func (s *Store) CoveredAlerts(ctx context.Context, pub phantomos.PublisherID, prefID string) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT fingerprint FROM notify_alerts WHERE publisher_id = $1 AND pref_id = $2`, pub, prefID)
	if err != nil {
		return nil, fmt.Errorf("store: covered alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			return nil, fmt.Errorf("store: covered alerts: %w", err)
		}
		out[fp] = true
	}
	return out, rows.Err()
}

// Delivery returns delivery id of publisher pub.
func (s *Store) Delivery(ctx context.Context, pub phantomos.PublisherID, id string) (*Delivery, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Delivery not found.")
	}
	d, err := scanDelivery(s.db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries WHERE publisher_id = $1 AND id = $2`, pub, id))
	if err != nil {
		return nil, notFound(err, "Delivery")
	}
	return d, nil
}

// DeliveryAttempt records one attempt at delivery id: sent when errText
// is empty, else failed for good when final, else still pending.
func (s *Store) DeliveryAttempt(ctx context.Context, pub phantomos.PublisherID, id, errText string, final bool) error {
	now := s.nowUTC()
	status, sent := DeliveryPending, any(nil)
	switch {
	case errText == "":
		status, sent = DeliverySent, now
	case final:
		status = DeliveryFailed
	}
	if len(errText) > 500 {
		errText = errText[:500]
	}
	_, err := s.exec(ctx, `UPDATE notify_deliveries SET status = $3, attempts = attempts + 1, last_error = $4, sent_at = $5, updated_at = $6
		WHERE publisher_id = $1 AND id = $2 AND status = 'pending'`, pub, id, status, errText, sent, now)
	if err != nil {
		return fmt.Errorf("store: delivery attempt: %w", err)
	}
	return nil
}

// PendingDeliveries returns publisher pub's deliveries still pending that
// were created before before, oldest first, at most limit.
func (s *Store) PendingDeliveries(ctx context.Context, pub phantomos.PublisherID, before time.Time, limit int) ([]*Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries WHERE publisher_id = $1 AND status = 'pending' AND created_at < $2
		ORDER BY created_at LIMIT $3`, pub, before.UTC().Truncate(time.Microsecond), limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending deliveries: %w", err)
	}
	return collectDeliveries(rows)
}

// UserDeliveries returns the newest deliveries to user userID, at most
// limit, for the settings page.
func (s *Store) UserDeliveries(ctx context.Context, pub phantomos.PublisherID, userID string, limit int) ([]*Delivery, error) {
	if !phantomos.ValidID(userID) {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries WHERE publisher_id = $1 AND user_id = $2
		ORDER BY created_at DESC, id LIMIT $3`, pub, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: user deliveries: %w", err)
	}
	return collectDeliveries(rows)
}

func collectDeliveries(rows *sql.Rows) ([]*Delivery, error) {
	defer rows.Close()
	var out []*Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
