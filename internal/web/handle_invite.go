package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/worker"
)

// baseURL is the public address for links we email or show.
func (s *Server) baseURL(r *http.Request) string { return publicBase(s.cfg.BaseURL, s.cfg.Addr, r) }

// invited is the result of creating or renewing an invitation: the link is
// shown once to the inviter (copyable) unless it was emailed.
type invited struct {
	Invitation *store.Invitation
	Link       string
	Emailed    bool // sent while the request waited (no queue)
	Queued     bool // a job sends it
	MailError  string
}

// invite creates an invitation as the request's actor and emails it when
// SMTP is configured. Admins cannot invite owners (and nobody invites
// owners: ownership is transferred).
func (s *Server) invite(r *http.Request, email string, role phantomos.Role) (*invited, error) {
	a := phantomos.ActorFrom(r.Context())
	if !a.Role.AtLeast(role) {
		return nil, phantomos.Errorf(phantomos.EFORBIDDEN, "You cannot invite someone with a role above your own.")
	}
	token := auth.NewToken()
	inv, err := s.store.CreateInvitation(r.Context(), a.PublisherID, a.UserID, email, role, auth.HashToken(token))
	if err != nil {
		return nil, err
	}
	s.audit(r, a.PublisherID, "invitation.create", inv.Email, map[string]any{"role": string(inv.Role), "invitation_id": inv.ID})
	return s.deliverInvitation(r, inv, token), nil
}

// deliverInvitation emails inv's link when SMTP is configured: through a
// job (invitation_email, retried with backoff; the team page shows where
// it stands), or at once when this server has no queue.
func (s *Server) deliverInvitation(r *http.Request, inv *store.Invitation, token string) *invited {
	out := &invited{Invitation: inv, Link: s.baseURL(r) + "/invite?token=" + token}
	if s.work.Mailer() == nil {
		return out
	}
	if s.jobs != nil && s.conn != nil {
		err := s.queueInvitationEmail(r.Context(), inv, out.Link)
		if err != nil {
			s.logger.Error("queue invitation email", "request_id", RequestID(r.Context()), "err", err)
			out.MailError = "The email could not be queued; copy the link instead."
			return out
		}
		out.Queued = true
		inv.EmailState = store.EmailQueued
		return out
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	if err := s.work.Mailer().Send(ctx, worker.InvitationEmail(inv, out.Link)); err != nil {
		s.logger.Warn("send invitation", "request_id", RequestID(r.Context()), "err", err)
		out.MailError = "The email could not be sent; copy the link instead."
		return out
	}
	out.Emailed = true
	return out
}

// queueInvitationEmail records inv's email as queued and enqueues it,
// its link sealed.
func (s *Server) queueInvitationEmail(ctx context.Context, inv *store.Invitation, link string) error {
	sealed, keyID, err := s.work.SealInvitationLink(inv.ID, link)
	if err != nil {
		return err
	}
	if err := s.store.SetInvitationEmail(ctx, inv.PublisherID, inv.ID, store.EmailQueued, ""); err != nil {
		return err
	}
	return s.jobs.EnqueueInvitationEmail(ctx, jobs.InvitationEmailArgs{Publisher: inv.PublisherID, InvitationID: inv.ID, SealedLink: sealed, KeyID: keyID})
}

type invitePage struct {
	Token      string
	Invitation *store.Invitation
	Name       string
	Error      string
}

// handleInvitePage shows an invitation: who invited whom, to which
// publisher, with which role, and a form to accept it.
func (s *Server) handleInvitePage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	data := s.pageData(r, "Join your team", "")
	p := invitePage{Token: token}
	inv, err := s.validInvitation(w, r, token)
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINTERNAL {
			return err
		}
		p.Error = phantomos.ErrorMessage(err)
		data.Data = p
		return s.render(w, api.Status(err), "invite", data)
	}
	p.Invitation = inv
	data.Data = p
	return s.render(w, http.StatusOK, "invite", data)
}

// validInvitation looks up a pending invitation by token, throttled per IP
// so tokens cannot be guessed at speed. Every kind of invalid token gets the
// same message.
func (s *Server) validInvitation(w http.ResponseWriter, r *http.Request, token string) (*store.Invitation, error) {
	ip := clientIP(r)
	// The lookup counts as a failure until it proves valid, so parallel
	// guesses cannot outrun the throttle.
	if _, ok := throttled(w, s.inviteByIP.Reserve(ip)); ok {
		return nil, phantomos.Errorf(phantomos.ERATELIMIT, "Too many attempts. Wait a few minutes and try again.")
	}
	invalid := phantomos.Errorf(phantomos.ENOTFOUND, "This invitation link is not valid: it may have expired, been used or been revoked. Ask for a new one.")
	if token == "" || len(token) > 100 {
		return nil, invalid
	}
	inv, err := s.store.InvitationByToken(r.Context(), auth.HashToken(token))
	if phantomos.ErrorCode(err) == phantomos.ENOTFOUND || (err == nil && inv.Status != "pending") {
		return nil, invalid
	}
	s.inviteByIP.Release(ip)
	return inv, err
}

