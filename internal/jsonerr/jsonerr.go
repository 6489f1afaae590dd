// Package jsonerr turns encoding/json's decoding errors into sentences in
// the API's terms: the place in the body as a JSON path
// (prospects[0].first_name, or body for the whole of it) and what was
// expected there, never a Go type (docs/surfaces.md#errors).
package jsonerr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Root names the whole body in a path.
const Root = "body"

// Error is one decoding problem: Field is the JSON path of the offending
// value, Message what is wrong with it.
type Error struct {
	Field   string
	Message string
}

// Error implements error as "field: message".
func (e *Error) Error() string { return e.Field + ": " + e.Message }

// Describe explains err, returned by decoding body, in API terms; an error
// that is not a decoding error is described as unreadable JSON.
func Describe(body []byte, err error) *Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(body)) == 0 || errors.Is(err, io.EOF):
		return &Error{Field: Root, Message: "is empty; send a JSON value"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Field: Root, Message: "ends before its JSON value is complete"}
	case errors.As(err, &syntax):
		line, col := position(body, syntax.Offset)
		what := syntax.Error()
		if rest, ok := strings.CutPrefix(what, "invalid character "); ok {
			// Keep the character, drop the lexer's state.
			if end := strings.Index(rest[1:], "'"); rest != "" && rest[0] == '\'' && end >= 0 {
				rest = rest[:end+2]
			}
			what = "unexpected character " + rest
		}
		return &Error{Field: Root, Message: fmt.Sprintf("is not valid JSON at line %d, column %d (byte %d): %s",
			line, col, syntax.Offset, what)}
	case errors.As(err, &typ):
		return &Error{Field: pathAt(body, typ.Offset), Message: "must be " + expected(typ.Type) + ", not " + got(typ.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, qerr := strconv.Unquote(name); qerr == nil {
			name = n
		}
		return &Error{Field: keyPath(body, name), Message: "is not a field of this body"}
	}
	return &Error{Field: Root, Message: "could not be read as JSON"}
}

// position is the 1-based line and column of byte offset off.
func position(body []byte, off int64) (line, col int) {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	before := body[:max(off-1, 0)]
	line = bytes.Count(before, []byte("\n")) + 1
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// expected names a Go type as the JSON it accepts.
func expected(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another kind of value"
}

// got names the JSON kind encoding/json reports ("array", "number 1.5").
func got(v string) string {
	kind, _, _ := strings.Cut(v, " ")
	switch kind {
	case "array", "object":
		return "an " + kind
	case "bool":
		return "a boolean"
	case "number":
		return v
	case "string":
		return "a string"
	}
	return v
}

// step is one level of a path: an object key or an array index.
type step struct {
	array bool
	key   string
	index int
}

func render(stack []step) string {
	if len(stack) == 0 {
		return Root
	}
	var b strings.Builder
	for _, s := range stack {
		if s.array {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// walk reads body's tokens, calling visit with the path of every value
// and the input offset after its first token; visit returns true to stop.
func walk(body []byte, visit func(path []step, offset int64, tok json.Token, isKey bool) bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []step
	// inObject[i] says whether stack level i is an object awaiting a key.
	var expectKey []bool
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			expectKey = expectKey[:len(expectKey)-1]
			afterValue(stack, expectKey)
			continue
		}
		if n := len(expectKey); n > 0 && expectKey[n-1] {
			key, _ := tok.(string)
			stack[len(stack)-1].key = key
			expectKey[n-1] = false
			if visit(stack, dec.InputOffset(), tok, true) {
				return
			}
			continue
		}
		path := stack
		if len(path) > 0 && !path[len(path)-1].array && path[len(path)-1].key == "" {
			path = path[:len(path)-1]
		}
		if visit(path, dec.InputOffset(), tok, false) {
			return
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, step{array: d == '[', index: -1})
			expectKey = append(expectKey, d == '{')
			if d == '[' {
				stack[len(stack)-1].index = 0
			}
			continue
		}
		afterValue(stack, expectKey)
	}
}

// afterValue moves the innermost level on after one of its values.
func afterValue(stack []step, expectKey []bool) {
	if len(stack) == 0 {
		return
	}
	top := &stack[len(stack)-1]
	if top.array {
		top.index++
		return
	}
	expectKey[len(expectKey)-1] = true
}

// pathAt is the path of the value whose first token ends at or after
// offset (where encoding/json reports a type mismatch).
func pathAt(body []byte, offset int64) string {
	out := Root
	walk(body, func(path []step, off int64, _ json.Token, isKey bool) bool {
		if isKey || off < offset {
			return false
		}
		out = render(path)
		return true
	})
	return out
}

// keyPath is the path of the first member named name.
func keyPath(body []byte, name string) string {
	out := name
	walk(body, func(path []step, _ int64, tok json.Token, isKey bool) bool {
		if isKey && tok == name {
			out = render(path)
			return true
		}
		return false
	})
	return out
}
