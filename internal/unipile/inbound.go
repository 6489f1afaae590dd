package unipile

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds what Keel's two inbound endpoints for Unipile (the
// webhook receiver and the hosted-auth notify_url) share: how they answer
// and how they take ids and text from a payload.

// MaxIDLen bounds an id taken from a payload. Unipile ids are about 22
// characters; anything far longer is not one.
const MaxIDLen = 200

// ValidID reports whether s can be a Unipile id: a short printable token
// without spaces (it is stored, indexed and compared).
func ValidID(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// MaxAccountIDLen bounds a Unipile account id. They are about 22
// characters (URL-safe base64 of 16 bytes); the margin allows for a format
// change without admitting arbitrary text.
const MaxAccountIDLen = 64

// ValidAccountID reports whether s has the form of a Unipile account id,
// e.g. "t5XY4yQzR9WVrlNFyzPMhw": 1 to MaxAccountIDLen ASCII letters,
// digits, '_' and '-'. Stricter than ValidID because an account id is put
// into request paths (GET /accounts/{id}) and keys an account row: "../x"
// or "a/b" must never become one.
func ValidAccountID(s string) bool {
	if s == "" || len(s) > MaxAccountIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Printable trims s and keeps at most n bytes of its printable characters
// (cut on a character boundary), so text from a payload can be stored and
// logged safely.
func Printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// Reply answers an inbound call with a small JSON body and no internal
// details. Unipile treats anything but exactly 200 as a failed delivery,
// so success is always 200, never 201 or 204.
func Reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	key := "error"
	if status == http.StatusOK {
		key = "result"
	}
	b, _ := json.Marshal(map[string]string{key: msg})
	_, _ = w.Write(b)
}
