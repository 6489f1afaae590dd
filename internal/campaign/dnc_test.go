package campaign_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

func (f *fixture) addDNC(t *testing.T, rows ...campaign.DNCRow) campaign.DNCResult {
	t.Helper()
	for i := range rows {
		rows[i].Row = i + 1
	}
	res, err := f.campaigns.AddDNC(f.ctx, f.ws.ID, "cli", rows)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDNCInvariantsRawSQL(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ins := func(id, link, slug, pid, comp, by string) error {
			_, err := d.SQL.ExecContext(f.ctx, `INSERT INTO do_not_contact (id, workspace_id, linkedin_url, public_slug, provider_id, company_url, reason, created_at, created_by)
				VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8)`, id, f.ws.ID, db.NullIfEmpty(link), db.NullIfEmpty(slug),
				db.NullIfEmpty(pid), db.NullIfEmpty(comp), start, by)
			return err
		}
		if err := ins("dnc_ok", "https://www.linkedin.com/in/jane", "jane", "", "", "cli"); err != nil {
			t.Fatalf("a valid entry is refused: %v", err)
		}
		for name, err := range map[string]error{
			"no key":        ins("dnc_1", "", "", "", "", "cli"),
			"two keys":      ins("dnc_2", "", "", "ACoAAB", "https://www.linkedin.com/company/acme", "cli"),
			"url, no slug":  ins("dnc_3", "https://www.linkedin.com/in/joe", "", "", "", "cli"),
			"not a profile": ins("dnc_4", "https://example.com/joe", "joe", "", "", "cli"),
			"bad company":   ins("dnc_5", "", "", "", "https://example.com/acme", "cli"),
			"duplicate":     ins("dnc_6", "https://www.linkedin.com/in/jane", "jane", "", "", "cli"),
			"no creator":    ins("dnc_7", "", "", "ACoAAC", "", ""),
		} {
			if err == nil {
				t.Errorf("%s: the database accepted a broken entry", name)
			}
		}
	})
}

func TestDNCAddEndsLiveEnrollments(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := f.create(t, f.a)
		f.importCSV(t, c, "linkedin_url,provider_id\nhttps://linkedin.com/in/Jane-Doe,\n,ACoAAKeepMe12345\nhttps://www.linkedin.com/in/joe,\n")
		if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		res := f.addDNC(t,
			campaign.DNCRow{LinkedInURL: "www.linkedin.com/in/jane-doe/?trk=x", Reason: "asked us"},
			campaign.DNCRow{LinkedInURL: "https://linkedin.com/in/JANE-DOE"},
			campaign.DNCRow{ProviderID: "not valid!"},
			campaign.DNCRow{LinkedInURL: "https://example.com/in/x"},
			campaign.DNCRow{CompanyURL: "linkedin.com/company/Acme/about"},
			campaign.DNCRow{ProviderID: "ACoAAOther", CompanyURL: "linkedin.com/company/x"},
		)
		want := []string{campaign.DNCRowAdded, campaign.DNCRowDuplicate, campaign.DNCRowInvalid, campaign.DNCRowInvalid,
			campaign.DNCRowAdded, campaign.DNCRowInvalid}
		for i, rr := range res.Rows {
			if rr.Status != want[i] {
				t.Errorf("row %d: %s (%s), want %s", rr.Row, rr.Status, rr.Error, want[i])
			}
		}
		if res.Added != 2 || res.Skipped != 4 || res.Ended != 1 {
			t.Fatalf("result %+v, want 2 added, 4 skipped, 1 ended", res)
		}
		for _, e := range f.enrollments(t, c) {
			jane := e.LinkedInURL == "https://www.linkedin.com/in/jane-doe"
			if jane != (e.State == campaign.EnrollmentEnded && e.EndedReason == campaign.EndedDoNotContact) {
				t.Errorf("enrollment of %s: %s (%s)", e.LinkedInURL, e.State, e.EndedReason)
			}
		}
		again := f.addDNC(t, campaign.DNCRow{LinkedInURL: "https://www.linkedin.com/in/jane-doe"})
		if again.Rows[0].Status != campaign.DNCRowDuplicate {
			t.Errorf("a stored entry added again: %+v", again.Rows[0])
		}
		list, err := f.campaigns.ListDNC(f.ctx, d.SQL, f.ws.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 2 && list[0].CompanyURL != "" {
			list[0], list[1] = list[1], list[0]
		}
		if len(list) != 2 || list[0].LinkedInURL != "https://www.linkedin.com/in/jane-doe" || list[0].Reason != "asked us" ||
			list[1].CompanyURL != "https://www.linkedin.com/company/acme" {
			t.Fatalf("list: %+v", list)
		}
		if other, _ := f.campaigns.ListDNC(f.ctx, d.SQL, f.other.ID, "", 0); len(other) != 0 {
			t.Fatalf("another workspace sees the list: %+v", other)
		}
		if err := f.campaigns.RemoveDNC(f.ctx, f.other.ID, list[0].ID); !errors.Is(err, campaign.ErrDNCNotFound) {
			t.Fatalf("another workspace removes an entry: %v", err)
		}
		if err := f.campaigns.RemoveDNC(f.ctx, f.ws.ID, list[0].ID); err != nil {
			t.Fatal(err)
		}
		// A member id resolved at send time matches a provider-id entry.
		if _, err := d.SQL.ExecContext(f.ctx, `UPDATE prospects SET member_id = 'ACoAAResolved999' WHERE workspace_id = $1 AND public_slug = 'joe'`, f.ws.ID); err != nil {
			t.Fatal(err)
		}
		if res := f.addDNC(t, campaign.DNCRow{ProviderID: "ACoAAResolved999"}); res.Ended != 1 {
			t.Fatalf("the resolved member id did not match: %+v", res)
		}
	})
}

