package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
)

// The builder's buttons work as plain form posts: each answers the form
// with the change and saves nothing; Save stores what the fields say
// (docs/campaigns.md#the-sequence-builder).
func TestSequenceBuilderWithoutJavaScript(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		c := newClient(t)
		tok := signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		form := url.Values{"csrf_token": {tok}, "name": {"Built"}, "account_ids": {acc.ID}, "late_accept_policy": {"follow_up"},
			"cap_invite": {"20"}, "cap_message": {"20"}, "cap_inmail": {"5"}, "cap_view_profile": {"20"},
			"s0_id": {"invite"}, "s0_type": {"invite"}, "s0_note": {"Hi {{first_name|there}}"}}
		count := func() int {
			list, err := k.App.Campaigns.List(ctx, k.App.DB.SQL, campaign.ListOptions{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		press := func(op string) string {
			t.Helper()
			form.Set("op", op)
			resp, body := post(t, c, k.Base+"/campaigns/new", form)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", op, resp.StatusCode, body)
			}
			return body
		}
		body := press("add:if_accepted")
		for _, want := range []string{`name="s1_type" value="if_accepted"`, `name="s1_id" value="accepted"`, `id="s1_days" name="s1_days" inputmode="numeric" size="4" value="7"`,
			`<option value="next" selected>The next step</option>`, `Hi {{first_name|there}}</textarea>`} {
			if !strings.Contains(body, want) {
				t.Fatalf("after add: no %s in\n%s", want, body)
			}
		}
		form.Set("s1_id", "accepted")
		form.Set("s1_type", "if_accepted")
		form.Set("s1_days", "2")
		form.Set("s1_hours", "12")
		form.Set("s1_then", "next")
		form.Set("s1_else", "end")
		form.Set("s2_id", "hello")
		form.Set("s2_type", "message")
		form.Set("s2_text", "Thanks {{first_name}}")
		if body := press("down:0"); strings.Index(body, `name="s0_type" value="if_accepted"`) < 0 {
			t.Fatalf("move down did not move the invitation:\n%s", body)
		}
		if body := press("remove:2"); strings.Contains(body, `name="s2_type"`) {
			t.Fatalf("remove left the step:\n%s", body)
		}
		if n := count(); n != 0 {
			t.Fatalf("a builder button saved %d campaigns", n)
		}

		// Errors in the builder's words, beside the field and at the top.
		form.Set("s0_note", strings.Repeat("n", 301))
		form.Set("s1_days", "two")
		form.Set("op", "save")
		resp, body := post(t, c, k.Base+"/campaigns/new", form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Step 2 (If accepted): the &#34;within&#34; time: enter whole numbers of days and hours") {
			t.Fatalf("bad days: %d\n%s", resp.StatusCode, body)
		}
		form.Set("s1_days", "2")
		resp, body = post(t, c, k.Base+"/campaigns/new", form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "<li>Step 1 (Invitation): the note is 301 characters; LinkedIn allows 300</li>") ||
			!strings.Contains(body, `<p class="field-error">the note is 301 characters; LinkedIn allows 300</p>`) {
			t.Fatalf("long note: %d\n%s", resp.StatusCode, body)
		}
		form.Set("s0_note", "Hi {{first_name|there}}")
		resp, body = post(t, c, k.Base+"/campaigns/new", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d %s", resp.StatusCode, body)
		}
		id := strings.TrimPrefix(resp.Header.Get("Location"), "/campaigns/")
		got, err := k.App.Campaigns.Get(ctx, k.App.DB.SQL, "", id)
		if err != nil || len(got.Steps) != 3 || got.Steps[0].Type != campaign.StepInvite || got.Steps[1].Within != "2d12h" ||
			got.Steps[1].Then != "hello" || got.Steps[1].WithinDuration() != 60*time.Hour {
			t.Fatalf("stored: %v %+v", err, got.Steps)
		}

		// The edit page previews a prospect chosen by ?preview=.
		rows, _ := campaign.ParseCSV(strings.NewReader("linkedin_url,first_name\nhttps://www.linkedin.com/in/ada-l,Ada\nhttps://www.linkedin.com/in/no-name,\n"))
		if _, err := k.App.Campaigns.Import(ctx, id, "", rows); err != nil {
			t.Fatal(err)
		}
		ps, err := k.App.Campaigns.PreviewProspects(ctx, k.App.DB.SQL, id, 10)
		if err != nil || len(ps) != 2 {
			t.Fatalf("%v %d", err, len(ps))
		}
		for _, p := range ps {
			_, body, _ := get(t, c, k.Base+"/campaigns/"+id+"/edit?preview="+p.ID)
			want := "Thanks Ada"
			if p.FirstName == "" {
				want = "This prospect would be held: first_name is empty and the template has no fallback"
			}
			if !strings.Contains(body, want) {
				t.Fatalf("preview for %q: no %q in\n%s", p.FirstName, want, body)
			}
		}
	})
}
