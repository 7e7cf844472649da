package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

// Request body limits. Every body is capped in size, and must keep
// arriving at a minimum rate after a short grace period: a client that
// trickles a body would otherwise hold a connection (and a handler) for the
// server's whole read timeout (issue 12). A 32 MiB import at the minimum
// rate takes about four minutes, within that timeout.
const (
	maxBodyBytes       = 32 << 20
	defaultBodyGrace   = 10 * time.Second
	defaultBodyMinRate = 128 << 10 // bytes per second
)

// bodyLimits are the size and rate a request body must keep to.
type bodyLimits struct {
	max   int64
	grace time.Duration
	rate  int64 // bytes per second
}

// SetBodyRate changes how long a request body may take: grace, plus one
// second per rate bytes received. Tests use it to make the deadline short.
func (s *Server) SetBodyRate(grace time.Duration, rate int64) {
	s.body.grace, s.body.rate = grace, rate
}

type bodyKey struct{}

// bodyGuard is a request body within bodyLimits. It moves the connection's
// read deadline along as bytes arrive (start + grace + received/rate), so a
// body slower than the rate runs out of time, and it remembers why a read
// failed, so the error adapter can answer 413 or 408 however the handler
// wrapped the error. Once the body is read whole, net/http lifts the read
// deadline itself (to watch for the client going away), so a handler that
// works on a body for longer is not cut off.
type bodyGuard struct {
	r        io.ReadCloser
	rc       *http.ResponseController
	lim      bodyLimits
	start    time.Time
	n        int64
	tooLarge bool
	tooSlow  bool
}

func (g *bodyGuard) Read(p []byte) (int, error) {
	// The deadline cannot be set on every transport (HTTP/2 over
	// httptest, for one); then only the server's ReadTimeout applies.
	deadline := g.start.Add(g.lim.grace + time.Duration(float64(g.n)/float64(g.lim.rate)*float64(time.Second)))
	g.rc.SetReadDeadline(deadline)
	n, err := g.r.Read(p)
	g.n += int64(n)
	if err != nil && err != io.EOF {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			g.tooLarge = true
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			g.tooSlow = true
		}
	}
	return n, err
}

func (g *bodyGuard) Close() error { return g.r.Close() }

// limitBodies puts every request body behind a bodyGuard.
func (s *Server) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > s.body.max {
			// Announced too large: refused before a byte is read.
			s.fail(w, r, phantomos.Errorf(phantomos.ETOOLARGE, "The request body is larger than the limit of %d MiB.", s.body.max>>20))
			return
		}
		g := &bodyGuard{r: http.MaxBytesReader(w, r.Body, s.body.max), rc: http.NewResponseController(w), lim: s.body, start: time.Now()}
		r.Body = g
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, g)))
	})
}

// bodyError replaces err by a clear client error when the request's body
// was cut off for its size or its pace: handlers report a body read error
// in many ways (often as "invalid input"), and the body decides.
func (s *Server) bodyError(r *http.Request, err error) error {
	g, ok := r.Context().Value(bodyKey{}).(*bodyGuard)
	switch {
	case !ok:
		return err
	case g.tooLarge:
		return phantomos.Errorf(phantomos.ETOOLARGE, "The request body is larger than the limit of %d MiB.", g.lim.max>>20)
	case g.tooSlow:
		return phantomos.Errorf(phantomos.ETIMEOUT, "The request body arrived too slowly (under %d KiB/s after %s).", g.lim.rate>>10, g.lim.grace)
	}
	return err
}

// parseForm reads the form of a page's POST before its handler runs, so
// that a body that cannot be parsed (malformed, too large, too slow) is a
// 400, 413 or 408 before any write, rather than a handler carrying on with
// empty fields (r.FormValue drops the parse error).
func parseForm(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	var err error
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return nil
	case strings.HasPrefix(ct, "multipart/form-data"):
		err = r.ParseMultipartForm(maxBodyBytes)
	default:
		err = r.ParseForm()
	}
	switch {
	case err == nil:
		return nil
	case err.Error() == "http: POST too large":
		// net/http caps a urlencoded form at 10 MB (an unexported error).
		return phantomos.Errorf(phantomos.ETOOLARGE, "The form is larger than the limit of 10 MB.")
	}
	return phantomos.Errorf(phantomos.EINVALID, "The form could not be read (%v). Reload the page and try again.", err)
}