func TestDNCParse(t *testing.T) {
	t.Parallel()
	if _, err := campaign.ParseDNCCSV(strings.NewReader("linkedin_url,notes\nx,y\n")); err == nil || !strings.Contains(err.Error(), "notes") {
		t.Errorf("an unknown column: %v", err)
	}
	rows, err := campaign.ParseDNCCSV(strings.NewReader("LinkedIn URL,Reason\nhttps://linkedin.com/in/a,spam\n"))
	if err != nil || len(rows) != 1 || rows[0].LinkedInURL != "https://linkedin.com/in/a" || rows[0].Reason != "spam" {
		t.Errorf("rows %+v, %v", rows, err)
	}
	big := "provider_id\n" + strings.Repeat("ACoAAxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", campaign.MaxDNCBytes/30)
	if _, err := campaign.ParseDNCCSV(strings.NewReader(big)); !errors.Is(err, campaign.ErrDNCTooLarge) {
		t.Errorf("a file over 10 MiB: %v", err)
	}
	rows, err = campaign.ParseDNCJSON(strings.NewReader(`{"entries":[{"provider_id":"A1"},{"nope":"x"}]}`))
	if err != nil || len(rows) != 2 || rows[0].ProviderID != "A1" || rows[1].Problem == "" {
		t.Errorf("rows %+v, %v", rows, err)
	}
}

func TestDNCImportRefusesListedRows(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// A prospect known from an earlier campaign, whose member id was
		// resolved when Keel addressed them.
		first := f.create(t, f.a)
		f.importCSV(t, first, "linkedin_url\nhttps://www.linkedin.com/in/known\n")
		if _, err := d.SQL.ExecContext(f.ctx, `UPDATE prospects SET member_id = 'ACoAAKnownMember1' WHERE workspace_id = $1 AND public_slug = 'known'`, f.ws.ID); err != nil {
			t.Fatal(err)
		}
		f.addDNC(t, campaign.DNCRow{LinkedInURL: "linkedin.com/in/Listed"}, campaign.DNCRow{ProviderID: "ACoAAKnownMember1"},
			campaign.DNCRow{LinkedInURL: "https://www.linkedin.com/sales/lead/ACwAALeadListed1,NAME"})
		c := f.create(t, f.a)
		res := f.importCSV(t, c, "linkedin_url\nhttps://www.linkedin.com/in/listed/\nhttps://linkedin.com/in/known\nhttps://www.linkedin.com/in/free\n\"https://www.linkedin.com/sales/lead/ACwAALeadListed1,x\"\n")
		want := []string{campaign.RowDoNotContact, campaign.RowDoNotContact, campaign.RowImported, campaign.RowDoNotContact}
		for i, rr := range res.Rows {
			if rr.Status != want[i] {
				t.Errorf("row %d: %s (%s), want %s", rr.Row, rr.Status, rr.Error, want[i])
			}
		}
		if !strings.Contains(res.Rows[0].Error, "https://www.linkedin.com/in/listed is on the do-not-contact list") {
			t.Errorf("row 1 error: %q", res.Rows[0].Error)
		}
		if res.Imported != 1 || len(f.enrollments(t, c)) != 1 {
			t.Fatalf("imported %d: %+v", res.Imported, res)
		}
	})
}
