package app

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/workspace"
)

// DemoWorkspace is the workspace sandbox mode fills on a fresh database.
const DemoWorkspace = "demo"

// DemoEmail signs in to the sandbox's demo workspace.
const DemoEmail = "demo@keel.local"

// seedSandbox makes the in-memory fake Unipile agree with the database: the
// fake forgets everything on restart, and an account the provider does not
// know would be (correctly) disconnected by the health monitor after three
// checks. On a fresh database it creates a demo workspace with accounts,
// one of them needing a reconnect, and prints an API token for it.
func (a *App) seedSandbox(ctx context.Context) error {
	existing, err := a.Accounts.List(ctx, a.DB.SQL, account.ListOptions{})
	if err != nil {
		return err
	}
	for _, acc := range existing {
		status := "OK"
		if acc.Status != account.StatusConnected {
			status = "CREDENTIALS"
		}
		a.Sandbox.AddAccount(fake.AccountSpec{ID: acc.ProviderAccountID, Name: acc.Name, Status: status})
	}
	wss, err := workspace.List(ctx, a.DB.SQL)
	if err != nil || len(wss) > 0 {
		return err
	}
	ws, err := workspace.Create(ctx, a.DB.SQL, DemoWorkspace, "Demo (sandbox)", a.Clock.Now())
	if err != nil {
		return err
	}
	names := []string{"Ada Lovelace", "Grace Hopper", "Alan Turing"}
	var broken string
	for i, n := range names {
		id := a.Sandbox.AddAccount(fake.AccountSpec{Name: n})
		if i == len(names)-1 {
			broken = id
		}
	}
	if _, err := a.Connect.Sync(ctx, ws.ID); err != nil {
		return fmt.Errorf("importing sandbox accounts: %w", err)
	}
	// One account loses its session, so the demo shows a "Reconnect needed"
	// pill and the reconnect flow can be tried.
	if acc, err := a.Accounts.GetByProviderID(ctx, a.DB.SQL, broken); err == nil {
		c := account.TerminalCredentials()
		if _, err := a.Accounts.Flip(ctx, account.FlipRequest{AccountID: acc.ID, To: account.StatusDisconnected, Copy: &c,
			Reason: "sandbox demo: credentials expired", Source: account.SourceWebhook, Actor: "sandbox"}); err != nil {
			return err
		}
		_ = a.Sandbox.SetAccountStatus(broken, "CREDENTIALS")
	}
	_, secret, err := token.Create(ctx, a.DB.SQL, ws.ID, "sandbox", a.Clock.Now())
	if err != nil {
		return err
	}
	password := randomSecret()[:20]
	if _, err := user.Create(ctx, a.DB.SQL, ws.ID, DemoEmail, password, a.Clock.Now()); err != nil {
		return fmt.Errorf("creating the demo user: %w", err)
	}
	fmt.Fprintf(a.out, "SANDBOX MODE: created workspace %q with %d demo accounts; API token (shown once): %s\n", DemoWorkspace, len(names), secret)
	fmt.Fprintf(a.out, "SANDBOX MODE: sign in at %s/login with workspace %q, email %s, password %s (shown once)\n",
		a.Config.PublicURL, DemoWorkspace, DemoEmail, password)
	return nil
}

// sandboxReplies are what demo prospects write back.
var sandboxReplies = []string{
	"Thanks for reaching out — happy to talk next week.",
	"Not the right time for us, sorry.",
	"Interesting. Can you send more details?",
	"Who else at your company should I talk to?",
}

// sandboxActivity makes the sandbox feel alive: now and then a demo
// prospect accepts a pending invitation, and one who accepted writes back,
// through the fake's webhooks like real LinkedIn traffic (docs/inbox.md).
// turn picks who acts, so each run changes something different.
func (a *App) sandboxActivity(turn int) {
	for i, st := range a.Sandbox.Accounts() {
		if st.Status != "OK" {
			continue
		}
		var pending, accepted []fake.Invitation
		for _, inv := range a.Sandbox.Invitations(st.ID) {
			switch inv.State {
			case fake.InvitationPending:
				pending = append(pending, inv)
			case fake.InvitationAccepted:
				accepted = append(accepted, inv)
			}
		}
		if len(pending) > 0 && (turn+i)%3 == 0 {
			_ = a.Sandbox.Accept(pending[(turn+i)%len(pending)].ID)
		}
		if len(accepted) > 0 && (turn+i)%4 == 1 {
			inv := accepted[(turn+i)%len(accepted)]
			_, _, _ = a.Sandbox.IncomingMessage(st.ID, inv.ProviderID, sandboxReplies[(turn+i)%len(sandboxReplies)])
		}
	}
}
