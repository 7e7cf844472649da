package web

import (
	"net/http"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/demo"
)

// readOnlyAccount refuses changes by the demo analyst, whose account is
// shared by every visitor of the demo.
func readOnlyAccount(r *http.Request) error {
	if a := phantomos.ActorFrom(r.Context()); a != nil && a.Email == demo.AnalystEmail {
		return phantomos.Errorf(phantomos.EFORBIDDEN, "The demo account is read-only.")
	}
	return nil
}

type profilePage struct {
	Saved string
	Error string
}

func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, status int, p profilePage) error {
	data := s.pageData(r, "Profile", "settings")
	data.Data = p
	return s.render(w, status, "profile", data)
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) error {
	return s.renderProfile(w, r, http.StatusOK, profilePage{})
}

// formError re-renders a settings form with the message of a user-facing
// error; internal errors go to the error adapter.
func formError(err error, render func(status int, msg string) error) error {
	switch phantomos.ErrorCode(err) {
	case phantomos.EINTERNAL:
		return err
	case phantomos.EFORBIDDEN:
		return render(http.StatusForbidden, phantomos.ErrorMessage(err))
	case phantomos.ERATELIMIT:
		return render(http.StatusTooManyRequests, phantomos.ErrorMessage(err))
	}
	return render(http.StatusUnprocessableEntity, phantomos.ErrorMessage(err))
}

// handleProfileSave changes name and email after re-confirming the password.
func (s *Server) handleProfileSave(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	fail := func(status int, msg string) error { return s.renderProfile(w, r, status, profilePage{Error: msg}) }
	if err := readOnlyAccount(r); err != nil {
		return formError(err, fail)
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	email := strings.TrimSpace(r.PostFormValue("email"))
	if err := s.confirmPassword(w, r, r.PostFormValue("password")); err != nil {
		return formError(err, fail)
	}
	if err := s.store.UpdateProfile(r.Context(), a.PublisherID, a.UserID, name, email); err != nil {
		return formError(err, fail)
	}
	s.audit(r, a.PublisherID, "user.profile_update", email, map[string]any{"old_email": a.Email})
	a.Name, a.Email = name, strings.ToLower(email)
	return s.renderProfile(w, r, http.StatusOK, profilePage{Saved: "Your profile is saved."})
}

type securityPage struct {
	TOTPEnabled   bool
	Enrolling     bool
	Secret        string
	OTPAuthURL    string
	RecoveryCodes []string
	Saved         string
	Error         string
}

func (s *Server) renderSecurity(w http.ResponseWriter, r *http.Request, status int, p securityPage) error {
	a := phantomos.ActorFrom(r.Context())
	if a.UserID != "" {
		secret, enabled, _, err := s.store.TOTP(r.Context(), a.PublisherID, a.UserID)
		if err != nil {
			return err
		}
		p.TOTPEnabled = enabled
		if !enabled && secret != "" && p.Secret == "" && p.Enrolling {
			p.Secret = secret
		}
	}
	data := s.pageData(r, "Security", "settings")
	data.Data = p
	return s.render(w, status, "security", data)
}

func (s *Server) handleSecurity(w http.ResponseWriter, r *http.Request) error {
	return s.renderSecurity(w, r, http.StatusOK, securityPage{})
}

// handlePasswordChange sets a new password and ends every other session.
func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	fail := func(status int, msg string) error { return s.renderSecurity(w, r, status, securityPage{Error: msg}) }
	if err := readOnlyAccount(r); err != nil {
		return formError(err, fail)
	}
	if err := s.confirmPassword(w, r, r.PostFormValue("current")); err != nil {
		return formError(err, fail)
	}
	pw := r.PostFormValue("new")
	if pw != r.PostFormValue("confirm") {
		return fail(http.StatusUnprocessableEntity, "The two new passwords differ.")
	}
	if err := auth.CheckPasswordPolicy(pw, a.Email); err != nil {
		return formError(err, fail)
	}
	hash, err := s.hashPassword(w, r, pw)
	if err != nil {
		return formError(err, fail)
	}
	if err := s.store.SetPassword(r.Context(), a.PublisherID, a.UserID, hash, a.SessionID); err != nil {
		return err
	}
	// A new session id for the session that made the change, too.
	if err := s.rotateSession(w, r); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "user.password_change", a.Email, nil)
	return s.renderSecurity(w, r, http.StatusOK, securityPage{Saved: "Password changed. Your other sessions were signed out."})
}

