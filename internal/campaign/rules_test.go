package campaign_test

import (
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestDatabaseRules writes around the service with raw SQL: the database
// itself must refuse every state the invariants forbid, on both engines.
func TestDatabaseRules(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := f.create(t, f.a)
		f.importCSV(t, c, "linkedin_url\nhttps://www.linkedin.com/in/ada\n")
		e := f.enrollments(t, c)[0]
		if _, err := d.SQL.ExecContext(f.ctx, `INSERT INTO prospects (id, workspace_id, provider_id, created_at, updated_at)
			VALUES ('prs_free', $1, 'ACoAAfree', $2, $2)`, f.ws.ID, start); err != nil {
			t.Fatal(err)
		}

		if _, err := d.SQL.ExecContext(f.ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
			step_id, action, state, claimed_at) VALUES ('snd_rule', $1, $2, $3, $4, $5, 's1', 'invite', 'intent', $6)`,
			f.ws.ID, f.a.ID, c.ID, e.ID, e.ProspectID, start); err != nil {
			t.Fatal(err)
		}

		constraint := func(name string) func(error) bool {
			return func(err error) bool { return db.ViolatesConstraint(err, name) }
		}
		foreignKey := func(err error) bool {
			return err != nil && strings.Contains(strings.ToLower(err.Error()), "foreign key")
		}
		cases := []struct {
			name   string
			sql    string
			args   []any
			refuse func(error) bool
		}{
			{"PausedWithoutReason", `UPDATE campaigns SET status = 'paused' WHERE id = $1`, []any{c.ID},
				constraint("campaigns_paused_iff_reason_chk")},
			{"ReasonWithoutPause", `UPDATE campaigns SET paused_reason = 'manual' WHERE id = $1`, []any{c.ID},
				constraint("campaigns_paused_iff_reason_chk")},
			{"UnknownPauseReason", `UPDATE campaigns SET status = 'paused', paused_reason = 'bored' WHERE id = $1`, []any{c.ID},
				constraint("campaigns_paused_reason_chk")},
			{"UnknownCampaignStatus", `UPDATE campaigns SET status = 'sending' WHERE id = $1`, []any{c.ID},
				constraint("campaigns_status_chk")},
			{"NegativeDailyCap", `UPDATE campaigns SET cap_inmail = -1 WHERE id = $1`, []any{c.ID},
				constraint("campaigns_daily_caps_chk")},
			{"UnknownLateAcceptPolicy", `UPDATE campaigns SET late_accept_policy = 'maybe' WHERE id = $1`, []any{c.ID},
				constraint("campaigns_late_accept_policy_chk")},
			{"StepsNotAnArray", `UPDATE campaigns SET steps = '{}' WHERE id = $1`, []any{c.ID},
				func(err error) bool { return err != nil }},
			{"ActiveWithoutNextActionAt", `UPDATE enrollments SET state = 'active', step_id = 's1' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_active_next_action_chk")},
			{"FailedWithoutLastError", `UPDATE enrollments SET state = 'failed', step_id = 's1' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_failed_error_chk")},
			{"FailedWithEmptyLastError", `UPDATE enrollments SET state = 'failed', last_error = '' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_failed_error_chk")},
			{"EndedWithoutReason", `UPDATE enrollments SET state = 'ended' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_ended_reason_chk")},
			{"ReasonWithoutEnded", `UPDATE enrollments SET ended_reason = 'condition_timeout' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_ended_reason_chk")},
			{"RepliedWithoutRepliedAt", `UPDATE enrollments SET state = 'replied' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_replied_chk")},
			{"PendingAtAStep", `UPDATE enrollments SET step_id = 's1' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_pending_chk")},
			{"SoftPausedWithoutStep", `UPDATE enrollments SET state = 'soft_paused' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_step_chk")},
			{"MoreThanThreeFailures", `UPDATE enrollments SET failures = 4 WHERE id = $1`, []any{e.ID},
				constraint("enrollments_failures_chk")},
			{"UnknownEnrollmentState", `UPDATE enrollments SET state = 'sleeping' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_state_chk")},
			{"ParkedWhilePending", `UPDATE enrollments SET parked_by = 'window' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_parked_by_chk")},
			{"ParkedAfterTheEnd", `UPDATE enrollments SET state = 'ended', ended_reason = 'x', parked_by = 'window' WHERE id = $1`, []any{e.ID},
				constraint("enrollments_parked_by_chk")},
			{"ParkedByNothingNamed", `UPDATE enrollments SET state = 'active', step_id = 's1', next_action_at = $2, parked_by = '' WHERE id = $1`,
				[]any{e.ID, start}, constraint("enrollments_parked_by_chk")},
			{"PacingMinGapBelowOneSecond", `UPDATE linkedin_accounts SET pacing_min_gap_seconds = 0 WHERE id = $1`, []any{f.a.ID},
				constraint("linkedin_accounts_pacing_min_gap_chk")},
			{"PacingMaxGapBelowMin", `UPDATE linkedin_accounts SET pacing_min_gap_seconds = 120, pacing_max_gap_seconds = 90 WHERE id = $1`,
				[]any{f.a.ID}, constraint("linkedin_accounts_pacing_max_gap_chk")},
			{"PacingMaxGapAboveAnHour", `UPDATE linkedin_accounts SET pacing_max_gap_seconds = 3601 WHERE id = $1`, []any{f.a.ID},
				constraint("linkedin_accounts_pacing_max_gap_chk")},
			{"DuplicateEnrollment", `INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, created_at, updated_at)
				VALUES ('enr_dup', $1, $2, $3, $4, $5, $5)`, []any{f.ws.ID, c.ID, e.ProspectID, f.a.ID, start},
				db.IsUniqueViolation},
			{"EnrollmentByAccountNotSendingForTheCampaign", `INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, created_at, updated_at)
				VALUES ('enr_b', $1, $2, 'prs_free', $3, $4, $4)`, []any{f.ws.ID, c.ID, f.b.ID, start}, foreignKey},
			{"EnrollmentOfAnotherWorkspacesProspect", `INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, created_at, updated_at)
				VALUES ('enr_o', $1, $2, 'prs_free', $3, $4, $4)`, []any{f.other.ID, c.ID, f.a.ID, start}, foreignKey},
			{"SenderFromAnotherWorkspace", `INSERT INTO campaign_accounts (campaign_id, account_id, workspace_id, position, added_at)
				VALUES ($1, $2, $3, 1, $4)`, []any{c.ID, f.foreign.ID, f.ws.ID, start}, foreignKey},
			{"SenderClaimingTheAccountsWorkspace", `INSERT INTO campaign_accounts (campaign_id, account_id, workspace_id, position, added_at)
				VALUES ($1, $2, $3, 1, $4)`, []any{c.ID, f.foreign.ID, f.other.ID, start}, foreignKey},
			{"SenderTakenOffWithLiveEnrollments", `UPDATE campaign_accounts SET removed_at = $3 WHERE campaign_id = $1 AND account_id = $2`,
				[]any{c.ID, f.a.ID, start}, constraint("enrollments_sender_current")},
			{"SendMovedToAnotherStep", `UPDATE sends SET step_id = 's2' WHERE id = 'snd_rule'`, nil,
				constraint("sends_state_machine")},
			{"SendMovedToAnotherWorkspace", `UPDATE sends SET workspace_id = $1 WHERE id = 'snd_rule'`, []any{f.other.ID},
				constraint("sends_state_machine")},
			{"NoteOnAMessage", `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
				step_id, action, state, with_note, claimed_at) VALUES ('snd_note', $1, $2, $3, $4, $5, 's9', 'message', 'intent', true, $6)`,
				[]any{f.ws.ID, f.a.ID, c.ID, e.ID, e.ProspectID, start}, constraint("sends_note_invite_chk")},
			{"CreditsBreakerOnInvites", `INSERT INTO send_blocks (account_id, action, kind, until, reason, created_at)
				VALUES ($1, 'invite', 'credits', $2, 'x', $2)`, []any{f.a.ID, start}, constraint("send_blocks_credits_inmail_chk")},
			{"ProspectWithoutIdentifier", `INSERT INTO prospects (id, workspace_id, created_at, updated_at) VALUES ('prs_x', $1, $2, $2)`,
				[]any{f.ws.ID, start}, constraint("prospects_identifier_chk")},
			{"ProspectURLWithoutSlug", `INSERT INTO prospects (id, workspace_id, linkedin_url, provider_id, created_at, updated_at)
				VALUES ('prs_y', $1, 'https://www.linkedin.com/in/x', 'ACoAAy', $2, $2)`,
				[]any{f.ws.ID, start}, constraint("prospects_linkedin_url_chk")},
			{"ProspectSlugTwiceInAWorkspace", `INSERT INTO prospects (id, workspace_id, linkedin_url, public_slug, created_at, updated_at)
				VALUES ('prs_z', $1, 'https://www.linkedin.com/in/ada', 'ada', $2, $2)`,
				[]any{f.ws.ID, start}, db.IsUniqueViolation},
			{"ProspectCustomFieldsNotAnObject", `UPDATE prospects SET custom_fields = '[]' WHERE id = $1`, []any{e.ProspectID},
				constraint("prospects_custom_fields_chk")},
		}
		for _, tc := range cases {
			t.Run(tc.name+"IsRefused", func(t *testing.T) {
				t.Parallel()
				_, err := d.SQL.ExecContext(f.ctx, tc.sql, tc.args...)
				if !tc.refuse(err) {
					t.Fatalf("expected the database to refuse, got %v", err)
				}
			})
		}

		t.Run("TheSameSlugInAnotherWorkspaceIsAllowed", func(t *testing.T) {
			t.Parallel()
			if _, err := d.SQL.ExecContext(f.ctx, `INSERT INTO prospects (id, workspace_id, linkedin_url, public_slug, created_at, updated_at)
				VALUES ('prs_other', $1, 'https://www.linkedin.com/in/ada', 'ada', $2, $2)`, f.other.ID, start); err != nil {
				t.Fatal(err)
			}
		})
	})
}
