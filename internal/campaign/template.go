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

// MissingVariableError is Render's error for a variable the prospect has
// no value for and the template gives no fallback; it wraps
// ErrMissingVariable.
type MissingVariableError struct {
	// Name is the variable, lower-cased.
	Name string
	// ProspectID is the prospect it was rendered for.
	ProspectID string
}

// Error names the variable and the prospect.
func (e *MissingVariableError) Error() string {
	return fmt.Sprintf("rendering template: {{%s}} for prospect %s: %s", e.Name, e.ProspectID, ErrMissingVariable)
}

// Unwrap returns ErrMissingVariable.
func (e *MissingVariableError) Unwrap() error { return ErrMissingVariable }

// Render fills a template for one prospect. A variable with no value
// renders as its fallback ({{first_name|there}}); with no value and no
// fallback — a built-in left empty or a custom column the prospect lacks —
// it is a *MissingVariableError rather than a message reading "Hi , …"
// (docs/campaigns.md#holds).
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
		value, _ := p.Value(v.name)
		switch {
		case strings.TrimSpace(value) != "":
			b.WriteString(value)
		case v.hasFallback:
			b.WriteString(v.fallback)
		default:
			return "", &MissingVariableError{Name: v.name, ProspectID: p.ID}
		}
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// HoldReason says why a step cannot be sent to a prospect as authored —
// a variable the step uses is empty for them and has no fallback — or ""
// when every template of the step renders. A template that does not parse
// is not a hold (ValidateSteps refuses it at save); it returns "" then and
// rendering reports it.
func HoldReason(st Step, p Prospect) string {
	for _, tf := range stepTemplates(st) {
		_, err := Render(tf[1], p)
		var miss *MissingVariableError
		if errors.As(err, &miss) {
			return fmt.Sprintf("%s is empty and the template has no fallback (step %s, %s): fill it in and re-import the prospect, or write {{%s|…}}",
				miss.Name, st.ID, fieldLabel(st.Type, tf[0]), miss.Name)
		}
	}
	return ""
}

// NeedsValues reports whether some template of the step uses a variable
// without a fallback, i.e. whether HoldReason can hold a prospect there.
func NeedsValues(st Step) bool {
	for _, tf := range stepTemplates(st) {
		if vars, err := TemplateVariables(tf[1]); err == nil && len(vars) > 0 {
			return true
		}
	}
	return false
}

// StepVariables lists the distinct variables a step's templates use,
// with or without a fallback, in order of appearance.
func StepVariables(st Step) []string {
	var out []string
	seen := map[string]bool{}
	for _, tf := range stepTemplates(st) {
		vars, err := parseTemplate(tf[1])
		if err != nil {
			continue
		}
		for _, v := range vars {
			if !seen[v.name] {
				seen[v.name] = true
				out = append(out, v.name)
			}
		}
	}
	return out
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

// FallbackOnly is a variable written with a fallback whose name no
// prospect can fill: neither a built-in nor a column of any prospect
// imported into the campaign, so every prospect gets the fallback — most
// often a mistyped name ({{compnay|there}}). The builder warns about it;
// Start refuses it once prospects are imported
// (docs/campaigns.md#variables-and-fallbacks).
type FallbackOnly struct {
	// Step is the step's index, StepID its id; Field is the template
	// field ("note", "subject", "text").
	Step   int
	StepID string
	Type   StepType
	Field  string
	// Name is the variable, lower-cased; Fallback what it renders to.
	Name, Fallback string
}

// FieldPath is the problem's field in API terms, e.g. "steps[0].note".
func (f FallbackOnly) FieldPath() string { return fmt.Sprintf("steps[%d].%s", f.Step, f.Field) }

// Warning is the sentence shown beside the step.
func (f FallbackOnly) Warning() string {
	return fmt.Sprintf("{{%s}} in step %s (%s) is not a column of any imported prospect; every prospect will get the fallback %q",
		f.Name, f.StepID, fieldLabel(f.Type, f.Field), f.Fallback)
}

// Refusal is the sentence Start answers with.
func (f FallbackOnly) Refusal() string {
	return f.Warning() + ": correct the name, import that column, or write the text without the variable"
}

// FallbackOnlyVariables lists, in step order, the variables with a
// fallback whose name is neither built-in nor one isColumn accepts (a
// column of some prospect imported into the campaign); each name once per
// template field. Templates that do not parse are left to ValidateSteps.
func FallbackOnlyVariables(steps []Step, isColumn func(name string) bool) []FallbackOnly {
	var out []FallbackOnly
	for i, st := range steps {
		for _, tf := range stepTemplates(st) {
			vars, err := parseTemplate(tf[1])
			if err != nil {
				continue
			}
			seen := map[string]bool{}
			for _, v := range vars {
				if !v.hasFallback || seen[v.name] || IsBuiltinVariable(v.name) || isColumn(v.name) {
					continue
				}
				seen[v.name] = true
				out = append(out, FallbackOnly{Step: i, StepID: st.ID, Type: st.Type, Field: tf[0], Name: v.name, Fallback: v.fallback})
			}
		}
	}
	return out
}
