package phantomos

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status and one kind of user message.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EFORBIDDEN    = "forbidden"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	ERATELIMIT    = "rate_limited"
	ETOOLARGE     = "too_large" // a request body over its limit
	ETIMEOUT      = "timeout"   // a request body that arrived too slowly
	EINTERNAL     = "internal"
)

// Error is an error meant for the user: a code that decides how it is
// reported and a message that is safe to show. Anything that is not an
// *Error is internal and is logged, never shown.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("phantomos: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err, or a generic one for
// internal errors so that nothing internal leaks.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Something went wrong on our side. It has been logged."
}
