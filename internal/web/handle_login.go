package web

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/demo"
)

type loginPage struct {
	Email string
	Next  string
	Error string
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) error {
	if phantomos.ActorFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	data := s.pageData(r, "Sign in", "")
	data.Data = loginPage{Next: r.URL.Query().Get("next")}
	return s.render(w, http.StatusOK, "login", data)
}

// handleLogin checks email and password. Every failure gets the same
// message and, through auth.DummyCheck, the same time, so the page does not
// tell which emails have accounts. Failures are throttled per IP and per
// email.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	next := r.PostFormValue("next")
	ip := clientIP(r)
	fail := func(status int, msg string) error {
		data := s.pageData(r, "Sign in", "")
		data.Data = loginPage{Email: email, Next: next, Error: msg}
		return s.render(w, status, "login", data)
	}
	if wait := max(s.loginByIP.Wait(ip), s.loginByEmail.Wait(strings.ToLower(email))); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return fail(http.StatusTooManyRequests, "Too many failed attempts. Wait a few minutes and try again.")
	}
	if email == "" || password == "" {
		return fail(http.StatusUnprocessableEntity, "Enter your email and password.")
	}
	u, hash, err := s.store.UserForLogin(r.Context(), email)
	switch {
	case phantomos.ErrorCode(err) == phantomos.ENOTFOUND:
		auth.DummyCheck(password)
	case err != nil:
		return err
	default:
		err = auth.CheckPassword(hash, password)
		if err == nil && u.DisabledAt != nil {
			err = errors.New("disabled")
		}
	}
	if err != nil {
		s.loginByIP.Fail(ip)
		s.loginByEmail.Fail(strings.ToLower(email))
		return fail(http.StatusUnauthorized, "Email or password is incorrect.")
	}
	s.loginByEmail.Reset(strings.ToLower(email))
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

// handleDemoLogin signs in as the demo publisher's read-only analyst. It
// exists only when the server runs with --demo.
func (s *Server) handleDemoLogin(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Demo {
		return phantomos.Errorf(phantomos.ENOTFOUND, "The demo is not enabled on this server.")
	}
	u, _, err := s.store.UserForLogin(r.Context(), demo.AnalystEmail)
	if err != nil {
		return err
	}
	if u.Role != phantomos.RoleAnalyst {
		return errors.New("web: demo account is not an analyst")
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/overview", http.StatusSeeOther)
	return nil
}

// startSession issues a fresh session token (a new id at every sign-in, so a
// planted cookie is never promoted) and records the sign-in.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *phantomos.User) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if old, _, err := s.store.SessionByToken(r.Context(), auth.HashToken(c.Value)); err == nil {
			s.store.RevokeSession(r.Context(), old.PublisherID, old.ID)
		}
	}
	token := auth.NewToken()
	now := s.now()
	if _, err := s.store.CreateSession(r.Context(), u, auth.HashToken(token), now.Add(idleTimeout), clientIP(r), r.UserAgent()); err != nil {
		return err
	}
	if err := s.store.RecordLogin(r.Context(), u.PublisherID, u.ID); err != nil {
		return err
	}
	s.setSessionCookie(w, r, token)
	return nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	if a := phantomos.ActorFrom(r.Context()); a != nil && a.SessionID != "" {
		if err := s.store.RevokeSession(r.Context(), a.PublisherID, a.SessionID); err != nil {
			return err
		}
	}
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/overview"
	}
	return next
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
