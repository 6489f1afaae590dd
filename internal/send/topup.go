package send

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
)

// Sources of an InMail top-up.
const (
	// TopUpManual: a person or a token said the account has credits again.
	TopUpManual = "manual"
	// TopUpBalanceCheck: the provider reported a positive InMail balance.
	TopUpBalanceCheck = "balance_check"
)

// TopUp is one clearing of an account's InMail credits breaker
// (docs/sending.md#inmail-credits).
type TopUp struct {
	AccountID string    `json:"account_id"`
	By        string    `json:"cleared_by"`
	Source    string    `json:"source"`
	Balance   int       `json:"balance,omitempty"`
	At        time.Time `json:"cleared_at"`
	// Held says whether a breaker was holding InMails when it was cleared.
	Held bool `json:"breaker_was_held"`
	// Reevaluated counts the prospects made due again.
	Reevaluated int `json:"reevaluated"`
}

// TopUpInMail clears an account's InMail credits breaker in one
// transaction: the block goes, the top-up is recorded with who did it,
// and the account's parked prospects are due again, so InMails resume on
// the next pass (docs/sending.md#re-evaluation). The caller has checked
// the account belongs to the workspace; t.By and t.Source are required.
func TopUpInMail(ctx context.Context, d *db.DB, campaigns *campaign.Service, t TopUp) (TopUp, error) {
	if t.By == "" || t.Source == "" {
		return t, errors.New("recording an InMail top-up: who and from which source are required")
	}
	t.At = t.At.UTC()
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		held, err := ClearCredits(ctx, tx, t)
		if err != nil {
			return err
		}
		n, err := campaigns.Reevaluate(ctx, tx, campaign.Scope{AccountID: t.AccountID}, t.At)
		t.Held, t.Reevaluated = held, n
		return err
	})
	return t, err
}

// BalanceReader is what the daily balance check needs of the provider.
type BalanceReader interface {
	GetInMailBalance(ctx context.Context, accountID string) (unipile.InMailBalance, error)
}

// CheckInMailBalances asks the provider for the InMail balance of every
// connected account whose credits breaker holds, and clears the breaker
// (recorded as the balance check) where the balance is positive. An
// account whose balance cannot be read keeps its breaker. It returns how
// many breakers it cleared; the worker runs it daily.
func (e *Engine) CheckInMailBalances(ctx context.Context) (int, error) {
	if e.opts.Client == nil {
		return 0, nil
	}
	return CheckInMailBalances(ctx, e.opts.DB, e.opts.Campaigns, e.opts.Client, e.opts.Clock.Now)
}

// CheckInMailBalances is Engine.CheckInMailBalances with its parts given.
func CheckInMailBalances(ctx context.Context, d *db.DB, campaigns *campaign.Service, provider BalanceReader, now func() time.Time) (int, error) {
	ids, err := CreditBlocked(ctx, d.SQL, now())
	if err != nil {
		return 0, err
	}
	cleared := 0
	var errs []error
	for _, id := range ids {
		providerID, err := providerAccount(ctx, d.SQL, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		bal, err := provider.GetInMailBalance(ctx, providerID)
		if err != nil {
			errs = append(errs, fmt.Errorf("InMail balance of account %s: %w", id, err))
			continue
		}
		total := bal.Total()
		if total <= 0 {
			continue
		}
		if _, err := TopUpInMail(ctx, d, campaigns, TopUp{AccountID: id, By: "balance check", Source: TopUpBalanceCheck,
			Balance: int(min(total, 1<<30)), At: now()}); err != nil {
			return cleared, err
		}
		cleared++
	}
	return cleared, errors.Join(errs...)
}
