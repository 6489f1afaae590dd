// Package text holds Keel's one rule for text a user or client sends: it
// must be valid UTF-8 and hold no control characters. PostgreSQL refuses
// a NUL byte in text columns while SQLite stores it, so without the rule
// the same request answers 500 on one engine and stores unreadable text on
// the other; other control characters (bell, escape, C1 controls) have no
// place in names or messages and can corrupt terminals and logs.
//
// Multi-line fields (invitation notes, message texts) may hold tab, line
// feed and CR as part of CRLF; single-line fields (names, ids, time zones,
// URLs) may hold none.
package text

import (
	"fmt"
	"net/url"
	"unicode/utf8"
)

// Error is a field whose text breaks the rule. Field is the path the
// client used, e.g. "steps[0].note".
type Error struct {
	Field   string
	Message string
}

// Error returns "field: message".
func (e *Error) Error() string { return e.Field + ": " + e.Message }

// CheckLine checks a single-line field: valid UTF-8 and no control
// characters at all (C0, DEL, C1; tab and newline included).
func CheckLine(field, value string) error {
	return check(field, value, false)
}

// CheckMultiline checks a multi-line text field: valid UTF-8 and no
// control characters except tab, line feed and a CR directly before a
// line feed.
func CheckMultiline(field, value string) error {
	return check(field, value, true)
}

// Problem returns the message CheckLine (multiline false) or
// CheckMultiline would give, without a field name; "" when the value is
// acceptable.
func Problem(value string, multiline bool) string {
	if !utf8.ValidString(value) {
		return "is not valid UTF-8 text"
	}
	for i, r := range value {
		if !IsControl(r) {
			continue
		}
		if multiline && (r == '\t' || r == '\n' || (r == '\r' && i+1 < len(value) && value[i+1] == '\n')) {
			continue
		}
		if r == 0 {
			return "contains a NUL byte (U+0000), which is not allowed"
		}
		if multiline {
			return fmt.Sprintf("contains the control character U+%04X; only tab and line breaks are allowed", r)
		}
		return fmt.Sprintf("contains the control character U+%04X; this field is a single line of text", r)
	}
	return ""
}

func check(field, value string, multiline bool) error {
	if msg := Problem(value, multiline); msg != "" {
		return &Error{Field: field, Message: msg}
	}
	return nil
}

// IsControl reports whether r is a C0 control (U+0000–U+001F), DEL
// (U+007F) or a C1 control (U+0080–U+009F).
func IsControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// Valid reports whether s is valid UTF-8 without any control character;
// for identifiers and other values that are never multi-line.
func Valid(s string) bool { return Problem(s, false) == "" }

// URLProblem checks a request URL by the single-line rule: its path, then
// each query parameter's name and values. msg is empty when the URL is
// clean; otherwise param names the bad query parameter (callers answer
// 400), or is empty when the path is bad (no object's path has control
// characters, so callers answer 404).
func URLProblem(u *url.URL) (param, msg string) {
	if msg := Problem(u.Path, false); msg != "" {
		return "", msg
	}
	for k, vs := range u.Query() {
		for _, v := range append([]string{k}, vs...) {
			if msg := Problem(v, false); msg != "" {
				return k, msg
			}
		}
	}
	return "", ""
}
