package campaign

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keel-outreach/keel/internal/text"
)

// StepType names what a step does.
type StepType string

// Step types (docs/surfaces.md#json-shapes).
const (
	StepInvite      StepType = "invite"
	StepMessage     StepType = "message"
	StepInMail      StepType = "inmail"
	StepViewProfile StepType = "view_profile"
	StepWait        StepType = "wait"
	StepIfAccepted  StepType = "if_accepted"
	StepIfReplied   StepType = "if_replied"
)

// StepTypes lists every step type.
var StepTypes = []StepType{StepInvite, StepMessage, StepInMail, StepViewProfile, StepWait, StepIfAccepted, StepIfReplied}

// IsCondition reports whether the step branches (then/else) instead of
// falling through to the next step.
func (t StepType) IsCondition() bool { return t == StepIfAccepted || t == StepIfReplied }

// End is the then/else target that finishes the prospect's sequence.
const End = "end"

// Limits of the step graph.
const (
	// MaxSteps bounds a campaign's graph.
	MaxSteps = 50
	// MaxInviteNote is LinkedIn's limit on an invitation note, in
	// characters. Templates are checked against it when saved; the sender
	// must check the rendered note too, since variables change the length.
	MaxInviteNote = 300
	// MaxTextLen bounds message and InMail texts (characters).
	MaxTextLen = 8000
	// MaxSubjectLen bounds an InMail subject (characters).
	MaxSubjectLen = 200
	// MaxDuration bounds wait durations and condition timeouts.
	MaxDuration = 365 * 24 * time.Hour
)

// Step is one node of a campaign's step graph, as authored. Which fields
// apply depends on Type; durations are whole days ("2 days", "2d"), hours
// ("48h", "1d12h") or Go duration strings (docs/campaigns.md#durations).
type Step struct {
	ID   string   `json:"id"`
	Type StepType `json:"type"`
	// Note is the optional invitation note (invite).
	Note string `json:"note,omitempty"`
	// Subject is the InMail subject (inmail).
	Subject string `json:"subject,omitempty"`
	// Text is the message body (message, inmail).
	Text string `json:"text,omitempty"`
	// Duration is how long a wait step waits.
	Duration string `json:"duration,omitempty"`
	// Within is how long a condition waits for its signal.
	Within string `json:"within,omitempty"`
	// Then is where a met condition goes: a step id or "end".
	Then string `json:"then,omitempty"`
	// Else is where a condition goes when it times out: a step id or
	// "end". Required, so no prospect silently ends (field failure P9).
	Else string `json:"else,omitempty"`
}

// WaitDuration is the parsed Duration of a wait step (0 if unset or bad;
// stored campaigns are validated, so it is set).
func (s Step) WaitDuration() time.Duration {
	d, _ := ParseStepDuration(s.Duration)
	return d
}

// WithinDuration is the parsed Within of a condition step.
func (s Step) WithinDuration() time.Duration {
	d, _ := ParseStepDuration(s.Within)
	return d
}

// FirstStepID is where every prospect starts.
func FirstStepID(steps []Step) string {
	if len(steps) == 0 {
		return ""
	}
	return steps[0].ID
}

// NextStepID says where a prospect goes after finishing step currentID:
// the next step in order, or for a condition its then-branch (met) or
// else-branch (not met). It returns End when the sequence is over.
func NextStepID(steps []Step, currentID string, met bool) (string, error) {
	for i, s := range steps {
		if s.ID != currentID {
			continue
		}
		if s.Type.IsCondition() {
			if met {
				return s.Then, nil
			}
			return s.Else, nil
		}
		if i+1 < len(steps) {
			return steps[i+1].ID, nil
		}
		return End, nil
	}
	return "", fmt.Errorf("campaign has no step %q", currentID)
}

// StepByID finds a step.
func StepByID(steps []Step, stepID string) (Step, bool) {
	for _, s := range steps {
		if s.ID == stepID {
			return s, true
		}
	}
	return Step{}, false
}

var stepIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// knownFunc says whether a template variable can be filled.
type knownFunc func(name string) bool

