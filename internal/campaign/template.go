package campaign

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// BuiltinVariables are the template variables every prospect can fill.
var BuiltinVariables = []string{"first_name", "last_name", "company", "full_name"}

// IsBuiltinVariable reports whether name is one of BuiltinVariables.
func IsBuiltinVariable(name string) bool {
	for _, b := range BuiltinVariables {
		if name == b {
			return true
		}
	}
	return false
}

var variablePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// templateVar is one {{name}} or {{name|fallback}} of a template.
type templateVar struct {
	name        string // lower-cased
	fallback    string
	hasFallback bool
	start, end  int // byte span of the whole {{…}} in the template
}

// parseTemplate finds the variables of a template. Syntax: {{name}}, with
// optional spaces inside the braces, or {{name|fallback}} where fallback
// is used when the prospect has no value. Names are case-insensitive.
func parseTemplate(text string) ([]templateVar, error) {
	var vars []templateVar
	pos := 0
	for {
		open := strings.Index(text[pos:], "{{")
		if open < 0 {
			return vars, nil
		}
		open += pos
		closeRel := strings.Index(text[open+2:], "}}")
		if closeRel < 0 {
			return nil, fmt.Errorf("a {{ at character %d is never closed with }}", runeOffset(text, open)+1)
		}
		inner := text[open+2 : open+2+closeRel]
		v := templateVar{start: open, end: open + 2 + closeRel + 2}
		name := inner
		if i := strings.IndexByte(inner, '|'); i >= 0 {
			name, v.fallback, v.hasFallback = inner[:i], strings.TrimSpace(inner[i+1:]), true
		}
		name = strings.TrimSpace(name)
		if !variablePattern.MatchString(name) {
			return nil, fmt.Errorf("{{%s}} is not a variable: write {{first_name}}, or {{name|fallback}}", inner)
		}
		v.name = strings.ToLower(name)
		vars = append(vars, v)
		pos = v.end
	}
}

func runeOffset(s string, byteOff int) int { return len([]rune(s[:byteOff])) }

// TemplateVariables lists the distinct variables a template uses without a
// fallback, i.e. those a prospect must be able to fill. It returns the
// template's syntax error, if any.
func TemplateVariables(text string) ([]string, error) {
	vars, err := parseTemplate(text)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, v := range vars {
		if !v.hasFallback && !seen[v.name] {
			seen[v.name] = true
			out = append(out, v.name)
		}
	}
	return out, nil
}

// ErrMissingVariable is wrapped by Render when a prospect cannot fill a
// variable.
var ErrMissingVariable = errors.New("template variable has no value")

// Render fills a template for one prospect. Built-in variables with no
// value render empty (or as their fallback); a custom variable the
// prospect lacks, with no fallback, is an error wrapping
// ErrMissingVariable rather than a silently wrong message.
func Render(text string, p Prospect) (string, error) {
	vars, err := parseTemplate(text)
	if err != nil {
		return "", fmt.Errorf("rendering template: %w", err)
	}
	var b strings.Builder
	last := 0
	for _, v := range vars {
		b.WriteString(text[last:v.start])
		last = v.end
		value, ok := p.Value(v.name)
		switch {
		case value != "":
			b.WriteString(value)
		case v.hasFallback:
			b.WriteString(v.fallback)
		case ok:
			// A built-in with no value: nothing to write.
		default:
			return "", fmt.Errorf("rendering template: {{%s}} for prospect %s: %w", v.name, p.ID, ErrMissingVariable)
		}
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// Value returns what variable name renders to for this prospect, and
// whether the prospect can fill it at all (built-ins always can; a custom
// field only when present).
func (p Prospect) Value(name string) (string, bool) {
	switch name {
	case "first_name":
		return p.FirstName, true
	case "last_name":
		return p.LastName, true
	case "company":
		return p.Company, true
	case "full_name":
		return strings.TrimSpace(p.FirstName + " " + p.LastName), true
	}
	v, ok := p.Custom[name]
	return v, ok && v != ""
}

// stepTemplates lists a step's template fields: path suffix and text.
func stepTemplates(s Step) [][2]string {
	switch s.Type {
	case StepInvite:
		return [][2]string{{"note", s.Note}}
	case StepMessage:
		return [][2]string{{"text", s.Text}}
	case StepInMail:
		return [][2]string{{"subject", s.Subject}, {"text", s.Text}}
	}
	return nil
}
