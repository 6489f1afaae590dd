package connect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
)

// maxCallbackBytes bounds a callback body ({status, account_id, name}).
const maxCallbackBytes = 64 << 10

var (
	// errLinkSpent: the link was used or expired by the time the
	// transaction looked (a concurrent callback won).
	errLinkSpent = errors.New("hosted-auth link already used or expired")
	// errConflict: the callback names an account Keel cannot attach to
	// this link (another workspace's, or not the one being reconnected).
	errConflict = errors.New("hosted-auth callback conflicts with existing accounts")
)

// CallbackHandler returns the handler for POST /webhooks/unipile/hosted-auth
// (the links' notify_url). A missing, unknown, expired or used token is
// refused with 401 and nothing changes. CREATION_SUCCESS on a create link
// creates the account (connecting) and makes it connected when Unipile
// reports it OK; RECONNECTED (or OK) on a reconnect link makes the account
// connected. In both cases the account change and spending the token commit
// in one transaction, so a token cannot be spent without its effect or be
// replayed after it.
func (s *Service) CallbackHandler() http.Handler { return http.HandlerFunc(s.serveCallback) }

func (s *Service) serveCallback(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("hosted-auth callback panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			unipile.Reply(w, http.StatusInternalServerError, "internal error")
		}
	}()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		unipile.Reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	ctx := r.Context()
	// The token is checked before the body is read, so an unauthenticated
	// caller learns nothing about what a valid body looks like.
	l, ok, err := s.lookup(ctx, r.URL.Query().Get("token"))
	if err != nil {
		s.log.Error("hosted-auth callback: reading link", "error", err)
		unipile.Reply(w, http.StatusInternalServerError, "internal error")
		return
	}
	if !ok {
		s.log.Warn("hosted-auth callback refused: missing, unknown, expired or used token", "remote", r.RemoteAddr)
		unipile.Reply(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBytes))
	if err != nil {
		unipile.Reply(w, http.StatusBadRequest, "body could not be read")
		return
	}
	n, err := parseNotification(body)
	if err != nil {
		s.log.Info("hosted-auth callback refused: malformed body", "link_id", l.id, "error", err)
		unipile.Reply(w, http.StatusBadRequest, "malformed callback body")
		return
	}
	status := strings.ToUpper(strings.TrimSpace(n.Status))
	providerID := strings.TrimSpace(string(n.AccountID))

	switch {
	case l.linkType == LinkCreate && status == unipile.StatusCreationSuccess:
		err = s.completeCreate(ctx, l, providerID, status)
	case l.linkType == LinkReconnect && (status == unipile.StatusReconnected || status == unipile.StatusOK):
		err = s.completeReconnect(ctx, l, providerID, status)
	default:
		// Unipile documents no other status; whatever it is, it does not
		// complete this link, which stays usable for another try.
		s.log.Info("hosted-auth callback with a status that does not complete the link",
			"link_id", l.id, "type", l.linkType, "status", unipile.Printable(status, 40))
		if l.linkType == LinkReconnect && l.accountID != "" {
			// A reconnect that reported something else failed: recorded in
			// the account's history, alerted while it is not connected
			// (docs/accounts.md#failed-reconnects).
			if _, err := s.recordFailure(ctx, l, FailureReported, "Unipile reported "+unipile.Printable(status, 40), s.clock.Now()); err != nil {
				s.log.Error("hosted-auth callback: recording the failed reconnect", "link_id", l.id, "error", err)
				unipile.Reply(w, http.StatusInternalServerError, "internal error")
				return
			}
		}
		unipile.Reply(w, http.StatusOK, "ignored")
		return
	}
	switch {
	case errors.Is(err, errLinkSpent):
		unipile.Reply(w, http.StatusUnauthorized, "unauthorized")
	case errors.Is(err, errConflict):
		s.log.Warn("hosted-auth callback refused", "link_id", l.id, "error", err)
		unipile.Reply(w, http.StatusConflict, "the account cannot be attached to this link")
	case err != nil:
		s.log.Error("hosted-auth callback failed", "link_id", l.id, "error", err)
		unipile.Reply(w, http.StatusInternalServerError, "internal error")
	default:
		// Exactly 200: Unipile treats anything else as a failed delivery.
		unipile.Reply(w, http.StatusOK, "ok")
	}
}

