package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/auth"
)

type requestIDKey struct{}

// RequestID returns the id of the request in ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID gives every request an id, taken from X-Request-Id when a proxy
// set a sane one, and echoes it in the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < '!' || c > '~' }) {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// recoverPanics turns a panic into a logged 500 instead of a dropped
// connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("panic", "request_id", RequestID(r.Context()), "path", r.URL.Path, "panic", v)
				http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type routeKey struct{}

// routeInfo carries the matched route pattern back up to observe.
type routeInfo struct{ pattern string }

func setRoute(ctx context.Context, pattern string) {
	if info, ok := ctx.Value(routeKey{}).(*routeInfo); ok {
		info.pattern = pattern
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe records metrics by route pattern (never raw paths, which would
// explode the label space) and logs each request.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		// Middleware below copies the request, so the mux's r.Pattern is not
		// visible here; guard writes the matched route into this holder.
		info := &routeInfo{pattern: "unmatched"}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), routeKey{}, info)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := info.pattern
		d := time.Since(start)
		s.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Inc()
		s.latency.WithLabelValues(route).Observe(d.Seconds())
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && r.URL.Path != "/metrics" {
			s.logger.Info("request", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path,
				"route", route, "status", sw.status, "duration_ms", float64(d.Microseconds())/1000)
		}
	})
}

// securityHeaders sets the headers every response carries. The CSP allows
// no inline script: all JavaScript is in /static. With an https base URL,
// HSTS tells browsers to use https only (never over plain http, where a
// browser ignores it and a development setup would be locked out).
func securityHeaders(next http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

const sessionCookie = "phantomos_session"

type pendingKey struct{}

// pendingLogin is a session waiting for its second factor.
type pendingLogin struct {
	sess *phantomos.Session
	user *phantomos.User
}

// Session lifetimes: a session ends after idleTimeout without use, and in
// any case absoluteTimeout after sign-in.
const (
	idleTimeout     = 7 * 24 * time.Hour
	absoluteTimeout = 30 * 24 * time.Hour
	touchEvery      = time.Minute
)

// authenticate puts the actor of a valid session cookie or API key into
// the request context. An invalid credential is treated as none (the cookie
// is cleared); routes decide whether anonymity is allowed.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" && isAPI(r) {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				api.WriteError(w, r, phantomos.Errorf(phantomos.EUNAUTHORIZED, "Authorization must be \"Bearer <api key>\"."))
				return
			}
			a, err := s.store.ActorByAPIKey(ctx, auth.HashToken(strings.TrimSpace(token)))
			if err != nil {
				if phantomos.ErrorCode(err) == phantomos.EINTERNAL {
					s.fail(w, r, err)
					return
				}
				api.WriteError(w, r, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The API key is not valid, expired or revoked."))
				return
			}
			if wait := s.keyRate.take(a.APIKeyID, s.now()); wait > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
				api.WriteError(w, r, phantomos.Errorf(phantomos.ERATELIMIT, "Too many requests with this API key; retry after the number of seconds in Retry-After."))
				return
			}
			if a.Scope, err = s.store.APIKeyScope(ctx, a.PublisherID, a.APIKeyID); err != nil {
				s.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(phantomos.WithActor(ctx, a)))
			return
		}
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		sess, u, err := s.store.SessionByToken(ctx, auth.HashToken(c.Value))
		if err != nil {
			if phantomos.ErrorCode(err) == phantomos.EINTERNAL {
				s.fail(w, r, err)
				return
			}
			s.clearSessionCookie(w, r)
			next.ServeHTTP(w, r)
			return
		}
		if sess.MFAPending {
			// Only the two-factor step may see a half-signed-in session.
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, pendingKey{}, pendingLogin{sess, u})))
			return
		}
		now := s.now()
		if now.Sub(sess.LastUsedAt) > touchEvery {
			expires := earlier(now.Add(idleTimeout), sess.CreatedAt.Add(absoluteTimeout))
			if err := s.store.TouchSession(ctx, sess.PublisherID, sess.ID, expires); err != nil {
				s.logger.Warn("touch session", "err", err)
			}
		}
		a := &phantomos.Actor{PublisherID: u.PublisherID, UserID: u.ID, Role: u.Role, SessionID: sess.ID, Email: u.Email, Name: u.Name}
		next.ServeHTTP(w, r.WithContext(phantomos.WithActor(ctx, a)))
	})
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies() || r.TLS != nil, MaxAge: int(absoluteTimeout.Seconds()),
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies() || r.TLS != nil, MaxAge: -1,
	})
}
