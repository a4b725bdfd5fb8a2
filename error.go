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
	ErrorTypeCard           = "card_error"
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

	CodePaymentMethodUnexpectedState = "payment_method_unexpected_state"
	CodeCustomerMaxPaymentMethods    = "customer_max_payment_methods"

	// Codes of card_error, for card details that cannot be used and for declines.
	CodeInvalidNumber      = "invalid_number"
	CodeIncorrectNumber    = "incorrect_number"
	CodeInvalidExpiryMonth = "invalid_expiry_month"
	CodeInvalidExpiryYear  = "invalid_expiry_year"
	CodeInvalidCVC         = "invalid_cvc"
	CodeCardDeclined       = "card_declined"
	CodeExpiredCard        = "expired_card"
	CodeIncorrectCVC       = "incorrect_cvc"
	CodeProcessingError    = "processing_error"
)

// Error is an error a client may see. Its JSON fields are Stripe's error object, so SDKs decode it unchanged.
// Status is the HTTP status it answers with; zero means the default for its Type (400, 402 for card_error,
// or 500 for api_error). DeclineCode is set on a card_error that is a decline. RetryAfter, when set, is
// how many seconds the client should wait before retrying (a Retry-After header).
type Error struct {
	Type        string `json:"type"`
	Code        string `json:"code,omitempty"`
	DeclineCode string `json:"decline_code,omitempty"`
	Param       string `json:"param,omitempty"`
	Message     string `json:"message"`
	Status      int    `json:"-"`
	RetryAfter  int    `json:"-"`
	// Reason, on a 429, says which limit refused the request (the Stripe-Rate-Limited-Reason header).
	Reason string `json:"-"`
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

// MissingParam returns the 400 resource_missing error for an object that a request parameter (not
// the path) names and the caller cannot use: a payment method in default_payment_method, say.
func MissingParam(kind, param, id string) *Error {
	return &Error{
		Type:    ErrorTypeInvalidRequest,
		Code:    CodeResourceMissing,
		Param:   param,
		Message: fmt.Sprintf("No such %s: '%s'", kind, id),
	}
}

// CardError returns the 402 card_error with code about the card parameter param.
func CardError(code, param, message string) *Error {
	return &Error{Type: ErrorTypeCard, Code: code, Param: param, Message: message, Status: 402}
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
