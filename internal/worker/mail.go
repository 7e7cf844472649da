package worker

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/mail"
	"github.com/phantomos/phantomos/internal/store"
)

var _ jobs.MailWork = (*Worker)(nil)

// SealInvitationLink seals an invitation's link for its email job, bound
// to the invitation: the job's arguments, stored in the database, hold no
// usable link.
func (w *Worker) SealInvitationLink(invitationID, link string) (sealed []byte, keyID string, err error) {
	if w.conn == nil {
		return nil, "", phantomos.Errorf(phantomos.EINVALID, "No key to seal the invitation link with (PHANTOMOS_SECRET_KEY).")
	}
	return w.conn.keys.SealFor([]byte(link), []byte("invitation:"+invitationID))
}

// InvitationEmail is the email that invites inv's address, with link.
func InvitationEmail(inv *store.Invitation, link string) mail.Message {
	inviter := inv.InviterName
	if inviter == "" {
		inviter = inv.InviterEmail
	}
	body := fmt.Sprintf("Hello,\n\n%s invited you to join %s on PhantomOS as %s.\n\nAccept the invitation here (valid until %s):\n%s\n\nIf you did not expect this, ignore this email.\n",
		inviter, inv.PublisherName, inv.Role, inv.ExpiresAt.Format("2 Jan 2006 15:04 UTC"), link)
	return mail.Message{To: inv.Email, Subject: "Join " + inv.PublisherName + " on PhantomOS", Body: body}
}

// SendInvitation is the work of an invitation_email job: one attempt at
// emailing invitation id of pub. Its state is recorded for the team page
// and the API: sent; retrying, with the reason, while attempts remain;
// failed after the last. An invitation accepted, revoked or renewed since
// (its link no longer works) is not emailed: the job is discarded.
func (w *Worker) SendInvitation(ctx context.Context, pub phantomos.PublisherID, id string, sealed []byte, keyID string, final bool) error {
	if w.mailer == nil {
		return phantomos.Errorf(phantomos.EINVALID, "Email is not configured on this worker (PHANTOMOS_SMTP_URL).")
	}
	if w.conn == nil {
		return phantomos.Errorf(phantomos.EINVALID, "No key to open the invitation link with (PHANTOMOS_SECRET_KEY).")
	}
	plain, err := w.conn.keys.OpenFor(sealed, keyID, []byte("invitation:"+id))
	if err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "The invitation link cannot be opened: %v.", err)
	}
	link := string(plain)
	u, err := url.Parse(link)
	if err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "The invitation link is not a URL.")
	}
	inv, err := w.store.InvitationByToken(ctx, auth.HashToken(u.Query().Get("token")))
	if phantomos.ErrorCode(err) == phantomos.ENOTFOUND || err == nil && (inv.ID != id || inv.PublisherID != pub || inv.Status != "pending") {
		return phantomos.Errorf(phantomos.ENOTFOUND, "The invitation was accepted, revoked or renewed since; its link no longer works.")
	}
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.mailer.Send(sctx, InvitationEmail(inv, link)); err != nil {
		state := store.EmailRetrying
		if final {
			state = store.EmailFailed
		}
		if serr := w.store.SetInvitationEmail(ctx, pub, id, state, err.Error()); serr != nil {
			w.logger.Warn("invitation email state", "invitation", id, "err", serr)
		}
		return fmt.Errorf("worker: invitation email: %w", err)
	}
	return w.store.SetInvitationEmail(ctx, pub, id, store.EmailSent, "")
}
