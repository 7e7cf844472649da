package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/phantomos/phantomos/internal/auth"
)

// hashPassword hashes a new password within the server's argon2 budget.
// When every slot stays busy it sets Retry-After and returns auth.ErrBusy
// (429).
func (s *Server) hashPassword(w http.ResponseWriter, r *http.Request, password string) (string, error) {
	h, err := s.hasher.Hash(r.Context(), password)
	return h, retryWhenBusy(w, err)
}

// checkPassword checks a password against its stored hash within the
// server's argon2 budget: nil, auth.ErrMismatch, or auth.ErrBusy with
// Retry-After set.
func (s *Server) checkPassword(w http.ResponseWriter, r *http.Request, hash, password string) error {
	return retryWhenBusy(w, s.hasher.Check(r.Context(), hash, password))
}

func retryWhenBusy(w http.ResponseWriter, err error) error {
	if errors.Is(err, auth.ErrBusy) {
		w.Header().Set("Retry-After", strconv.Itoa(auth.BusyRetryAfter))
	}
	return err
}
