package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
)

// TestAccountPatchIsWiredToTheFloorAndReevaluation: the application gives
// the account service KEEL_MIN_SPACING as the pacing floor, and a settings
// PATCH makes the account's gate-parked prospects due again
// (docs/sending.md#re-evaluation).
func TestAccountPatchIsWiredToTheFloorAndReevaluation(t *testing.T) {
	t.Parallel()
	a, base, out := startSandbox(t)
	ctx := context.Background()
	tok := ""
	for _, f := range strings.Fields(out.String()) {
		if strings.HasPrefix(f, "keel_") {
			tok = f
		}
	}
	patch := func(accountID string, body any) (int, map[string]any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("PATCH", base+"/api/v1/accounts/"+accountID, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&got)
		return resp.StatusCode, got
	}
	accs, err := a.Accounts.List(ctx, a.DB.SQL, account.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sender account.Account
	for _, acc := range accs {
		if acc.Status == account.StatusConnected {
			sender = acc
		}
	}
	if sender.ID == "" {
		t.Fatal("no connected demo account")
	}

	// The configured least spacing is one minute.
	if status, prob := patch(sender.ID, map[string]any{"pacing": map[string]any{"min_gap_seconds": 30}}); status != http.StatusUnprocessableEntity ||
		!strings.Contains(prob["detail"].(string), "pacing.min_gap_seconds") {
		t.Fatalf("a gap under KEEL_MIN_SPACING: %d %v", status, prob)
	}

	name := "wired"
	c, err := a.Campaigns.Create(ctx, sender.WorkspaceID, campaign.Input{Name: &name, AccountIDs: []string{sender.ID},
		Steps: []campaign.Step{{ID: "i1", Type: campaign.StepInvite}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Campaigns.Import(ctx, c.ID, sender.WorkspaceID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAwired1", FirstName: "Ada"}}); err != nil {
		t.Fatal(err)
	}
	// Parked by a gate far ahead, as the claim would park it, while the
	// campaign is still a draft so no pass looks at it first.
	far := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
	if _, err := a.DB.SQL.ExecContext(ctx, `UPDATE enrollments SET state = 'active', step_id = 'i1', next_action_at = $2, parked_by = 'window_closed'
		WHERE campaign_id = $1`, c.ID, far); err != nil {
		t.Fatal(err)
	}
	if status, got := patch(sender.ID, map[string]any{"pacing": map[string]any{"max_gap_seconds": 600}}); status != http.StatusOK {
		t.Fatalf("pacing patch: %d %v", status, got)
	}
	var next time.Time
	var parkedBy *string
	if err := a.DB.SQL.QueryRowContext(ctx, `SELECT next_action_at, parked_by FROM enrollments WHERE campaign_id = $1`, c.ID).Scan(&next, &parkedBy); err != nil {
		t.Fatal(err)
	}
	if !next.Before(far) || parkedBy != nil {
		t.Fatalf("after the PATCH the parked prospect is due at %v (parked by %v), want now", next, parkedBy)
	}
}
