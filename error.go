package casapay

import (
	"errors"
	"fmt"
)

// Error types, as in Stripe's error object.
const (
	ErrorTypeInvalidRequest = "invalid_request_error"
	ErrorTypeIdempotency    = "idempotency_error"
	ErrorTypeAPI            = "api_error"
)

// Error codes CasaPay answers with. They are Stripe's codes, so SDKs that switch on them keep working.
const (
	CodeResourceMissing         = "resource_missing"
	CodeParameterUnknown        = "parameter_unknown"
	CodeParameterInvalidInteger = "parameter_invalid_integer"
	CodeParameterInvalidString  = "parameter_invalid_string"
	CodeParameterInvalidEmpty   = "parameter_invalid_empty"
	CodeParameterMissing        = "parameter_missing"
	CodeParametersExclusive     = "parameters_exclusive"
	CodeEmailInvalid            = "email_invalid"
	CodeIdempotencyKeyInUse     = "idempotency_key_in_use"
)

// Error is an error a client may see. Its JSON fields are Stripe's error object, so SDKs decode it unchanged.
// Status is the HTTP status it answers with; zero means the default for its Type (400, or 500 for api_error).
// RetryAfter, when set, is how many seconds the client should wait before retrying (a Retry-After header).
type Error struct {
	Type       string `json:"type"`
	Code       string `json:"code,omitempty"`
	Param      string `json:"param,omitempty"`
	Message    string `json:"message"`
	Status     int    `json:"-"`
	RetryAfter int    `json:"-"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// InvalidParam returns a 400 invalid_request_error about one parameter, named in bracket notation.
func InvalidParam(code, param, format string, args ...any) *Error {
	return &Error{Type: ErrorTypeInvalidRequest, Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns the 404 resource_missing error for an object of the given kind ("customer") that the
// caller cannot see. param is the parameter that named it: "id" for a path, "starting_after" for a cursor.
func NotFound(kind, param, id string) *Error {
	return &Error{
		Type:    ErrorTypeInvalidRequest,
		Code:    CodeResourceMissing,
		Param:   param,
		Message: fmt.Sprintf("No such %s: '%s'", kind, id),
		Status:  404,
	}
}

// IsNotFound reports whether err is a resource_missing error.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e != nil && e.Code == CodeResourceMissing
}

// ErrIdempotencyMismatch is the error for a key reused with a different request.
func ErrIdempotencyMismatch(key string) *Error {
	return &Error{
		Type: ErrorTypeIdempotency,
		Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. "+
			"Try using a key other than '%s' if you meant to execute a different request.", key),
		Status: 400,
	}
}

// ErrIdempotencyInFlight is the error for a key whose first request is still being processed.
func ErrIdempotencyInFlight(key string) *Error {
	return &Error{
		Type: ErrorTypeIdempotency,
		Code: CodeIdempotencyKeyInUse,
		Message: fmt.Sprintf("There is currently another in-progress request using the idempotency key '%s'. "+
			"Try again later; the first request's result will then be replayed.", key),
		Status: 409,
	}
}
