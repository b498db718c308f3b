// Package errs defines Rapport's application errors: a small set of kinds
// that every layer uses and exactly one place (the API) maps to HTTP status
// codes. Internal details never travel inside these errors to users.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an application error.
type Kind string

// The kinds of application error.
const (
	Invalid            Kind = "invalid"
	NotFound           Kind = "not_found"
	Conflict           Kind = "conflict"
	PreconditionFailed Kind = "precondition_failed"
	PreconditionNeeded Kind = "precondition_required"
	Unauthorized       Kind = "unauthorized"
	Forbidden          Kind = "forbidden"
	TooLarge           Kind = "too_large"
	Internal           Kind = "internal"
)

// FieldError says what is wrong with one input field.
type FieldError struct {
	Field   string `json:"location"`
	Message string `json:"message"`
	Value   any    `json:"value,omitempty"`
}

// Error is an application error with a kind, a user-safe message and,
// for validation failures, the list of field errors.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s: %v", e.Message, e.Fields)
}

// E builds an error of the given kind.
func E(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Validation builds an invalid-input error from field errors.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Message: "validation failed", Fields: fields}
}

// KindOf returns the kind of err, or Internal when err carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an application error of the given kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
