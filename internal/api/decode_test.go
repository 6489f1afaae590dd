package api

import (
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// Bodies the decoder cannot read are refused with a 400 whose detail and
// errors name the place in API terms (a JSON path, or body) and what was
// expected there: never a Go type (docs/surfaces.md#errors).
func TestDecodingErrorsSpeakTheAPIsTerms(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	b := newCampaignBundle(t, d)
	status, created, _ := b.call(t, "POST", "/api/v1/campaigns", b.a.secret, "", contractCampaign(b.a.accountID))
	if status != 201 {
		t.Fatalf("creating the campaign: %d %v", status, created)
	}
	id := created["id"].(string)
	for _, c := range []struct {
		name, method, path, contentType, body string
		field, detail                         string
	}{
		{"AnArrayAsTheProspectsBody", "POST", "/api/v1/campaigns/" + id + "/prospects", "application/json", `[{"first_name": "Ada"}]`,
			"", "body: must be an object, not an array"},
		{"AProspectThatIsNotAnObject", "POST", "/api/v1/campaigns/" + id + "/prospects", "application/json", `{"prospects": [{"provider_id": "x"}, "Ada"]}`,
			"", "prospects[1]: must be an object, not a string"},
		{"ADoNotContactListThatIsNotAnArray", "POST", "/api/v1/do-not-contact", "application/json", `{"entries": {"provider_id": "x"}}`,
			"", "entries: must be an array, not an object"},
		{"AWrongTypeDeepInACampaign", "PATCH", "/api/v1/campaigns/" + id, "application/json", `{"name": "x", "steps": [{"id": "s1", "type": "invite", "note": 5}]}`,
			"steps[0].note", "steps[0].note: must be a string, not number"},
		{"ANumberAsANestedObject", "PATCH", "/api/v1/accounts/" + b.a.accountID, "application/json", `{"caps": 5}`,
			"caps", "caps: must be an object, not number"},
		{"AnUnknownNestedField", "PATCH", "/api/v1/accounts/" + b.a.accountID, "application/json", `{"caps": {"invite_dayly": 5}}`,
			"caps.invite_dayly", "caps.invite_dayly: is not a field of this body"},
		{"ASyntaxError", "PATCH", "/api/v1/workspace", "application/json", "{\n \"recontact_cooloff_days\": 30,\n}",
			"body", "body: is not valid JSON at line 3, column 1 (byte 34): unexpected character '}'"},
		{"AnEmptyBody", "PATCH", "/api/v1/workspace", "application/json", ``,
			"body", "body: is empty; send a JSON value"},
		{"ATruncatedBody", "PATCH", "/api/v1/workspace", "application/json", `{"recontact_cooloff_days": "nev`,
			"body", "body: ends before its JSON value is complete"},
		{"TwoValues", "PATCH", "/api/v1/workspace", "application/json", `{} {}`,
			"body", "body: holds more than one JSON value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, prob, h := b.call(t, c.method, c.path, b.a.secret, c.contentType, c.body)
			detail, _ := prob["detail"].(string)
			if status != 400 || h.Get("Content-Type") != "application/problem+json" || !strings.HasSuffix(detail, c.detail) {
				t.Fatalf("%d %v\nwant 400 with detail ending %q", status, prob, c.detail)
			}
			for _, goTalk := range []string{"struct", "map[", "json.", "unmarshal", "Go value", "[]"} {
				if strings.Contains(detail, goTalk) {
					t.Errorf("detail speaks Go (%q): %s", goTalk, detail)
				}
			}
			if c.field != "" && !namesField(prob, c.field) {
				t.Errorf("errors does not name %s: %v", c.field, prob["errors"])
			}
		})
	}
	t.Run("ATooLargeBodyIs413", func(t *testing.T) {
		big := `{"name": "` + strings.Repeat("x", MaxBodyBytes) + `"}`
		status, prob, _ := b.call(t, "PATCH", "/api/v1/campaigns/"+id, b.a.secret, "application/json", big)
		if status != 413 || !strings.Contains(prob["detail"].(string), "1 MiB") {
			t.Fatalf("%d %v", status, prob)
		}
	})
}
