package text

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// CheckJSON walks one JSON document and returns an *Error naming the path
// (e.g. "steps[0].note") of the first string, key or value, that is not
// valid UTF-8 or holds a control character other than tab, line feed and
// CRLF. Go's decoder silently turns invalid UTF-8 into U+FFFD, so the raw
// bytes of each string are checked too. Single-line fields need their own
// check where the domain validates them; this is the guard every JSON body
// passes first. A document that is not valid JSON returns nil: decoding
// reports that better.
func CheckJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		array bool
		index int
		key   string
		onKey bool // an object expecting a key next
	}
	var stack []*frame
	path := func(extraKey string) string {
		var b []byte
		for _, f := range stack {
			if f.array {
				b = append(b, '[')
				b = strconv.AppendInt(b, int64(f.index), 10)
				b = append(b, ']')
				continue
			}
			k := f.key
			if f.onKey {
				k = extraKey
			}
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, k...)
		}
		return string(b)
	}
	done := func() { // a value finished: its container moves on
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.array {
			top.index++
		} else {
			top.onKey = true
		}
	}
	prev := dec.InputOffset()
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil
		}
		raw := body[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{onKey: true})
			case '[':
				stack = append(stack, &frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			isKey := len(stack) > 0 && !stack[len(stack)-1].array && stack[len(stack)-1].onKey
			msg := ""
			if !utf8.Valid(raw) {
				msg = "is not valid UTF-8 text"
			} else {
				msg = Problem(v, true)
			}
			if isKey {
				if msg != "" {
					return &Error{Field: path(printableKey(v)), Message: "the key " + msg}
				}
				top := stack[len(stack)-1]
				top.key, top.onKey = v, false
				continue
			}
			if msg != "" {
				return &Error{Field: path(""), Message: msg}
			}
			done()
		default:
			done()
		}
	}
}

// printableKey quotes a key that could not be shown as it is.
func printableKey(k string) string {
	return strconv.QuoteToASCII(k)
}
