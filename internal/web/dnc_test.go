package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestDoNotContactPage(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		q := k.App.DB.SQL
		other, _ := workspace.Create(ctx, q, "other-dnc", "", k.App.Clock.Now())
		theirs, err := k.App.Campaigns.AddDNC(ctx, other.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAtheirs1"}})
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t)
		signIn(t, k, c)
		status, body, csrf := get(t, c, k.Base+"/do-not-contact")
		if status != 200 || !strings.Contains(body, "Nobody is on the list.") || strings.Contains(body, "ACoAAtheirs1") {
			t.Fatalf("empty page: %d %s", status, body)
		}

		resp, body := post(t, c, k.Base+"/do-not-contact", url.Values{"csrf_token": {csrf},
			"values": {"https://linkedin.com/in/Jane\nhttps://example.com/in/x\nACoAAweb12345\n"}, "reason": {"asked us"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "2 added, 1 skipped") || !strings.Contains(body, "not a linkedin.com URL") ||
			!strings.Contains(body, "https://www.linkedin.com/in/jane") || !strings.Contains(body, "asked us") {
			t.Fatalf("add: %d %s", resp.StatusCode, body)
		}
		if resp, _ := post(t, c, k.Base+"/do-not-contact", url.Values{"csrf_token": {csrf}}); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("empty add: %d", resp.StatusCode)
		}

		upload := func(csv string) (int, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			_ = mw.WriteField("csrf_token", csrf)
			fw, _ := mw.CreateFormFile("csv", "dnc.csv")
			_, _ = io.WriteString(fw, csv)
			_ = mw.Close()
			req, _ := http.NewRequest("POST", k.Base+"/do-not-contact", &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if status, body := upload("company_url,reason\nhttps://www.linkedin.com/company/acme,competitor\n"); status != 200 || !strings.Contains(body, "1 added, 0 skipped") {
			t.Fatalf("CSV: %d %s", status, body)
		}
		if status, body := upload("provider_id,notes\nx,y\n"); status != http.StatusUnprocessableEntity || !strings.Contains(body, "unknown column") {
			t.Fatalf("CSV with an unknown column: %d %s", status, body)
		}

		ws, _ := workspace.BySlug(ctx, q, app.DemoWorkspace)
		list, err := k.App.Campaigns.ListDNC(ctx, q, ws.ID, "", 0)
		if err != nil || len(list) != 3 {
			t.Fatalf("stored: %+v %v", list, err)
		}
		if resp, _ := post(t, c, k.Base+"/do-not-contact/"+theirs.Rows[0].ID+"/remove", url.Values{"csrf_token": {csrf}}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("removing another workspace's entry: %d", resp.StatusCode)
		}
		resp, _ = post(t, c, k.Base+"/do-not-contact/"+list[0].ID+"/remove", url.Values{"csrf_token": {csrf}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/do-not-contact" {
			t.Fatalf("remove: %d", resp.StatusCode)
		}
		if got, _ := k.App.Campaigns.ListDNC(ctx, q, ws.ID, "", 0); len(got) != 2 {
			t.Fatalf("after remove: %+v", got)
		}
	})
}
