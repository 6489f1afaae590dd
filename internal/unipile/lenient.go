package unipile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FlexString is a string that also accepts a JSON number (kept digit for
// digit, so 19-digit invitation ids survive), a boolean, or null (empty).
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("decoding string: %w", err)
		}
		*s = FlexString(v)
	case string(b) == "true" || string(b) == "false":
		*s = FlexString(b)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		if !json.Valid(b) {
			return fmt.Errorf("decoding string: invalid number %q", b)
		}
		*s = FlexString(b)
	default:
		return fmt.Errorf("decoding string: unexpected JSON %.20q", b)
	}
	return nil
}

// String returns the value as a plain string.
func (s FlexString) String() string { return string(s) }

// FlexBool is a boolean that also accepts 0/1 numbers, the strings "true",
// "false", "1", "0" and "" (case-insensitive), and null (false). Webhooks send
// is_sender as a boolean while REST sends 0/1.
type FlexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *FlexBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding bool: %w", err)
		}
		s = strings.ToLower(strings.TrimSpace(s))
	}
	switch s {
	case "true", "1", "yes":
		*v = true
	case "false", "0", "no", "", "null":
		*v = false
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("decoding bool: unexpected value %.20q", s)
		}
		*v = f != 0
	}
	return nil
}

// FlexInt is an integer that also accepts a numeric string, an integral
// float (3.0), and null or "" (zero).
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (v *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding integer: %w", err)
		}
		s = strings.TrimSpace(s)
	}
	if s == "" || s == "null" {
		*v = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*v = FlexInt(n)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt64 {
		return fmt.Errorf("decoding integer: unexpected value %.20q", s)
	}
	*v = FlexInt(f)
	return nil
}

// FlexTime is an instant that accepts RFC 3339 strings (with or without
// fractional seconds), epoch numbers (milliseconds, or seconds when the value
// is too small to be a plausible millisecond time) as JSON numbers or
// numeric strings, and null or "" (zero time). Relations carry created_at in
// epoch milliseconds while accounts carry ISO strings.
type FlexTime struct {
	time.Time
}

// epochSecondsBelow separates seconds from milliseconds: 1e11 seconds is the
// year 5138, 1e11 milliseconds is 1973.
const epochSecondsBelow = 1e11

// UnmarshalJSON implements json.Unmarshaler.
func (t *FlexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	quoted := len(b) > 0 && b[0] == '"'
	if quoted {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding time: %w", err)
		}
		s = strings.TrimSpace(s)
	}
	if s == "" || s == "null" {
		t.Time = time.Time{}
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.Abs(f) < epochSecondsBelow {
			f *= 1000
		}
		t.Time = time.UnixMilli(int64(f)).UTC()
		return nil
	}
	if !quoted {
		return fmt.Errorf("decoding time: unexpected JSON %.20q", s)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02"} {
		if p, err := time.Parse(layout, s); err == nil {
			t.Time = p.UTC()
			return nil
		}
	}
	return fmt.Errorf("decoding time: unrecognised format %.40q", s)
}

// MarshalJSON writes RFC 3339 with milliseconds, or null for the zero time.
func (t FlexTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`), nil
}

// OneOrMany accepts either a JSON array of T or a single T (and null as
// empty). The message webhook's attachments field is an array live but a
// single object in the documentation.
type OneOrMany[T any] []T

// UnmarshalJSON implements json.Unmarshaler.
func (m *OneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*m = nil
		return nil
	case b[0] == '[':
		var items []T
		if err := json.Unmarshal(b, &items); err != nil {
			return fmt.Errorf("decoding list: %w", err)
		}
		*m = items
		return nil
	default:
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return fmt.Errorf("decoding list item: %w", err)
		}
		*m = OneOrMany[T]{one}
		return nil
	}
}
