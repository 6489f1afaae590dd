package web

// The sequence builder's buttons: add a step of a type, remove one, move
// one up or down. Each is a submit button whose name is "op"; the form
// comes back with the change and nothing is saved until "Save"
// (docs/campaigns.md#the-sequence-builder).

import (
	"strconv"
	"strings"

	"github.com/keel-outreach/keel/internal/campaign"
)

// stepIDBase is the readable stem of a new step's id.
var stepIDBase = map[campaign.StepType]string{
	campaign.StepInvite: "invite", campaign.StepMessage: "message", campaign.StepInMail: "inmail",
	campaign.StepViewProfile: "view", campaign.StepWait: "wait", campaign.StepIfAccepted: "accepted", campaign.StepIfReplied: "replied",
}

// applyStepOp changes the builder's steps as op says ("add:invite",
// "remove:2", "up:2", "down:2"); it reports whether op was one of them.
func applyStepOp(f *campaignForm, op string) bool {
	verb, arg, _ := strings.Cut(op, ":")
	if verb == "add" {
		t := campaign.StepType(arg)
		if _, ok := stepIDBase[t]; !ok || len(f.Steps) >= campaign.MaxSteps {
			return verb == "add"
		}
		f.Steps = append(f.Steps, newStep(f.Steps, t))
		return true
	}
	i, err := strconv.Atoi(arg)
	if err != nil || i < 0 || i >= len(f.Steps) {
		return verb == "remove" || verb == "up" || verb == "down"
	}
	switch verb {
	case "remove":
		gone := f.Steps[i].ID
		f.Steps = append(f.Steps[:i:i], f.Steps[i+1:]...)
		for j := range f.Steps {
			// A branch to the removed step must be chosen again.
			if f.Steps[j].Then == gone {
				f.Steps[j].Then = ""
			}
			if f.Steps[j].Else == gone {
				f.Steps[j].Else = ""
			}
		}
	case "up":
		if i > 0 {
			f.Steps[i-1], f.Steps[i] = f.Steps[i], f.Steps[i-1]
		}
	case "down":
		if i+1 < len(f.Steps) {
			f.Steps[i+1], f.Steps[i] = f.Steps[i], f.Steps[i+1]
		}
	default:
		return false
	}
	return true
}

// newStep is a step of type t with a generated id no other step has
// (ids stay as they are when steps move), and defaults that make sense:
// a 3-day wait, a condition waiting 7 days that goes on to the next step
// when met and ends otherwise.
func newStep(steps []stepForm, t campaign.StepType) stepForm {
	taken := map[string]bool{campaign.End: true}
	for _, s := range steps {
		taken[s.ID] = true
	}
	id := stepIDBase[t]
	for n := 2; taken[id]; n++ {
		id = stepIDBase[t] + "-" + strconv.Itoa(n)
	}
	sf := stepForm{ID: id, Type: string(t)}
	switch t {
	case campaign.StepWait:
		sf.Days, sf.Hours = "3", "0"
	case campaign.StepIfAccepted, campaign.StepIfReplied:
		sf.Days, sf.Hours, sf.Then, sf.Else = "7", "0", nextTarget, campaign.End
	}
	return sf
}
