package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/store"
)

type teamPage struct {
	Members     []*phantomos.User
	Invitations []*store.Invitation
	Invited     *invited
	Error       string
	// InviteRoles are the roles the actor may invite.
	InviteRoles []phantomos.Role
}

func (s *Server) renderTeam(w http.ResponseWriter, r *http.Request, status int, p teamPage) error {
	a := phantomos.ActorFrom(r.Context())
	var err error
	if p.Members, err = s.store.Users(r.Context(), a.PublisherID); err != nil {
		return err
	}
	if p.Invitations, err = s.store.Invitations(r.Context(), a.PublisherID); err != nil {
		return err
	}
	for _, role := range []phantomos.Role{phantomos.RoleAdmin, phantomos.RoleMember, phantomos.RoleAnalyst} {
		if a.Role.AtLeast(role) {
			p.InviteRoles = append(p.InviteRoles, role)
		}
	}
	data := s.pageData(r, "Team", "settings")
	data.Data = p
	return s.render(w, status, "team", data)
}

func (s *Server) handleTeam(w http.ResponseWriter, r *http.Request) error {
	return s.renderTeam(w, r, http.StatusOK, teamPage{})
}

// teamError re-renders the team page with a user-facing error, or returns
// an internal one.
func (s *Server) teamError(w http.ResponseWriter, r *http.Request, err error) error {
	code := phantomos.ErrorCode(err)
	if code == phantomos.EINTERNAL || code == phantomos.ENOTFOUND {
		return err
	}
	status := http.StatusUnprocessableEntity
	if code == phantomos.EFORBIDDEN {
		status = http.StatusForbidden
	}
	return s.renderTeam(w, r, status, teamPage{Error: phantomos.ErrorMessage(err)})
}

func (s *Server) handleTeamInvite(w http.ResponseWriter, r *http.Request) error {
	role, err := phantomos.ParseRole(r.PostFormValue("role"))
	if err != nil {
		return s.teamError(w, r, err)
	}
	res, err := s.invite(r, strings.TrimSpace(r.PostFormValue("email")), role)
	if err != nil {
		return s.teamError(w, r, err)
	}
	return s.renderTeam(w, r, http.StatusOK, teamPage{Invited: res})
}

func (s *Server) handleTeamInvitationRevoke(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	id := r.PathValue("id")
	if err := s.store.RevokeInvitation(r.Context(), a.PublisherID, id); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "invitation.revoke", id, nil)
	http.Redirect(w, r, "/settings/team", http.StatusSeeOther)
	return nil
}

func (s *Server) handleTeamInvitationResend(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	token := auth.NewToken()
	inv, err := s.store.RenewInvitation(r.Context(), a.PublisherID, r.PathValue("id"), auth.HashToken(token))
	if err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "invitation.resend", inv.Email, map[string]any{"invitation_id": inv.ID})
	return s.renderTeam(w, r, http.StatusOK, teamPage{Invited: s.deliverInvitation(r, inv, token)})
}

// member returns a member of the actor's publisher and checks that the
// actor may manage them: admins cannot touch owners, nobody changes
// themselves here.
func (s *Server) member(r *http.Request) (*phantomos.User, error) {
	a := phantomos.ActorFrom(r.Context())
	u, err := s.store.User(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if u.ID == a.UserID {
		return nil, phantomos.Errorf(phantomos.EINVALID, "You cannot change your own role or remove yourself here. Owners transfer ownership first.")
	}
	if u.Role == phantomos.RoleOwner && a.Role != phantomos.RoleOwner {
		return nil, phantomos.Errorf(phantomos.EFORBIDDEN, "Only an owner can change or remove an owner.")
	}
	return u, nil
}

func (s *Server) handleTeamRole(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	u, err := s.member(r)
	if err != nil {
		return s.teamError(w, r, err)
	}
	role, err := phantomos.ParseRole(r.PostFormValue("role"))
	if err != nil {
		return s.teamError(w, r, err)
	}
	if role == phantomos.RoleOwner {
		return s.teamError(w, r, phantomos.Errorf(phantomos.EINVALID, "Make someone an owner through ownership transfer."))
	}
	if err := s.store.SetRole(r.Context(), a.PublisherID, u.ID, role); err != nil {
		return s.teamError(w, r, err)
	}
	s.audit(r, a.PublisherID, "member.role_change", u.Email, map[string]any{"from": string(u.Role), "to": string(role)})
	http.Redirect(w, r, "/settings/team", http.StatusSeeOther)
	return nil
}

func (s *Server) handleTeamRemove(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	u, err := s.member(r)
	if err != nil {
		return s.teamError(w, r, err)
	}
	if err := s.store.DeleteUser(r.Context(), a.PublisherID, u.ID); err != nil {
		return s.teamError(w, r, err)
	}
	s.audit(r, a.PublisherID, "member.remove", u.Email, map[string]any{"role": string(u.Role)})
	http.Redirect(w, r, "/settings/team", http.StatusSeeOther)
	return nil
}

// handleTeamTransfer makes another member the owner; the current owner
// becomes an admin. It asks for the owner's password.
func (s *Server) handleTeamTransfer(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if err := s.confirmPassword(w, r, r.PostFormValue("password")); err != nil {
		return s.teamError(w, r, err)
	}
	if r.PostFormValue("user_id") == "" {
		return s.teamError(w, r, phantomos.Errorf(phantomos.EINVALID, "Choose the member who becomes the owner."))
	}
	to, err := s.store.User(r.Context(), a.PublisherID, r.PostFormValue("user_id"))
	if err != nil {
		return err // not found (404), like any id of another publisher
	}
	if err := s.store.TransferOwnership(r.Context(), a.PublisherID, a.UserID, to.ID); err != nil {
		return s.teamError(w, r, err)
	}
	s.audit(r, a.PublisherID, "organization.transfer_ownership", to.Email, nil)
	http.Redirect(w, r, "/settings/team", http.StatusSeeOther)
	return nil
}

// confirmPassword checks the signed-in user's password for sensitive
// changes. Like sign-in, each attempt reserves a failure in the account's
// throttle before the check and gives it back when the password is right.
func (s *Server) confirmPassword(w http.ResponseWriter, r *http.Request, password string) error {
	a := phantomos.ActorFrom(r.Context())
	if a.UserID == "" {
		return phantomos.Errorf(phantomos.EFORBIDDEN, "This needs a signed-in user.")
	}
	key := strings.ToLower(a.Email)
	if _, ok := throttled(w, s.loginByEmail.Reserve(key)); ok {
		return phantomos.Errorf(phantomos.ERATELIMIT, "Too many wrong passwords. Wait a few minutes.")
	}
	hash, err := s.store.PasswordHash(r.Context(), a.PublisherID, a.UserID)
	if err != nil {
		s.loginByEmail.Release(key)
		return err
	}
	switch err := s.checkPassword(w, r, hash, password); {
	case errors.Is(err, auth.ErrBusy):
		s.loginByEmail.Release(key)
		return err
	case err != nil:
		return phantomos.Errorf(phantomos.EINVALID, "Your current password is not correct.")
	}
	s.loginByEmail.Release(key)
	return nil
}
