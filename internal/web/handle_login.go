package web

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/demo"
)

type loginPage struct {
	Email  string
	Next   string
	Error  string
	Signup bool
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) error {
	if phantomos.ActorFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	data := s.pageData(r, "Sign in", "")
	data.Data = loginPage{Next: r.URL.Query().Get("next"), Signup: s.cfg.Signup == "open"}
	return s.render(w, http.StatusOK, "login", data)
}

// throttled sets Retry-After to the longest of waits and reports whether
// any of them is non-zero, that is whether the request must be refused.
func throttled(w http.ResponseWriter, waits ...time.Duration) (time.Duration, bool) {
	var wait time.Duration
	for _, d := range waits {
		wait = max(wait, d)
	}
	if wait <= 0 {
		return 0, false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	return wait, true
}

// handleLogin checks email and password. Every failure gets the same
// message and, through a dummy check, the same time, so the page does not
// tell which emails have accounts. Failures are throttled per IP and per
// email; successes and failures are audited.
//
// Each attempt reserves a failure in both throttles before the password is
// checked, so simultaneous guesses cannot all pass the throttle while the
// first ones are still hashing: of any burst at most the limit is checked.
// A right password gives the reservations back.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	next := r.PostFormValue("next")
	ip := clientIP(r)
	key := strings.ToLower(email)
	fail := func(status int, msg string) error {
		data := s.pageData(r, "Sign in", "")
		data.Data = loginPage{Email: email, Next: next, Error: msg, Signup: s.cfg.Signup == "open"}
		return s.render(w, status, "login", data)
	}
	tooMany := "Too many failed attempts. Wait a few minutes and try again."
	if _, ok := throttled(w, s.loginByIP.Reserve(ip)); ok {
		return fail(http.StatusTooManyRequests, tooMany)
	}
	if _, ok := throttled(w, s.loginByEmail.Reserve(key)); ok {
		s.loginByIP.Release(ip)
		return fail(http.StatusTooManyRequests, tooMany)
	}
	release := func() {
		s.loginByIP.Release(ip)
		s.loginByEmail.Release(key)
	}
	if email == "" || password == "" {
		release()
		return fail(http.StatusUnprocessableEntity, "Enter your email and password.")
	}
	u, hash, err := s.store.UserForLogin(r.Context(), email)
	switch {
	case phantomos.ErrorCode(err) == phantomos.ENOTFOUND:
		if err = retryWhenBusy(w, s.hasher.Dummy(r.Context(), password)); err == nil {
			err = auth.ErrMismatch
		}
	case err != nil:
		release()
		return err
	default:
		err = s.checkPassword(w, r, hash, password)
		if err == nil && u.DisabledAt != nil {
			err = errors.New("disabled")
		}
	}
	if errors.Is(err, auth.ErrBusy) {
		// Nothing was checked: the attempt does not count.
		release()
		return fail(http.StatusTooManyRequests, phantomos.ErrorMessage(err))
	}
	if err != nil {
		if u != nil {
			s.auditAs(r, u, "auth.login_failed", nil)
		}
		return fail(http.StatusUnauthorized, "Email or password is incorrect.")
	}
	s.loginByIP.Release(ip)
	s.loginByEmail.Reset(key)
	_, enabled, _, err := s.store.TOTP(r.Context(), u.PublisherID, u.ID)
	if err != nil {
		return err
	}
	if enabled {
		token := auth.NewToken()
		if _, err := s.store.CreatePendingSession(r.Context(), u, auth.HashToken(token), s.now().Add(10*time.Minute), ip, r.UserAgent()); err != nil {
			return err
		}
		s.setSessionCookie(w, r, token)
		http.Redirect(w, r, "/login/2fa?next="+url.QueryEscape(safeNext(next)), http.StatusSeeOther)
		return nil
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	s.auditAs(r, u, "auth.login", nil)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

type twoFactorPage struct {
	Next  string
	Error string
}

func (s *Server) handleTwoFactorPage(w http.ResponseWriter, r *http.Request) error {
	if _, ok := r.Context().Value(pendingKey{}).(pendingLogin); !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	data := s.pageData(r, "Two-factor authentication", "")
	data.Data = twoFactorPage{Next: r.URL.Query().Get("next")}
	return s.render(w, http.StatusOK, "login_2fa", data)
}

// handleTwoFactor checks the authenticator code or a recovery code of a
// session that passed the password, then gives it a new token.
func (s *Server) handleTwoFactor(w http.ResponseWriter, r *http.Request) error {
	p, ok := r.Context().Value(pendingKey{}).(pendingLogin)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	next := r.PostFormValue("next")
	code := strings.TrimSpace(r.PostFormValue("code"))
	fail := func(status int, msg string) error {
		data := s.pageData(r, "Two-factor authentication", "")
		data.Data = twoFactorPage{Next: next, Error: msg}
		return s.render(w, status, "login_2fa", data)
	}
	ip := clientIP(r)
	// Reserved before the check, as for passwords, so parallel guesses
	// cannot outrun the count.
	tooMany := "Too many wrong codes. Wait a few minutes and try again."
	if _, ok := throttled(w, s.mfaByIP.Reserve(ip)); ok {
		return fail(http.StatusTooManyRequests, tooMany)
	}
	if _, ok := throttled(w, s.mfaByUser.Reserve(p.user.ID)); ok {
		s.mfaByIP.Release(ip)
		return fail(http.StatusTooManyRequests, tooMany)
	}
	secret, _, _, err := s.store.TOTP(r.Context(), p.user.PublisherID, p.user.ID)
	if err != nil {
		return err
	}
	// An authenticator code is accepted once: its time step must be after
	// the last one accepted for the user, recorded atomically.
	step, valid := auth.TOTPStep(secret, code, s.now())
	if valid {
		if valid, err = s.store.AcceptTOTPStep(r.Context(), p.user.PublisherID, p.user.ID, step); err != nil {
			return err
		}
	}
	via := "totp"
	if !valid && len(code) > 6 {
		valid, err = s.store.UseRecoveryCode(r.Context(), p.user.PublisherID, p.user.ID, auth.HashRecoveryCode(code))
		if err != nil {
			return err
		}
		via = "recovery_code"
	}
	if !valid {
		s.auditAs(r, p.user, "auth.2fa_failed", nil)
		return fail(http.StatusUnauthorized, "That code is not valid. Enter the current 6-digit code or a recovery code.")
	}
	s.mfaByIP.Release(ip)
	s.mfaByUser.Reset(p.user.ID)
	token := auth.NewToken()
	if err := s.store.CompleteMFA(r.Context(), p.sess.PublisherID, p.sess.ID, auth.HashToken(token)); err != nil {
		return err
	}
	if err := s.store.TouchSession(r.Context(), p.sess.PublisherID, p.sess.ID, s.now().Add(idleTimeout)); err != nil {
		return err
	}
	if err := s.store.RecordLogin(r.Context(), p.user.PublisherID, p.user.ID); err != nil {
		return err
	}
	s.setSessionCookie(w, r, token)
	s.auditAs(r, p.user, "auth.login", map[string]any{"second_factor": via})
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
		s.audit(r, a.PublisherID, "auth.logout", a.Email, nil)
	} else if p, ok := r.Context().Value(pendingKey{}).(pendingLogin); ok {
		s.store.RevokeSession(r.Context(), p.sess.PublisherID, p.sess.ID)
	}
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// maxNextLength bounds the post-login target kept in forms and redirects.
const maxNextLength = 2048

// safeNext keeps post-login redirects on this site: it returns next when it
// is a path of this origin, else the default page. A path qualifies when it
// starts with one "/", holds no control character, backslash or "//"
// (browsers drop tabs and newlines and read "\\" as "/", so "/\t/evil" and
// "/\\evil" lead off-site), and none appears after percent-decoding either
// (some servers and proxies decode once more).
func safeNext(next string) string {
	const home = "/overview"
	if next == "" || len(next) > maxNextLength || next[0] != '/' {
		return home
	}
	pathPart, _, _ := strings.Cut(next, "?")
	pathPart, _, _ = strings.Cut(pathPart, "#")
	for s, i := pathPart, 0; ; i++ {
		if !sameOriginPath(s) {
			return home
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return home
		}
		if d == s {
			break
		}
		if i == 3 {
			// Encoded more than a few times over: no real link is.
			return home
		}
		s = d
	}
	if strings.ContainsFunc(next, isControl) || strings.Contains(next, "\\") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	return next
}

// sameOriginPath reports whether p is an absolute path of this origin with
// no character a browser could read as leaving it.
func sameOriginPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.Contains(p, "//") && !strings.Contains(p, "\\") && !strings.ContainsFunc(p, isControl)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
