package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
)

// kindInvitationEmail is the job kind of an invitation's email (never
// renamed: see args.go).
const kindInvitationEmail = "invitation_email"

// invitationEmailAttempts bounds the attempts at one invitation email;
// after the last, the team page shows it failed and the link can be sent
// by hand or the invitation resent.
const invitationEmailAttempts = 5

// MailWork sends the emails people ask for; the worker implements it.
type MailWork interface {
	// SendInvitation makes one attempt at emailing invitation id of pub
	// the link sealed in sealed (keyID: the key that sealed it); final
	// says it is the last attempt. ENOTFOUND or EINVALID (the invitation
	// is gone, renewed or accepted; no mail server) discard the job.
	SendInvitation(ctx context.Context, pub phantomos.PublisherID, id string, sealed []byte, keyID string, final bool) error
}

// InvitationEmailArgs is the email of one invitation. Its token is sealed
// with the server's key: the database holds no usable invitation link.
type InvitationEmailArgs struct {
	Publisher    phantomos.PublisherID `json:"publisher_id"`
	InvitationID string                `json:"invitation_id"`
	SealedLink   []byte                `json:"sealed_link"`
	KeyID        string                `json:"key_id"`
}

// Kind names the job kind.
func (InvitationEmailArgs) Kind() string { return kindInvitationEmail }

// InsertOpts bounds the attempts.
func (InvitationEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: invitationEmailAttempts}
}

// EnqueueInvitationEmail enqueues the email of an invitation.
func (q *Queue) EnqueueInvitationEmail(ctx context.Context, a InvitationEmailArgs) error {
	_, _, err := q.insert(ctx, a)
	return err
}

type invitationEmailWorker struct {
	river.WorkerDefaults[InvitationEmailArgs]
	q *Queue
	w MailWork
}

func (w *invitationEmailWorker) Timeout(*river.Job[InvitationEmailArgs]) time.Duration {
	return time.Minute
}

// NextRetry doubles the wait after each failure from DeliverBackoff, as
// for notifications.
func (w *invitationEmailWorker) NextRetry(j *river.Job[InvitationEmailArgs]) time.Time {
	n := max(j.Attempt, 1)
	return time.Now().Add(w.q.cfg.DeliverBackoff << min(n-1, 10))
}

func (w *invitationEmailWorker) Work(ctx context.Context, j *river.Job[InvitationEmailArgs]) error {
	final := j.Attempt >= j.MaxAttempts
	a := j.Args
	return outcome(w.q, j.Kind, a.InvitationID, w.w.SendInvitation(ctx, a.Publisher, a.InvitationID, a.SealedLink, a.KeyID, final))
}

// addMailWorker registers the email worker when the queue's Work sends
// mail.
func addMailWorker(cfg *Config, q *Queue, ws *river.Workers) error {
	mw, ok := cfg.Work.(MailWork)
	if !ok {
		return nil
	}
	return river.AddWorkerSafely(ws, &invitationEmailWorker{q: q, w: mw})
}