// rotateSession replaces the current session with a new one of the same
// user.
func (s *Server) rotateSession(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	u, err := s.store.User(r.Context(), a.PublisherID, a.UserID)
	if err != nil {
		return err
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	return nil
}

// handleSignOutEverywhere ends every session of the user, this one included.
func (s *Server) handleSignOutEverywhere(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if err := readOnlyAccount(r); err != nil {
		return err
	}
	if err := s.store.RevokeUserSessions(r.Context(), a.PublisherID, a.UserID, ""); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "auth.logout_everywhere", a.Email, nil)
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// handleTOTPStart creates a new secret (not yet enabled) and shows it.
func (s *Server) handleTOTPStart(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if err := readOnlyAccount(r); err != nil {
		return err
	}
	_, enabled, _, err := s.store.TOTP(r.Context(), a.PublisherID, a.UserID)
	if err != nil {
		return err
	}
	if enabled {
		return s.renderSecurity(w, r, http.StatusConflict, securityPage{Error: "Two-factor authentication is already on."})
	}
	secret, url, err := auth.NewTOTP("PhantomOS", a.Email)
	if err != nil {
		return err
	}
	if err := s.store.SetTOTP(r.Context(), a.PublisherID, a.UserID, secret, false, nil); err != nil {
		return err
	}
	return s.renderSecurity(w, r, http.StatusOK, securityPage{Enrolling: true, Secret: secret, OTPAuthURL: url})
}

// handleTOTPEnable turns two-factor authentication on once the user proves
// the authenticator works, and shows the recovery codes once.
func (s *Server) handleTOTPEnable(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	if err := readOnlyAccount(r); err != nil {
		return err
	}
	secret, enabled, _, err := s.store.TOTP(r.Context(), a.PublisherID, a.UserID)
	if err != nil {
		return err
	}
	if enabled || secret == "" {
		return s.renderSecurity(w, r, http.StatusConflict, securityPage{Error: "Start the set-up again."})
	}
	if _, ok := throttled(w, s.mfaByUser.Reserve(a.UserID)); ok {
		return s.renderSecurity(w, r, http.StatusTooManyRequests, securityPage{Enrolling: true, Error: "Too many wrong codes. Wait a few minutes."})
	}
	step, ok := auth.TOTPStep(secret, r.PostFormValue("code"), s.now())
	if ok {
		// The code that proves the set-up is spent: it cannot also sign in.
		if ok, err = s.store.AcceptTOTPStep(r.Context(), a.PublisherID, a.UserID, step); err != nil {
			return err
		}
	}
	if !ok {
		return s.renderSecurity(w, r, http.StatusUnprocessableEntity, securityPage{Enrolling: true, Error: "That code is not right. Check the time on your phone and try the current code."})
	}
	s.mfaByUser.Release(a.UserID)
	codes := auth.NewRecoveryCodes(10)
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = auth.HashRecoveryCode(c)
	}
	if err := s.store.SetTOTP(r.Context(), a.PublisherID, a.UserID, secret, true, hashes); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "user.2fa_enable", a.Email, nil)
	return s.renderSecurity(w, r, http.StatusOK, securityPage{RecoveryCodes: codes, Saved: "Two-factor authentication is on."})
}

// handleTOTPDisable turns two-factor authentication off after the password.
func (s *Server) handleTOTPDisable(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	fail := func(status int, msg string) error { return s.renderSecurity(w, r, status, securityPage{Error: msg}) }
	if err := readOnlyAccount(r); err != nil {
		return formError(err, fail)
	}
	if err := s.confirmPassword(w, r, r.PostFormValue("password")); err != nil {
		return formError(err, fail)
	}
	if err := s.store.SetTOTP(r.Context(), a.PublisherID, a.UserID, "", false, nil); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "user.2fa_disable", a.Email, nil)
	return s.renderSecurity(w, r, http.StatusOK, securityPage{Saved: "Two-factor authentication is off."})
}