// ValidateSteps checks a step graph: at least one step, unique ids, the
// fields each type needs (and no others), positive durations, explicit
// then/else targets that exist, no cycles, every step reachable, every
// if_accepted preceded by an invite on every path, and templates whose
// variables known accepts (nil: built-ins only). Each problem names its
// field, e.g. "steps[1].note".
func ValidateSteps(steps []Step, known func(name string) bool) []FieldError {
	if known == nil {
		known = IsBuiltinVariable
	}
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if len(steps) == 0 {
		add("steps", "a campaign needs at least one step")
		return errs
	}
	if len(steps) > MaxSteps {
		add("steps", "at most %d steps (has %d)", MaxSteps, len(steps))
		return errs
	}

	index := map[string]int{}
	for i, s := range steps {
		f := fmt.Sprintf("steps[%d]", i)
		switch {
		case s.ID == "":
			add(f+".id", "required")
		case s.ID == End:
			add(f+".id", `"end" is reserved for then/else targets`)
		case !stepIDPattern.MatchString(s.ID):
			add(f+".id", "use 1 to 64 letters, digits, '-' or '_'")
		default:
			if j, dup := index[s.ID]; dup {
				add(f+".id", "duplicate step id %q (also steps[%d])", s.ID, j)
			} else {
				index[s.ID] = i
			}
		}
		errs = append(errs, checkStepText(f, s)...)
		errs = append(errs, validateStepFields(f, s, known)...)
	}

	targetsOK := true
	for i, s := range steps {
		if !s.Type.IsCondition() {
			continue
		}
		for _, br := range []struct{ name, target, what string }{
			{"then", s.Then, "met"},
			{"else", s.Else, "not met in time"},
		} {
			f := fmt.Sprintf("steps[%d].%s", i, br.name)
			switch {
			case br.target == "":
				targetsOK = false
				add(f, "required: the step id to go to when the condition is %s, or \"end\"", br.what)
			case br.target == End:
			default:
				if _, ok := index[br.target]; !ok {
					targetsOK = false
					add(f, "unknown step %q", br.target)
				}
			}
		}
	}
	if !targetsOK || len(index) != len(steps) {
		// The graph is not well formed; cycle and reachability findings
		// would only repeat the errors above.
		return errs
	}
	return append(errs, validateGraph(steps, index)...)
}

// checkStepText applies the text rule to every string of a step: notes
// and texts may span lines, every other field is one line.
func checkStepText(f string, s Step) []FieldError {
	var errs []FieldError
	for _, fv := range []struct {
		name, value string
		multiline   bool
	}{
		{"id", s.ID, false}, {"type", string(s.Type), false}, {"note", s.Note, true}, {"subject", s.Subject, false},
		{"text", s.Text, true}, {"duration", s.Duration, false}, {"within", s.Within, false},
		{"then", s.Then, false}, {"else", s.Else, false},
	} {
		if msg := text.Problem(fv.value, fv.multiline); msg != "" {
			errs = append(errs, FieldError{Field: f + "." + fv.name, Message: msg})
		}
	}
	return errs
}

func validateStepFields(f string, s Step, known knownFunc) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: f + "." + field, Message: fmt.Sprintf(format, args...)})
	}
	// Fields the type does not use are refused rather than ignored: the
	// campaign must run exactly as authored, and a note on a message step
	// is almost certainly a mistake.
	used := map[string]bool{}
	switch s.Type {
	case StepInvite:
		used["note"] = true
		if n := utf8.RuneCountInString(s.Note); n > MaxInviteNote {
			add("note", "the note is %d characters; LinkedIn allows %d", n, MaxInviteNote)
		}
		errs = append(errs, checkTemplate(f+".note", s.ID, s.Note, known)...)
	case StepMessage:
		used["text"] = true
		errs = append(errs, checkText(f+".text", s.ID, s.Text, MaxTextLen, known)...)
	case StepInMail:
		used["subject"], used["text"] = true, true
		errs = append(errs, checkText(f+".subject", s.ID, s.Subject, MaxSubjectLen, known)...)
		errs = append(errs, checkText(f+".text", s.ID, s.Text, MaxTextLen, known)...)
	case StepViewProfile:
	case StepWait:
		used["duration"] = true
		if msg := checkDuration(s.Duration); msg != "" {
			add("duration", "%s", msg)
		}
	case StepIfAccepted, StepIfReplied:
		used["within"], used["then"], used["else"] = true, true, true
		if msg := checkDuration(s.Within); msg != "" {
			add("within", "%s", msg)
		}
	case "":
		add("type", "required (one of %s)", stepTypeList())
	default:
		add("type", "unknown step type %q (one of %s)", s.Type, stepTypeList())
	}
	if s.Type.valid() {
		for _, fv := range []struct{ name, value string }{
			{"note", s.Note}, {"subject", s.Subject}, {"text", s.Text}, {"duration", s.Duration},
			{"within", s.Within}, {"then", s.Then}, {"else", s.Else},
		} {
			if fv.value != "" && !used[fv.name] {
				add(fv.name, "not used by a %s step", s.Type)
			}
		}
	}
	return errs
}

func (t StepType) valid() bool {
	for _, v := range StepTypes {
		if t == v {
			return true
		}
	}
	return false
}

