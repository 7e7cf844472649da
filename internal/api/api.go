// Package api is the JSON API of PhantomOS: handlers under /api/ (the seed
// paths kept, everything else under /api/v1/), request decoding and
// validation, RFC 9457 problem+json errors, and the OpenAPI description
// served at /api/openapi.json.
//
// Routes are registered, each with its permission, in internal/web's
// routes.go; this package only provides the handlers.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Handler serves the JSON API.
type Handler struct {
	store  *store.Store
	logger *slog.Logger
}

// New returns an API handler on s.
func New(s *store.Store, logger *slog.Logger) *Handler {
	return &Handler{store: s, logger: logger}
}

// OpenAPI is the OpenAPI 3.1 description of every JSON route.
//
//go:embed openapi.json
var OpenAPI []byte

// HandleOpenAPI serves the OpenAPI description.
func (h *Handler) HandleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(OpenAPI)
	return nil
}

// status maps error codes to HTTP statuses.
var status = map[string]int{
	phantomos.EINVALID:      http.StatusBadRequest,
	phantomos.ENOTFOUND:     http.StatusNotFound,
	phantomos.EFORBIDDEN:    http.StatusForbidden,
	phantomos.ECONFLICT:     http.StatusConflict,
	phantomos.EUNAUTHORIZED: http.StatusUnauthorized,
	phantomos.ERATELIMIT:    http.StatusTooManyRequests,
	phantomos.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	phantomos.ETIMEOUT:      http.StatusRequestTimeout,
	phantomos.EINTERNAL:     http.StatusInternalServerError,
}

// Status returns the HTTP status of err's code.
func Status(err error) int {
	if s, ok := status[phantomos.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Instance string `json:"instance,omitempty"`
}

// WriteError writes err as application/problem+json. Internal errors show a
// generic message; the caller logs them.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	st := Status(err)
	p := Problem{
		Type:     "about:blank",
		Title:    http.StatusText(st),
		Status:   st,
		Detail:   phantomos.ErrorMessage(err),
		Code:     phantomos.ErrorCode(err),
		Instance: r.URL.Path,
	}
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(st)
	w.Write(b)
}

// WriteJSON encodes v into a buffer first, so an encoding failure becomes a
// clean 500 rather than half a body.
func WriteJSON(w http.ResponseWriter, st int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(st)
	w.Write(append(b, '\n'))
	return nil
}

// actor returns the request's actor; routes that reach a handler have one.
func actor(ctx context.Context) *phantomos.Actor {
	a := phantomos.ActorFrom(ctx)
	if a == nil {
		panic("api: handler reached without an actor; check its route permission")
	}
	return a
}
