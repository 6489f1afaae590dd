package web_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/workspace"
)

var (
	controlTag = regexp.MustCompile(`(?is)<(input|select|textarea)\b([^>]*)>`)
	attrOf     = func(attrs, name string) string {
		m := regexp.MustCompile(`(?i)\b` + name + `="([^"]*)"`).FindStringSubmatch(attrs)
		if m == nil {
			return ""
		}
		return m[1]
	}
	labelSpan = regexp.MustCompile(`(?is)<label\b[^>]*>.*?</label>`)
)

// unlabelled lists the form controls of a page a person cannot name:
// neither a <label for> its id, nor inside a <label>, nor an aria-label or
// aria-labelledby. Hidden fields and buttons need none.
func unlabelled(page string) []string {
	spans := labelSpan.FindAllStringIndex(page, -1)
	var out []string
	for _, m := range controlTag.FindAllStringSubmatchIndex(page, -1) {
		attrs := page[m[4]:m[5]]
		switch strings.ToLower(attrOf(attrs, "type")) {
		case "hidden", "submit", "button", "reset", "image":
			continue
		}
		if attrOf(attrs, "aria-label") != "" || attrOf(attrs, "aria-labelledby") != "" {
			continue
		}
		if id := attrOf(attrs, "id"); id != "" && strings.Contains(page, `for="`+id+`"`) {
			continue
		}
		inside := false
		for _, s := range spans {
			inside = inside || (m[0] > s[0] && m[1] < s[1])
		}
		if !inside {
			out = append(out, page[m[0]:m[1]])
		}
	}
	return out
}

// TestEveryFormFieldHasALabel walks the pages an operator uses, with data
// on them, and checks that every form field can be named by its label
// (screen readers, and clicking the label to focus it).
func TestEveryFormFieldHasALabel(t *testing.T) {
	t.Parallel()
	k := startKeel(t, db.SQLite)
	bg := context.Background()
	q := k.App.DB.SQL
	ws, err := workspace.BySlug(bg, q, app.DemoWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	accs, err := k.App.Accounts.List(bg, q, account.ListOptions{WorkspaceID: ws.ID})
	if err != nil || len(accs) == 0 {
		t.Fatalf("demo accounts: %v", err)
	}
	name := "Labels"
	cp, err := k.App.Campaigns.Create(bg, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{accs[0].ID}, Steps: []campaign.Step{
		{ID: "inv", Type: campaign.StepInvite, Note: "Hi {{first_name|there}}"},
		{ID: "acc", Type: campaign.StepIfAccepted, Within: "7 days", Then: "msg", Else: campaign.End},
		{ID: "msg", Type: campaign.StepMessage, Text: "Thanks"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.App.Campaigns.Import(bg, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAlabel", FirstName: "Lab"}}); err != nil {
		t.Fatal(err)
	}
	var conv string
	if err := k.App.DB.InTx(bg, func(tx *sql.Tx) error {
		conv, err = k.App.Inbox.Record(bg, tx, accs[0], unipile.MessageEvent{Event: "message_received", ChatID: "chat-labels", MessageID: "m-labels",
			Message: "Hello", Sender: &unipile.Attendee{AttendeeProviderID: "ACoAAlabel", AttendeeName: "Lab Person"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(k.Base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	m := csrfPattern.FindStringSubmatch(get("/login"))
	resp, err := c.PostForm(k.Base+"/login", url.Values{"csrf_token": {m[1]}, "workspace": {app.DemoWorkspace}, "email": {testEmail}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pages := []string{"/accounts", "/accounts/" + accs[0].ID, "/campaigns", "/campaigns/new", "/campaigns/" + cp.ID,
		"/campaigns/" + cp.ID + "/edit", "/inbox", "/inbox/" + conv, "/do-not-contact", "/alerts", "/tokens"}
	for _, p := range pages {
		page := get(p)
		if !strings.Contains(page, "<form") {
			continue
		}
		for _, ctl := range unlabelled(page) {
			t.Errorf("%s: a form field without a label: %s", p, ctl)
		}
	}
	// The check itself finds an unlabelled field.
	if got := unlabelled(`<form><input type="text" name="x"><label>Y <input name="y"></label><label for="z">Z</label><input id="z"></form>`); len(got) != 1 {
		t.Fatalf("the label check is wrong: %v", got)
	}
}
