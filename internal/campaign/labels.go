package campaign

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// StepTypeLabel is a step type as the builder names it (docs/campaigns.md#the-sequence-builder).
func StepTypeLabel(t StepType) string {
	switch t {
	case StepInvite:
		return "Invitation"
	case StepMessage:
		return "Message"
	case StepInMail:
		return "InMail"
	case StepViewProfile:
		return "Profile view"
	case StepWait:
		return "Wait"
	case StepIfAccepted:
		return "If accepted"
	case StepIfReplied:
		return "If replied"
	}
	return string(t)
}

// fieldLabel is a step field as the builder labels it.
func fieldLabel(t StepType, field string) string {
	switch field {
	case "note":
		return "note"
	case "subject":
		return "subject"
	case "text":
		if t == StepInMail {
			return "InMail text"
		}
		return "message text"
	case "duration":
		return "wait"
	case "within":
		return "\"within\" time"
	case "then":
		return "\"then\" target"
	case "else":
		return "\"else\" target"
	case "type":
		return "type"
	case "id":
		return "id"
	}
	return field
}

var stepFieldPath = regexp.MustCompile(`^steps\[(\d+)\](?:\.(\w+))?$`)

// DescribedError is a FieldError in the words of the builder's labels.
type DescribedError struct {
	// Step is the step's index (0-based), or -1 when the error is not a
	// step's.
	Step int
	// Field is the step field ("note", "within", …), "" for the step as a
	// whole; for other errors the original field path.
	Field string
	// Sentence is the whole error as the form shows it, e.g. "Step 2
	// (Invitation): the note is 312 characters; LinkedIn allows 300".
	Sentence string
	// Message is the sentence without its "Step N (Type)" prefix, for
	// showing beside the field itself.
	Message string
}

// DescribeFieldError words a validation error of a campaign body for the
// builder: step paths become "Step N (Type)" and field names their labels.
func DescribeFieldError(steps []Step, fe FieldError) DescribedError {
	m := stepFieldPath.FindStringSubmatch(fe.Field)
	if m == nil {
		return DescribedError{Step: -1, Field: fe.Field, Sentence: fe.Message, Message: fe.Message}
	}
	i, _ := strconv.Atoi(m[1])
	var t StepType
	if i < len(steps) {
		t = steps[i].Type
	}
	msg := fe.Message
	if m[2] != "" && !strings.HasPrefix(msg, "the ") {
		msg = "the " + fieldLabel(t, m[2]) + ": " + msg
	}
	prefix := fmt.Sprintf("Step %d", i+1)
	if t != "" {
		prefix += " (" + StepTypeLabel(t) + ")"
	}
	return DescribedError{Step: i, Field: m[2], Sentence: prefix + ": " + msg, Message: msg}
}
