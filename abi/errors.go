package abi

import "fmt"

// Code is a stable error code. Its number is what ImportCall returns negated; its name is the
// "code" string of an ErrorReply. Codes are never renumbered; a minor version may add codes, so a
// plugin must treat an unknown one like CodeInternal.
type Code int32

// Error codes of ABI v1.
const (
	CodeBadRequest    Code = 1  // the request was not valid JSON or lacked a required field
	CodeNotFound      Code = 2  // the contact, key, message, timer or handle does not exist
	CodeUnknownMethod Code = 3  // the host does not know this method (a newer minor version?)
	CodeForbidden     Code = 4  // the gateway's config does not grant this (a bridge, a URL)
	CodeQuota         Code = 5  // a storage quota or size cap would be exceeded
	CodeUnavailable   Code = 6  // the resource is down for now (a bridge backend); retry later
	CodeNoSession     Code = 7  // the call needs a session and the event had none
	CodeInternal      Code = 8  // the host failed; the message says how
	CodeInvalid       Code = 9  // the plugin's answer: input is invalid (a JID, a form value)
	CodeNetwork       Code = 10 // the plugin's answer: the legacy network refused or failed
)

var codeNames = [...]string{
	CodeBadRequest:    "bad_request",
	CodeNotFound:      "not_found",
	CodeUnknownMethod: "unknown_method",
	CodeForbidden:     "forbidden",
	CodeQuota:         "quota",
	CodeUnavailable:   "unavailable",
	CodeNoSession:     "no_session",
	CodeInternal:      "internal",
	CodeInvalid:       "invalid",
	CodeNetwork:       "network",
}

// String returns the code's stable name, e.g. "not_found".
func (c Code) String() string {
	if c > 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code_%d", int32(c))
}

// MarshalText writes the code's name, so JSON carries "not_found" rather than 2.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a code's name; an unknown name becomes CodeInternal.
func (c *Code) UnmarshalText(b []byte) error {
	for i, n := range codeNames {
		if n != "" && n == string(b) {
			*c = Code(i)
			return nil
		}
	}
	*c = CodeInternal
	return nil
}

// Error is the error object of ABI v1: a stable code and a human-readable message.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string { return e.Code.String() + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorReply is the body of a failed host call or event: {"error": {"code": ..., "message": ...}}.
type ErrorReply struct {
	Error *Error `json:"error"`
}
