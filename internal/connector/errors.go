package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kind classifies a source failure by what should happen next.
type Kind int

// Kinds of failure.
const (
	// Permanent failures will not go away by retrying: a refused request, an
	// unexpected response. The run fails; the next scheduled sync tries again.
	Permanent Kind = iota
	// Transient failures (network, 5xx, malformed or truncated responses,
	// timeouts) are retried with exponential backoff.
	Transient
	// RateLimited failures are retried after the delay the platform asked
	// for (Retry-After, or its throttle state), or with backoff.
	RateLimited
	// Auth failures need the user: the credentials were revoked, lack a
	// permission, or the store is closed. The connector goes to "error"
	// with the message, until it is reconnected.
	Auth
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case RateLimited:
		return "rate limited"
	case Auth:
		return "auth"
	}
	return "permanent"
}

// Error is a classified source failure. Message is written for the user
// (it is shown on the Connectors page) and never holds credentials.
type Error struct {
	Kind       Kind
	Status     int           // HTTP status, 0 if none
	RetryAfter time.Duration // how long the platform asked to wait, 0 if it did not say
	Message    string
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("connector: %s: %s: %v", e.Kind, e.Message, e.Err)
	}
	return fmt.Sprintf("connector: %s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k with a formatted user message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// KindOf classifies err. Classified errors keep their kind; network
// errors, timeouts and truncated bodies are transient; anything else is
// permanent.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) {
		return Transient
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return Transient
	}
	return Permanent
}

// RetryAfterOf returns the delay err asks for, 0 when it does not say.
func RetryAfterOf(err error) time.Duration {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.RetryAfter
	}
	return 0
}

// UserMessage returns what to show the user about a failed sync.
func UserMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok && e.Message != "" {
		return e.Message
	}
	switch KindOf(err) {
	case Transient:
		return "The store could not be reached."
	}
	return "The sync stopped on an unexpected error. It has been logged."
}

// HTTPError classifies a non-2xx response of platform (a name such as
// "Shopify") with status and header.
func HTTPError(platform string, status int, header http.Header) *Error {
	e := &Error{Status: status}
	switch {
	case status == http.StatusUnauthorized:
		e.Kind = Auth
		e.Message = fmt.Sprintf("%s refused the access token — reconnect the store.", platform)
	case status == http.StatusForbidden:
		e.Kind = Auth
		e.Message = fmt.Sprintf("%s denied access (403): the app lacks a permission. Reconnect the store and approve the requested access.", platform)
	case status == http.StatusPaymentRequired:
		e.Kind = Auth
		e.Message = fmt.Sprintf("%s refused access (402): the store is frozen or its plan is unpaid.", platform)
	case status == http.StatusNotFound:
		e.Kind = Auth
		e.Message = fmt.Sprintf("%s does not know this store (404): it may have been closed or renamed. Reconnect it.", platform)
	case status == http.StatusLocked:
		e.Kind = Auth
		e.Message = fmt.Sprintf("%s reports the store is locked (423).", platform)
	case status == http.StatusTooManyRequests:
		e.Kind = RateLimited
		e.Message = fmt.Sprintf("%s is rate limiting requests (429).", platform)
	case status == http.StatusRequestTimeout || status >= 500:
		e.Kind = Transient
		e.Message = fmt.Sprintf("%s had a temporary problem (%d).", platform, status)
	default:
		e.Kind = Permanent
		e.Message = fmt.Sprintf("%s refused the request (%d).", platform, status)
	}
	if header != nil {
		if d, ok := ParseRetryAfter(header.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d
		}
	}
	return e
}

// ParseRetryAfter reads a Retry-After value: seconds (Shopify sends
// fractions such as "2.0") or an HTTP date.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