// handleInviteAccept creates the invited user and signs them in.
func (s *Server) handleInviteAccept(w http.ResponseWriter, r *http.Request) error {
	token := r.PostFormValue("token")
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	inv, err := s.validInvitation(w, r, token)
	fail := func(err error) error {
		if phantomos.ErrorCode(err) == phantomos.EINTERNAL {
			return err
		}
		data := s.pageData(r, "Join your team", "")
		data.Data = invitePage{Token: token, Invitation: inv, Name: name, Error: phantomos.ErrorMessage(err)}
		return s.render(w, api.Status(err), "invite", data)
	}
	if err != nil {
		return fail(err)
	}
	u, err := s.acceptInvitation(w, r, token, name, password, inv.Email)
	if err != nil {
		return fail(err)
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/overview", http.StatusSeeOther)
	return nil
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request, token, name, password, email string) (*phantomos.User, error) {
	if name == "" {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Enter your name.")
	}
	if err := auth.CheckPasswordPolicy(password, email); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(w, r, password)
	if err != nil {
		return nil, err
	}
	u, err := s.store.AcceptInvitation(r.Context(), auth.HashToken(token), name, hash)
	if err != nil {
		return nil, err
	}
	s.auditAs(r, u, "invitation.accept", map[string]any{"role": string(u.Role)})
	return u, nil
}

// JSON: the seed's invitation API.

type invitationJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expires_at"`
	InvitedBy string    `json:"invited_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	InviteURL string    `json:"invite_url,omitempty"`
	Emailed   *bool     `json:"emailed,omitempty"`
	// EmailStatus is where its email stands (queued, retrying, sent,
	// failed; absent when it is not emailed), EmailError the last
	// failure's reason.
	EmailStatus string `json:"email_status,omitempty"`
	EmailError  string `json:"email_error,omitempty"`
}

func toInvitationJSON(inv *store.Invitation) invitationJSON {
	return invitationJSON{ID: inv.ID, Email: inv.Email, Role: string(inv.Role), Status: inv.Status, ExpiresAt: inv.ExpiresAt,
		InvitedBy: inv.InviterEmail, CreatedAt: inv.CreatedAt, EmailStatus: inv.EmailState, EmailError: inv.EmailError}
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "The request body is not valid JSON for this endpoint: %v.", err)
	}
	return nil
}

// handleAPIInviteCreate serves POST /api/settings/invite {email, role}.
func (s *Server) handleAPIInviteCreate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	role, err := phantomos.ParseRole(req.Role)
	if err != nil {
		return err
	}
	res, err := s.invite(r, req.Email, role)
	if err != nil {
		return err
	}
	out := toInvitationJSON(res.Invitation)
	out.InviteURL = res.Link
	emailed := res.Emailed || res.Queued
	out.Emailed = &emailed
	if res.Emailed {
		out.EmailStatus = store.EmailSent
	}
	return api.WriteJSON(w, http.StatusCreated, out)
}

// handleAPIInviteList serves GET /api/settings/invite: pending invitations.
func (s *Server) handleAPIInviteList(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	list, err := s.store.Invitations(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	out := []invitationJSON{}
	for _, inv := range list {
		out = append(out, toInvitationJSON(inv))
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"invitations": out})
}

// handleAPIInviteRevoke serves DELETE /api/settings/invite?id=….
func (s *Server) handleAPIInviteRevoke(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	id := r.URL.Query().Get("id")
	if err := s.store.RevokeInvitation(r.Context(), a.PublisherID, id); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "invitation.revoke", id, nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleAPIInviteValidate serves GET /api/settings/invite/validate?token=…:
// whether the token is a pending invitation, and to what.
func (s *Server) handleAPIInviteValidate(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.validInvitation(w, r, r.URL.Query().Get("token"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{
		"valid": true, "email": inv.Email, "role": inv.Role, "publisher": inv.PublisherName,
		"invited_by": inv.InviterEmail, "expires_at": inv.ExpiresAt,
	})
}

// handleAPIInviteAccept serves POST /api/settings/invite/validate
// {token, name, password}: accepts the invitation and creates the user.
func (s *Server) handleAPIInviteAccept(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Token    string `json:"token"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	inv, err := s.validInvitation(w, r, req.Token)
	if err != nil {
		return err
	}
	u, err := s.acceptInvitation(w, r, req.Token, strings.TrimSpace(req.Name), req.Password, inv.Email)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusCreated, map[string]any{"user": map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role}, "publisher": inv.PublisherName})
}