// parseNotification decodes {status, account_id, name} leniently: JSON
// whatever the content type (with account_id as string or number), or a
// form body as a fallback.
func parseNotification(body []byte) (unipile.HostedAuthNotification, error) {
	n, err := unipile.ParseHostedAuthNotification(body)
	if err != nil {
		form, ferr := url.ParseQuery(strings.TrimSpace(string(body)))
		if ferr != nil || form.Get("status") == "" || form.Get("account_id") == "" {
			return n, err
		}
		n = unipile.HostedAuthNotification{Status: form.Get("status"), AccountID: unipile.FlexString(form.Get("account_id")), Name: form.Get("name")}
	}
	// Checked here, before the link is locked or the provider asked: a
	// refused body leaves the link unspent, so Unipile's real callback can
	// still complete it.
	if !unipile.ValidAccountID(strings.TrimSpace(string(n.AccountID))) {
		return n, errors.New("account_id is not a Unipile account id (letters, digits, '_' and '-')")
	}
	return n, nil
}

// completeCreate handles CREATION_SUCCESS on a create link.
func (s *Service) completeCreate(ctx context.Context, l link, providerID, status string) error {
	// Ask Unipile before the transaction: a network call must not hold the
	// database (on SQLite, its only connection). A failure here is not
	// fatal: the account is created connecting and the stuck-connecting
	// watcher asks again.
	remote, err := s.client.GetAccount(ctx, providerID)
	sourceStatus := ""
	if err != nil {
		s.log.Warn("hosted-auth create: could not read the new account from Unipile; it stays connecting until re-polled",
			"link_id", l.id, "provider_account_id", providerID, "error", err)
	} else {
		sourceStatus = remote.SourceStatus()
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		l, err := s.lockLink(ctx, tx, l.id)
		if err != nil {
			return err
		}
		a, err := s.accounts.GetByProviderID(ctx, tx, providerID)
		switch {
		case errors.Is(err, account.ErrNotFound):
			a, err = s.accounts.Create(ctx, tx, account.NewAccount{
				WorkspaceID: l.workspaceID, ProviderAccountID: providerID, Name: remote.Name, Status: account.StatusConnecting})
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case a.WorkspaceID != l.workspaceID:
			return fmt.Errorf("%w: Unipile account %s already belongs to another workspace", errConflict, providerID)
		}
		if features, ok := remote.PremiumFeatures(); ok {
			if err := account.RecordProviderFeatures(ctx, tx, a.ID, features, s.clock.Now()); err != nil {
				return err
			}
		}
		if sourceStatus == unipile.StatusOK {
			_, err := s.accounts.FlipTx(ctx, tx, account.FlipRequest{
				AccountID: a.ID, To: account.StatusConnected, Source: account.SourceHostedAuth, Actor: "unipile",
				Reason: "hosted-auth connect completed (CREATION_SUCCESS) and Unipile reports OK"})
			if err != nil && !errors.Is(err, account.ErrAlreadyInStatus) {
				return fmt.Errorf("connecting account %s: %w", a.ID, err)
			}
		}
		if err := s.markUsed(ctx, tx, l, a.ID, status); err != nil {
			return err
		}
		db.AfterCommit(tx, func() {
			s.log.Info("hosted-auth connect completed", "link_id", l.id, "account_id", a.ID,
				"provider_account_id", providerID, "source_status", sourceStatus)
		})
		return nil
	})
}

// completeReconnect handles RECONNECTED (or OK) on a reconnect link: the
// account becomes connected, its disconnect markers and strikes cleared by
// the flip, and the token is spent, all in one transaction.
func (s *Service) completeReconnect(ctx context.Context, l link, providerID, status string) error {
	if providerID != l.providerID {
		return fmt.Errorf("%w: callback names Unipile account %s, the link reconnects %s", errConflict, providerID, l.providerID)
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		l, err := s.lockLink(ctx, tx, l.id)
		if err != nil {
			return err
		}
		_, err = s.accounts.FlipTx(ctx, tx, account.FlipRequest{
			AccountID: l.accountID, WorkspaceID: l.workspaceID, To: account.StatusConnected,
			Source: account.SourceHostedAuth, Actor: "unipile",
			Reason: "hosted-auth reconnect completed (" + status + ")"})
		switch {
		case errors.Is(err, account.ErrAlreadyInStatus):
			// Never disconnected (or a webhook got there first): still
			// evidence that it works, so holds and strikes go.
			if err := s.accounts.ConfirmConnectedTx(ctx, tx, l.accountID); err != nil {
				return fmt.Errorf("confirming account %s connected: %w", l.accountID, err)
			}
		case err != nil:
			return fmt.Errorf("reconnecting account %s: %w", l.accountID, err)
		}
		if err := s.markUsed(ctx, tx, l, l.accountID, status); err != nil {
			return err
		}
		// One line per reconnect, once it has committed (docs/operations.md#logs).
		db.AfterCommit(tx, func() {
			s.log.Info("hosted-auth reconnect completed", "link_id", l.id, "account_id", l.accountID,
				"workspace_id", l.workspaceID, "outcome", "reconnected")
		})
		return nil
	})
}
