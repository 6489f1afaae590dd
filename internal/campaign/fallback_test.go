package campaign_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestFallbackOnlyVariables: a variable with a fallback whose name is
// neither built-in nor a column of an imported prospect is listed once per
// field, with its step and fallback; built-ins, known columns and
// variables without a fallback are not (docs/campaigns.md#variables-and-fallbacks).
func TestFallbackOnlyVariables(t *testing.T) {
	t.Parallel()
	steps := []campaign.Step{
		{ID: "inv", Type: campaign.StepInvite, Note: "Hi {{first_name|there}} at {{compnay|your company}}, {{ COMPNAY | x }}"},
		{ID: "w", Type: campaign.StepWait, Duration: "1d"},
		{ID: "msg", Type: campaign.StepMessage, Text: "{{title|friend}} {{team}} {{role|}}"},
		{ID: "in", Type: campaign.StepInMail, Subject: "{{compnay|you}}", Text: "{{ unclosed"},
	}
	got := campaign.FallbackOnlyVariables(steps, func(name string) bool { return name == "title" })
	var lines []string
	for _, fo := range got {
		lines = append(lines, fo.FieldPath()+" "+fo.Name+"="+fo.Fallback)
	}
	want := "steps[0].note compnay=your company|steps[2].text role=|steps[3].subject compnay=you"
	if strings.Join(lines, "|") != want {
		t.Fatalf("got %q, want %q", strings.Join(lines, "|"), want)
	}
	if w := got[0].Warning(); !strings.Contains(w, "{{compnay}} in step inv (note) is not a column of any imported prospect") ||
		!strings.Contains(w, `every prospect will get the fallback "your company"`) {
		t.Fatalf("warning: %s", w)
	}
}

// TestStartRefusesAFallbackNoProspectNeeds: saving warns only (no prospect
// yet); once prospects are imported, Start answers a field error naming
// the step and the variable, and starts once the name is a column.
func TestStartRefusesAFallbackNoProspectNeeds(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		steps := []campaign.Step{{ID: "inv", Type: campaign.StepInvite, Note: "Hi {{first_name|there}} from {{compnay|your company}}"}}
		c, err := f.campaigns.Create(f.ctx, f.ws.ID, campaign.Input{Name: ptr("Typo"), AccountIDs: []string{f.a.ID}, Steps: steps})
		if err != nil {
			t.Fatalf("saving before any import must only warn: %v", err)
		}
		f.importCSV(t, c, "linkedin_url,first_name,company,title\nhttps://www.linkedin.com/in/fb-1,Ada,Engines,CTO\n")
		_, err = f.campaigns.Start(f.ctx, f.ws.ID, c.ID)
		var ve *campaign.ValidationError
		if !errors.As(err, &ve) || !hasField(ve.Errors, "steps[0].note", "{{compnay}} in step inv (note) is not a column of any imported prospect") {
			t.Fatalf("start with a fallback no prospect needs: %v", err)
		}
		if got := f.get(t, c); got.Status != campaign.StatusDraft {
			t.Fatalf("a refused start changed the campaign: %s", got.Status)
		}
		steps[0].Note = "Hi {{first_name|there}}, {{title|a leader}} at {{company|your company}}"
		if _, err := f.campaigns.Update(f.ctx, f.ws.ID, c.ID, campaign.Input{Steps: steps}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
			t.Fatalf("start with a column and a built-in as fallbacks: %v", err)
		}
	})
}