func stepTypeList() string {
	names := make([]string, len(StepTypes))
	for i, t := range StepTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func checkText(field, stepID, text string, max int, known knownFunc) []FieldError {
	if strings.TrimSpace(text) == "" {
		return []FieldError{{Field: field, Message: "required"}}
	}
	if n := utf8.RuneCountInString(text); n > max {
		return []FieldError{{Field: field, Message: fmt.Sprintf("at most %d characters (has %d)", max, n)}}
	}
	return checkTemplate(field, stepID, text, known)
}

func checkDuration(v string) string {
	if v == "" {
		return "required: a duration such as 3 days or 72h"
	}
	d, err := ParseStepDuration(v)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a duration; write it like 3 days, 2d, 48h or 1d12h", v)
	case d <= 0:
		return "must be greater than zero"
	case d > MaxDuration:
		return fmt.Sprintf("at most %s", FormatDays(MaxDuration))
	}
	return ""
}

// checkTemplate reports syntax errors and unknown variables of one
// template field.
func checkTemplate(field, stepID, text string, known knownFunc) []FieldError {
	vars, err := parseTemplate(text)
	if err != nil {
		return []FieldError{{Field: field, Message: err.Error()}}
	}
	var errs []FieldError
	seen := map[string]bool{}
	for _, v := range vars {
		if v.hasFallback || seen[v.name] || known(v.name) {
			continue
		}
		seen[v.name] = true
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(
			"unknown variable {{%s}} in step %s: use one of %s, or a column of the imported prospects",
			v.name, stepID, strings.Join(BuiltinVariables, ", "))})
	}
	return errs
}

// successors are the steps a step can lead to (End excluded).
func successors(steps []Step, index map[string]int, i int) []int {
	s := steps[i]
	if s.Type.IsCondition() {
		var out []int
		for _, t := range []string{s.Then, s.Else} {
			if j, ok := index[t]; ok && t != End {
				out = append(out, j)
			}
		}
		return out
	}
	if i+1 < len(steps) {
		return []int{i + 1}
	}
	return nil
}

func validateGraph(steps []Step, index map[string]int) []FieldError {
	var errs []FieldError
	n := len(steps)

	// Cycles: a depth-first search; an edge back to a step still on the
	// stack closes a loop, which is reported on the field that makes it.
	const (
		white = iota
		grey
		black
	)
	color := make([]int, n)
	var stack []int
	var order []int // post-order, for the topological pass below
	cyclic := false
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, j := range successors(steps, index, i) {
			switch color[j] {
			case white:
				visit(j)
			case grey:
				cyclic = true
				var path []string
				for k := len(stack) - 1; k >= 0; k-- {
					path = append([]string{steps[stack[k]].ID}, path...)
					if stack[k] == j {
						break
					}
				}
				path = append(path, steps[j].ID)
				errs = append(errs, FieldError{Field: edgeField(steps, i, j),
					Message: "creates a loop: " + strings.Join(path, " → ") + "; a prospect could repeat steps forever"})
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
		order = append(order, i)
	}
	for i := 0; i < n; i++ {
		if color[i] == white {
			visit(i)
		}
	}
	if cyclic {
		return errs
	}

	// Reachability from the first step.
	reach := make([]bool, n)
	queue := []int{0}
	reach[0] = true
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range successors(steps, index, i) {
			if !reach[j] {
				reach[j] = true
				queue = append(queue, j)
			}
		}
	}
	for i := range steps {
		if !reach[i] {
			errs = append(errs, FieldError{Field: fmt.Sprintf("steps[%d]", i),
				Message: fmt.Sprintf("step %s is unreachable: no path from the first step (%s) leads to it", steps[i].ID, steps[0].ID)})
		}
	}

	// An if_accepted step can only be met if an invitation went out
	// before it on every path that leads there; otherwise it would always
	// time out.
	invited := make([]bool, n) // an invite happened on every path into i
	seen := make([]bool, n)
	for k := len(order) - 1; k >= 0; k-- { // reverse post-order = topological
		i := order[k]
		if !reach[i] {
			continue
		}
		after := invited[i] || steps[i].Type == StepInvite
		for _, j := range successors(steps, index, i) {
			if !seen[j] {
				seen[j], invited[j] = true, after
			} else {
				invited[j] = invited[j] && after
			}
		}
	}
	for i, s := range steps {
		if reach[i] && s.Type == StepIfAccepted && !invited[i] {
			errs = append(errs, FieldError{Field: fmt.Sprintf("steps[%d].type", i),
				Message: fmt.Sprintf("if_accepted step %s is reachable without an invite step before it, so it could only time out", s.ID)})
		}
	}
	return errs
}

// edgeField names the field that creates the edge i → j.
func edgeField(steps []Step, i, j int) string {
	s := steps[i]
	if s.Type.IsCondition() {
		if s.Then == steps[j].ID {
			return fmt.Sprintf("steps[%d].then", i)
		}
		return fmt.Sprintf("steps[%d].else", i)
	}
	return fmt.Sprintf("steps[%d]", i)
}
