package geo

import (
	"errors"
	"fmt"
)

// Error codes name the kind of failure; the HTTP layer maps each to one status.
const (
	EInvalid      = "invalid"      // the caller's input is wrong (400)
	ENotFound     = "not_found"    // the thing asked for does not exist (404)
	EConflict     = "conflict"     // the request clashes with the current state (409)
	EUnauthorized = "unauthorized" // credentials are missing or wrong (401)
	EForbidden    = "forbidden"    // the action is not allowed here (403)
	EUnavailable  = "unavailable"  // a dependency (the database) is down (503)
	ETimeout      = "timeout"      // a dependency was too slow (504)
	EInternal     = "internal"     // a bug or an unexpected failure (500)
)

// Error is a failure a user can act on: Code says what kind, Message says what
// went wrong in one sentence, Detail says where (a parameter, a row, a field).
type Error struct {
	Code    string
	Message string
	Detail  string
	Err     error // the underlying cause, for logs; never shown to users
}

func (e *Error) Error() string {
	s := e.Message
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EInvalid error whose Detail names where the input is wrong.
func Invalid(detail, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Message: fmt.Sprintf(format, args...), Detail: detail}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}
