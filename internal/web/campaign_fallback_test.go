package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/campaign"
)

// TestBuilderWarnsOfAFallbackNoProspectNeeds: {{compnay|there}} is shown
// with a warning in the builder (saving still works before any import),
// and once prospects are imported Start is refused on the campaign page
// naming the step and the variable (docs/campaigns.md#variables-and-fallbacks).
func TestBuilderWarnsOfAFallbackNoProspectNeeds(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		c := newClient(t)
		tok := signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		form := url.Values{"csrf_token": {tok}, "name": {"Typo"}, "account_ids": {acc.ID}, "late_accept_policy": {"follow_up"},
			"cap_invite": {"20"}, "cap_message": {"20"}, "cap_inmail": {"5"}, "cap_view_profile": {"20"},
			"s0_id": {"invite"}, "s0_type": {"invite"}, "s0_note": {"Hi {{first_name|there}} at {{compnay|your company}}"}, "op": {"preview"}}
		resp, body := post(t, c, k.Base+"/campaigns/new", form)
		want := `{{compnay}} in step invite (note) is not a column of any imported prospect; every prospect will get the fallback "your company"`
		if resp.StatusCode != http.StatusOK || !strings.Contains(html.UnescapeString(body), want) {
			t.Fatalf("preview: %d, no warning in\n%s", resp.StatusCode, body)
		}
		if strings.Contains(html.UnescapeString(body), "{{first_name}} in step") {
			t.Fatal("a built-in with a fallback is warned about")
		}
		form.Set("op", "save")
		resp, body = post(t, c, k.Base+"/campaigns/new", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("saving before any import must only warn: %d\n%s", resp.StatusCode, body)
		}
		list, err := k.App.Campaigns.List(ctx, k.App.DB.SQL, campaign.ListOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var cp campaign.Campaign
		for _, x := range list {
			if x.Name == "Typo" {
				cp = x
			}
		}
		if _, err := k.App.Campaigns.Import(ctx, cp.ID, cp.WorkspaceID, []campaign.ProspectRow{
			{Row: 1, LinkedInURL: "https://www.linkedin.com/in/typo-1", FirstName: "Ada", Custom: map[string]string{"title": "CTO"}}}); err != nil {
			t.Fatal(err)
		}
		resp, _ = post(t, c, k.Base+"/campaigns/"+cp.ID+"/start", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start: %d", resp.StatusCode)
		}
		_, page, _ := get(t, c, k.Base+"/campaigns/"+cp.ID)
		if !strings.Contains(html.UnescapeString(page), "steps[0].note: {{compnay}} in step invite (note) is not a column of any imported prospect") {
			t.Fatalf("the refused start is not explained on the campaign page:\n%s", page)
		}
		if got, err := k.App.Campaigns.Get(ctx, k.App.DB.SQL, cp.WorkspaceID, cp.ID); err != nil || got.Status != campaign.StatusDraft {
			t.Fatalf("after a refused start: %v %v", got.Status, err)
		}
	})
}
