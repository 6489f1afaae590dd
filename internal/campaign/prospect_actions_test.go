package campaign_test

import (
	"errors"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestActOnProspect: skip enters the next step as the scheduler would (a
// condition's else-branch past the end completes); a held prospect stays
// held through its sender's disconnect and reconnect until a person
// resumes it; skip waits for a send in flight; remove ends with reason
// removed, once; another workspace's campaign is not found
// (docs/campaigns.md#acting-on-one-prospect).
func TestActOnProspect(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := f.create(t, f.a)
		f.importCSV(t, c, "linkedin_url,first_name\nhttps://www.linkedin.com/in/p-one,One\nhttps://www.linkedin.com/in/p-two,Two\nhttps://www.linkedin.com/in/p-three,Three\n")
		if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		by := map[string]campaign.Enrollment{}
		for _, e := range f.enrollments(t, c) {
			by[e.FirstName] = e
		}
		one, two, three := by["One"].ID, by["Two"].ID, by["Three"].ID
		act := func(id string, op campaign.ProspectOp) error {
			return f.campaigns.ActOnProspect(f.ctx, f.ws.ID, c.ID, id, op)
		}
		read := func(id string) campaign.Enrollment {
			t.Helper()
			for _, e := range f.enrollments(t, c) {
				if e.ID == id {
					return e
				}
			}
			t.Fatalf("no enrollment %s", id)
			return campaign.Enrollment{}
		}
		refused := func(err error) {
			t.Helper()
			var se *campaign.StateError
			if !errors.As(err, &se) {
				t.Fatalf("want a refusal, got %v", err)
			}
		}

		if err := act(one, campaign.OpSkip); err != nil {
			t.Fatal(err)
		}
		if e := read(one); e.State != campaign.EnrollmentActive || e.StepID != "s2" || !e.NextActionAt.Equal(start.Add(168*time.Hour)) {
			t.Fatalf("skipped the invitation: %s at %s due %v", e.State, e.StepID, e.NextActionAt)
		}
		if err := act(one, campaign.OpSkip); err != nil {
			t.Fatal(err)
		}
		if e := read(one); e.State != campaign.EnrollmentCompleted {
			t.Fatalf("skipped the condition (else: end): %s", e.State)
		}
		refused(act(one, campaign.OpSkip))

		if err := act(two, campaign.OpPause); err != nil {
			t.Fatal(err)
		}
		refused(act(two, campaign.OpPause))
		f.disconnect(t, f.a, account.StatusDisconnected)
		f.reconnect(t, f.a)
		if _, err := f.campaigns.Resume(f.ctx, f.ws.ID, c.ID); err != nil && !errors.Is(err, campaign.ErrConflict) {
			t.Fatal(err)
		}
		if e := read(two); e.State != campaign.EnrollmentSoftPaused {
			t.Fatalf("a reconnect released the held prospect: %s", e.State)
		}
		if e := read(three); e.State != campaign.EnrollmentActive {
			t.Fatalf("the other prospect after the reconnect: %s", e.State)
		}
		if err := act(two, campaign.OpResume); err != nil {
			t.Fatal(err)
		}
		if e := read(two); e.State != campaign.EnrollmentActive {
			t.Fatalf("resumed: %s", e.State)
		}
		refused(act(two, campaign.OpResume))

		e3 := read(three)
		if _, err := d.SQL.Exec(`INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state, claimed_at)
			VALUES ('snd_inflight', $1, $2, $3, $4, $5, 's1', 'invite', 'intent', $6)`, f.ws.ID, f.a.ID, c.ID, e3.ID, e3.ProspectID, start); err != nil {
			t.Fatal(err)
		}
		refused(act(three, campaign.OpSkip))
		if e := read(three); e.StepID != "s1" {
			t.Fatalf("a refused skip moved the prospect to %s", e.StepID)
		}
		if err := act(three, campaign.OpRemove); err != nil {
			t.Fatal(err)
		}
		if e := read(three); e.State != campaign.EnrollmentEnded || e.EndedReason != campaign.EndedRemoved {
			t.Fatalf("removed: %s %q", e.State, e.EndedReason)
		}
		refused(act(three, campaign.OpRemove))

		if err := f.campaigns.ActOnProspect(f.ctx, f.other.ID, c.ID, two, campaign.OpRemove); !errors.Is(err, campaign.ErrNotFound) {
			t.Fatalf("another workspace: %v", err)
		}
	})
}
