package text

import (
	"errors"
	"strings"
	"testing"
)

func TestRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in        string
		line, mul bool // acceptable as single-line / multi-line
	}{
		{"Q1 founders", true, true},
		{"Zoë – 日本 🚀", true, true},
		{"", true, true},
		{"a\tb", false, true},
		{"a\nb", false, true},
		{"a\r\nb", false, true},
		{"a\rb", false, false},
		{"trailing\r", false, false},
		{"a\x00b", false, false},
		{"\x07", false, false},
		{"\x1b[31m", false, false},
		{"a\x7fb", false, false},
		{"a\u0085b", false, false},
		{"a\u009fb", false, false},
		{"a\u00a0b", true, true}, // no-break space is text
		{"bad \xff utf8", false, false},
	}
	for _, c := range cases {
		if got := CheckLine("f", c.in) == nil; got != c.line {
			t.Errorf("CheckLine(%q) accepted=%v, want %v", c.in, got, c.line)
		}
		if got := CheckMultiline("f", c.in) == nil; got != c.mul {
			t.Errorf("CheckMultiline(%q) accepted=%v, want %v", c.in, got, c.mul)
		}
	}
}

func TestErrorNamesField(t *testing.T) {
	t.Parallel()
	err := CheckMultiline("steps[0].note", "hi\x00")
	var te *Error
	if !errors.As(err, &te) || te.Field != "steps[0].note" || !strings.Contains(err.Error(), "steps[0].note: contains a NUL byte") {
		t.Fatalf("err = %v", err)
	}
	if err := CheckLine("name", "a\x07"); err == nil || !strings.Contains(err.Error(), "U+0007") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckJSONPaths(t *testing.T) {
	t.Parallel()
	cases := []struct{ body, field string }{
		{`{"name": "ok", "steps": [{"id": "s1", "note": "a\u0000b"}]}`, "steps[0].note"},
		{`{"name": "a\u0007"}`, "name"},
		{`{"steps": [{"id": "s1"}, {"id": "s2", "text": "x\u0085"}]}`, "steps[1].text"},
		{`{"caps": {"invite_daily": 3}, "timezone": "Europe/Paris\u001b"}`, "timezone"},
		{`{"a": [[1, 2], ["x", "\u0000"]]}`, "a[1][1]"},
		{"{\"name\": \"bad \xff\"}", "name"},
		{`["\u0000"]`, "[0]"},
	}
	for _, c := range cases {
		err := CheckJSON([]byte(c.body))
		var te *Error
		if !errors.As(err, &te) || te.Field != c.field {
			t.Errorf("CheckJSON(%s) = %v, want an error on %s", c.body, err, c.field)
		}
	}
	for _, ok := range []string{
		`{"name": "Q1", "steps": [{"id": "s1", "text": "Hi\tthere\r\nsee you\n"}], "n": 3, "b": true, "z": null}`,
		`not json`,
	} {
		if err := CheckJSON([]byte(ok)); err != nil {
			t.Errorf("CheckJSON(%s) = %v, want nil", ok, err)
		}
	}
	// A bad key is named too.
	if err := CheckJSON([]byte(`{"a": {"k\u0000": 1}}`)); err == nil || !strings.Contains(err.Error(), `a."k\x00"`) {
		t.Errorf("bad key: %v", err)
	}
}
