package campaign

import (
	"fmt"
	"strings"
)

// LiveEditProblem is the one rule of what may change while a campaign is
// running (docs/campaigns.md#editing-a-running-campaign): its name, its
// daily shares, new senders, and the texts (note, subject, message) of
// steps no prospect has reached yet. reached lists the step ids prospects
// are at or have finished at. It returns "" when next is a safe live edit
// of running, or a sentence naming everything that cannot change while the
// campaign runs. The API and the web form both get it through Update.
func LiveEditProblem(running, next Campaign, reached map[string]bool) string {
	var bad []string
	keep := map[string]bool{}
	for _, a := range next.AccountIDs {
		keep[a] = true
	}
	for _, a := range running.AccountIDs {
		if !keep[a] {
			bad = append(bad, "removing sender "+a)
		}
	}
	if running.StopOnReply != next.StopOnReply {
		bad = append(bad, "whether a reply stops the sequence")
	}
	if running.LateAcceptPolicy != next.LateAcceptPolicy {
		bad = append(bad, "what happens on a late accept")
	}
	bad = append(bad, liveStepChanges(running.Steps, next.Steps, reached)...)
	if len(bad) == 0 {
		return ""
	}
	return "the campaign is running: only its name, daily shares, new senders and the texts of steps no prospect has reached can change now; " +
		"pause it to change " + strings.Join(bad, ", ") + ", then resume it"
}

// liveStepChanges lists the step changes a running campaign refuses.
func liveStepChanges(old, next []Step, reached map[string]bool) []string {
	if len(old) != len(next) {
		return []string{"the number of steps"}
	}
	var bad []string
	touched := reachedOrBeyond(old, reached)
	for i := range old {
		o, n := old[i], next[i]
		name := fmt.Sprintf("step %d (%s)", i+1, StepTypeLabel(o.Type))
		if o.ID != n.ID || o.Type != n.Type {
			bad = append(bad, "the order or types of the steps")
			return bad
		}
		if o.Then != n.Then || o.Else != n.Else || o.WaitDuration() != n.WaitDuration() || o.WithinDuration() != n.WithinDuration() {
			bad = append(bad, name+"'s timing or branches")
		}
		if (o.Note != n.Note || o.Subject != n.Subject || o.Text != n.Text) && touched[o.ID] {
			bad = append(bad, name+"'s text (prospects have reached it)")
		}
	}
	return bad
}

// reachedOrBeyond marks the steps a prospect may have passed: those
// prospects are at and every step from which one of those can be reached.
func reachedOrBeyond(steps []Step, reached map[string]bool) map[string]bool {
	index := map[string]int{}
	for i, s := range steps {
		index[s.ID] = i
	}
	out := map[string]bool{}
	var leads func(i int, seen map[int]bool) bool
	leads = func(i int, seen map[int]bool) bool {
		if reached[steps[i].ID] {
			return true
		}
		seen[i] = true
		for _, j := range successors(steps, index, i) {
			if !seen[j] && leads(j, seen) {
				return true
			}
		}
		return false
	}
	for i, s := range steps {
		out[s.ID] = leads(i, map[int]bool{})
	}
	return out
}
