package send

import (
	"context"
	"database/sql"
	"errors"
	"hash/fnv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile"
)

// Pending invitations and their withdrawal (docs/sending.md#pending-invitations,
// docs/sending.md#withdrawals). An invitation is pending from the
// confirmation of its send until an accept, a withdrawal, or a read of the
// provider's sent list that no longer shows it. Withdrawals are ledger
// actions like every send: claimed through the one policy, dispatched
// once, reconciled from the sent list when their outcome is unknown.

// Defaults of the sent list's reconciliation.
const (
	// InvitationSyncEvery is the mean time between two reads of an
	// account's sent list; each read adds up to InvitationSyncJitter.
	InvitationSyncEvery  = 5 * time.Hour
	InvitationSyncJitter = 2 * time.Hour
	// InvitationSyncRetry is the next read after a failed one.
	InvitationSyncRetry = 30 * time.Minute
	// InvitationSyncPerRun bounds the accounts one run reads: with a run
	// every 5 minutes, 200 keep 10,000 accounts read every 5–7 hours.
	InvitationSyncPerRun = 200
	// invitationSyncWorkers bounds the accounts one run reads at once.
	invitationSyncWorkers = 4
	// invitationGoneGrace keeps an invitation confirmed moments before a
	// read pending even when the list does not show it yet.
	invitationGoneGrace = time.Hour
)

// pendingParked is the gate code of enrollments the pending cap parked;
// an acceptance or a withdrawal makes them due (docs/sending.md#re-evaluation).
const pendingParked = policy.CodePendingInvitations

// freeSlot makes the invitations the pending cap held on an account due
// again: a slot just freed.
func (e *Engine) freeSlot(ctx context.Context, tx *sql.Tx, accountID string, now time.Time) error {
	_, err := e.opts.Campaigns.Reevaluate(ctx, tx, campaign.Scope{AccountID: accountID, ParkedBy: pendingParked}, now)
	return err
}

// processWithdrawal claims the withdrawal of one due invitation through
// the one policy, in one transaction. It reports whether it claimed, and
// the verdict's code when it did not.
func (e *Engine) processWithdrawal(ctx context.Context, invitationID string, now time.Time) (processResult, error) {
	var res processResult
	err := e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		res = processResult{}
		inv, err := e.lockInvitation(ctx, tx, invitationID)
		if err != nil {
			return err
		}
		if inv.state != "pending" || inv.sendID == "" || inv.withdrawAt.IsZero() || inv.withdrawAt.After(now) {
			return nil
		}
		acc, err := e.opts.Accounts.Get(ctx, tx, "", inv.accountID)
		if err != nil {
			return err
		}
		if acc.WithdrawAfterDays == 0 {
			return setWithdrawAt(ctx, tx, inv.id, time.Time{})
		}
		p, err := lockPacing(ctx, tx, acc.ID, policy.ActionWithdraw, now)
		if err != nil {
			return err
		}
		snap, err := readSnapshot(ctx, tx, SnapshotRequest{Account: acc, Action: policy.ActionWithdraw, Pacing: e.PacingOf(acc), Now: now}, p)
		if err != nil {
			return err
		}
		v := policy.Decide(snap, now, e.draw())
		if !v.Allowed {
			res = processResult{kind: resultDeferred, code: v.Code}
			if v.Code == policy.CodePacing && !v.ThisActionOnly {
				res.kind = resultSkipped
				return nil
			}
			return setWithdrawAt(ctx, tx, inv.id, policy.Recheck(v, now))
		}
		sendID := id.New("snd")
		err = claimWithdrawal(ctx, tx, sendID, inv, now.Add(v.Gap), v.SpreadUntil, now.Add(InFlightRecheck), now)
		if db.IsUniqueViolation(err) {
			// A withdrawal of it is in flight already.
			res.kind = resultSkipped
			return setWithdrawAt(ctx, tx, inv.id, now.Add(InFlightRecheck))
		}
		if err != nil {
			return err
		}
		if err := e.enqueue(ctx, tx, sendID); err != nil {
			return err
		}
		res = processResult{kind: resultClaimed, sendID: sendID}
		return nil
	})
	return res, err
}

// recheckWithdrawal re-applies, at dispatch, what may have changed since
// the claim: the account connected, no cooldown on withdrawals, the
// invitation still pending (an accept may have come meanwhile).
func (e *Engine) recheckWithdrawal(ctx context.Context, tx *sql.Tx, row sendRow, p *payload, now time.Time) (string, error) {
	acc, err := e.shareLockAccount(ctx, tx, row.accountID)
	if err != nil {
		return "", err
	}
	inv, err := invitationOfWithdrawal(ctx, tx, row.id)
	if err != nil {
		return "", err
	}
	*p = payload{acc: acc, inv: inv}
	if acc.Status != account.StatusConnected {
		return "account is " + string(acc.Status), nil
	}
	if inv.state != "pending" {
		return "the invitation is " + inv.state + " already", nil
	}
	if b, err := ActiveBlock(ctx, tx, row.accountID, row.action, now); err != nil || b != nil {
		if err != nil {
			return "", err
		}
		return b.Kind + " until " + b.Until.Format(time.RFC3339), nil
	}
	if p.prospect, err = e.opts.Campaigns.GetProspect(ctx, tx, row.prospectID); err != nil {
		return "", err
	}
	return "", nil
}

// holdWithdrawal puts a withdrawal that did not go back on the
// invitation, to be looked at again at until (a cancelled claim).
func holdWithdrawal(ctx context.Context, tx *sql.Tx, row sendRow, until time.Time) error {
	inv, err := invitationOfWithdrawal(ctx, tx, row.id)
	if err != nil {
		return err
	}
	return setWithdrawAt(ctx, tx, inv.id, until)
}

// callWithdraw makes the provider call of a withdrawal: the invitation's
// id is the one its send was answered with, or found in the sent list.
func (e *Engine) callWithdraw(ctx context.Context, p payload) (callResult, error) {
	ref := p.inv.providerInvitation
	if ref == "" {
		inv, found, err := e.findSent(ctx, p.acc.ProviderAccountID, p.prospect)
		if err != nil {
			return callResult{}, err
		}
		if !found {
			return callResult{}, errNotListed
		}
		ref = inv
	}
	err := e.opts.Client.CancelInvitation(ctx, p.acc.ProviderAccountID, ref)
	return callResult{ref: ref}, err
}

// errNotListed: the invitation to withdraw is not in the sent list any
// more (accepted, declined or withdrawn outside Keel).
var errNotListed = errors.New("the invitation is not in the account's sent list any more")

// findSent looks for a pending invitation to the prospect in the account's
// sent list (every page, bounded), by member id, imported provider id or
// either handle; it returns the provider's invitation id.
func (e *Engine) findSent(ctx context.Context, providerAccount string, pr campaign.Prospect) (string, bool, error) {
	inv, found, _, err := e.scanSent(ctx, providerAccount, func(inv unipile.SentInvitation) bool {
		return sentTo(inv, pr.MemberID, pr.ProviderID, pr.PublicSlug, pr.PublicHandle)
	})
	return inv.ID.String(), found, err
}

// scanSent walks the account's sent list, every page up to maxInvitePages
// (100 a page), and returns the first invitation match accepts; complete
// says the whole list was read. The one walk of the sent list: finding an
// invitation to withdraw, checking a withdrawal, reconciling an invite,
// reading the list for the pending count.
func (e *Engine) scanSent(ctx context.Context, providerAccount string, match func(unipile.SentInvitation) bool) (unipile.SentInvitation, bool, bool, error) {
	opts := unipile.PageOptions{Limit: 100}
	for range maxInvitePages {
		page, err := e.opts.Client.ListSentInvitations(ctx, providerAccount, opts)
		if err != nil {
			return unipile.SentInvitation{}, false, false, err
		}
		for _, inv := range page.Items {
			if match(inv) {
				return inv, true, false, nil
			}
		}
		if page.Cursor.String() == "" || len(page.Items) == 0 {
			return unipile.SentInvitation{}, false, true, nil
		}
		opts.Cursor = page.Cursor.String()
	}
	return unipile.SentInvitation{}, false, false, nil
}

// sentTo says whether a listed invitation went to the person known by
// these ids and handles.
func sentTo(inv unipile.SentInvitation, memberID, providerID, slug, handle string) bool {
	invited := inv.InvitedUserID.String()
	if invited != "" && (invited == memberID || invited == providerID) {
		return true
	}
	pub := inv.InvitedUserPublicID
	return pub != "" && ((slug != "" && strings.EqualFold(pub, slug)) || (handle != "" && strings.EqualFold(pub, handle)))
}

// recordWithdraw writes a withdrawal's outcome, classified once by Kind.
func (e *Engine) recordWithdraw(ctx context.Context, row sendRow, p payload, res callResult, callErr error) error {
	return e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		if ok, err := e.answerMayLand(ctx, tx, row, callErr, now); err != nil || !ok {
			return err
		}
		if callErr == nil {
			return e.confirmWithdrawal(ctx, tx, row, res.ref, now)
		}
		kind := unipile.KindOf(callErr)
		msg := callErr.Error()
		if errors.Is(callErr, errNotListed) {
			kind = unipile.KindNotFound
		}
		fail := func() error { return failSend(ctx, tx, row.id, kind.String(), msg, now) }
		switch kind {
		case unipile.KindUnknownOutcome, unipile.KindTransient:
			// Whether it took effect is read from the sent list
			// (reconcileWithdrawal), so the ledger says withdrawn exactly
			// when it was.
			return markUnknown(ctx, tx, row.id, kind.String(), msg)
		case unipile.KindNotFound:
			// Nothing to withdraw: the invitation left the list (accepted,
			// declined, or withdrawn by hand). It is no longer pending.
			if err := fail(); err != nil {
				return err
			}
			if err := closeGone(ctx, tx, p.inv.id, now); err != nil {
				return err
			}
			return e.freeSlot(ctx, tx, row.accountID, now)
		case unipile.KindRateLimited:
			if err := fail(); err != nil {
				return err
			}
			until := now.Add(policy.CooldownAfterLimit)
			if err := SetBlock(ctx, tx, Block{AccountID: row.accountID, Action: policy.ActionWithdraw, Kind: policy.BlockCooldown, Until: until,
				Reason: "LinkedIn limit signal: " + msg}, now); err != nil {
				return err
			}
			return setWithdrawAt(ctx, tx, p.inv.id, until)
		case unipile.KindReconnectNeeded, unipile.KindRestricted:
			if err := fail(); err != nil {
				return err
			}
			if err := e.flipOnSendError(ctx, tx, row.accountID, kind, "withdrawal"); err != nil {
				return err
			}
			return setWithdrawAt(ctx, tx, p.inv.id, now.Add(policy.NotConnectedRecheck))
		default:
			// An incident at the provider or in Keel: tried again with
			// backoff.
			if err := fail(); err != nil {
				return err
			}
			n, err := failedWithdrawals(ctx, tx, p.inv)
			if err != nil {
				return err
			}
			return setWithdrawAt(ctx, tx, p.inv.id, now.Add(IncidentBackoff(n)))
		}
	})
}

// confirmWithdrawal records a withdrawal that took effect: the ledger
// row, the invitation closed as withdrawn, the prospect's sequence, and
// the freed slot, in one transaction.
func (e *Engine) confirmWithdrawal(ctx context.Context, tx *sql.Tx, row sendRow, ref string, now time.Time) error {
	if err := confirmSend(ctx, tx, row.id, ref, "", now); err != nil {
		return err
	}
	en, err := e.lockEnrollmentAny(ctx, tx, row.enrollmentID)
	if err != nil {
		return err
	}
	return e.advanceConfirmed(ctx, tx, row, en, ref, "", now)
}

// withdrawn is what follows a confirmed withdrawal: the invitation is
// withdrawn, a waiting if_accepted takes its else-branch (or the sequence
// ends, invitation_withdrawn), and the slot it held frees.
func (e *Engine) withdrawn(ctx context.Context, tx *sql.Tx, row sendRow, en *enrollmentRow, now time.Time) error {
	if err := closeWithdrawn(ctx, tx, row.id, now); err != nil {
		return err
	}
	if err := e.emit(ctx, tx, row.workspaceID, "linkedin.invitation_withdrawn", EventData{AccountID: row.accountID, CampaignID: row.campaignID,
		EnrollmentID: row.enrollmentID, ProspectID: row.prospectID, Action: string(policy.ActionWithdraw)}); err != nil {
		return err
	}
	if err := e.freeSlot(ctx, tx, row.accountID, now); err != nil {
		return err
	}
	live := en.state == string(campaign.EnrollmentActive) || en.state == string(campaign.EnrollmentSoftPaused)
	if !live || en.acceptedAt.Valid {
		return nil
	}
	camp, err := e.readCampaign(ctx, tx, en.campaignID)
	if err != nil {
		return err
	}
	cur, _ := campaign.StepByID(camp.Steps, en.stepID)
	if en.state == string(campaign.EnrollmentActive) && cur.Type == campaign.StepIfAccepted && cur.Else != campaign.End && cur.Else != "" {
		return e.moveTo(ctx, tx, camp, en, cur.Else, now, 0)
	}
	return e.endEnrollment(ctx, tx, en, campaign.EndedInvitationWithdrawn, now)
}

// reconcileWithdrawal settles a withdrawal whose outcome is unknown from
// the sent list: still listed, it did not take effect (failed; the
// invitation is withdrawn later through the policy again); gone, it did.
// Either way nothing is sent twice blindly.
func (e *Engine) reconcileWithdrawal(ctx context.Context, row sendRow) error {
	var p payload
	err := e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if p.inv, err = invitationOfWithdrawal(ctx, tx, row.id); err != nil {
			return err
		}
		if p.prospect, err = e.opts.Campaigns.GetProspect(ctx, tx, row.prospectID); err != nil {
			return err
		}
		p.acc, err = e.opts.Accounts.Get(ctx, tx, "", row.accountID)
		return err
	})
	if err != nil {
		return err
	}
	listed, err := e.stillListed(ctx, p)
	if err != nil {
		e.opts.Logger.Warn("reconciling withdrawal", "send", row.id, "error", err)
		return nil
	}
	return e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		cur, err := e.lockSend(ctx, tx, row.id)
		if err != nil || cur.state != StateUnknown {
			return err
		}
		if !listed {
			return e.confirmWithdrawal(ctx, tx, row, p.inv.providerInvitation, now)
		}
		if err := failSend(ctx, tx, row.id, unipile.KindUnknownOutcome.String(), "not withdrawn: the invitation is still in the sent list", now); err != nil {
			return err
		}
		n, err := failedWithdrawals(ctx, tx, p.inv)
		if err != nil {
			return err
		}
		return setWithdrawAt(ctx, tx, p.inv.id, now.Add(IncidentBackoff(n)))
	})
}

// stillListed says whether the sent list still shows the invitation. A
// list longer than the walk counts as showing it: never withdraw blind
// twice; the next attempt finds out.
func (e *Engine) stillListed(ctx context.Context, p payload) (bool, error) {
	_, found, complete, err := e.scanSent(ctx, p.acc.ProviderAccountID, func(inv unipile.SentInvitation) bool {
		return (p.inv.providerInvitation != "" && inv.ID.String() == p.inv.providerInvitation) ||
			sentTo(inv, p.prospect.MemberID, p.prospect.ProviderID, p.prospect.PublicSlug, p.prospect.PublicHandle)
	})
	return found || !complete, err
}

// SyncInvitations reads the sent list of the accounts whose turn it is and
// reconciles their pending invitations with it: invitations made outside
// Keel count, Keel's that left the list close. Run it every few minutes;
// each account is read every InvitationSyncEvery plus a jitter of its own.
func (e *Engine) SyncInvitations(ctx context.Context) (int, error) {
	if e.opts.Client == nil {
		return 0, ErrNoProvider
	}
	now := e.opts.Clock.Now()
	list, err := e.accountsToSync(ctx, now, InvitationSyncPerRun)
	if err != nil {
		return 0, err
	}
	return len(list), forEach(invitationSyncWorkers, list, func(a syncRow) error { return e.syncAccount(ctx, a) })
}

// syncJitter is an account's own share of InvitationSyncJitter on a day,
// so reads of many accounts spread out.
func syncJitter(accountID string, now time.Time) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(accountID + "|" + now.UTC().Format(time.DateOnly)))
	return time.Duration(h.Sum32()%uint32(InvitationSyncJitter/time.Minute)) * time.Minute
}

// syncAccount reads one account's sent list and reconciles it.
func (e *Engine) syncAccount(ctx context.Context, a syncRow) error {
	started := e.opts.Clock.Now()
	var items []unipile.SentInvitation
	_, _, complete, readErr := e.scanSent(ctx, a.provider, func(inv unipile.SentInvitation) bool {
		items = append(items, inv)
		return false
	})
	if readErr != nil {
		now := e.opts.Clock.Now()
		e.opts.Logger.Warn("reading sent invitations", "account", a.id, "error", readErr)
		return recordSync(ctx, e.opts.DB.SQL, a.id, 0, 0, readErr.Error(), now, now.Add(InvitationSyncRetry))
	}
	return e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		acc, err := e.opts.Accounts.Get(ctx, tx, "", a.id)
		if err != nil {
			return err
		}
		if err := rescheduleWithdrawals(ctx, tx, a.id, acc.WithdrawAfterDays, true); err != nil {
			return err
		}
		pending, err := pendingInvitations(ctx, tx, a.id)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(pending))
		outside := 0
		for _, it := range items {
			ref := it.ID.String()
			match := -1
			for i, p := range pending {
				if (ref != "" && p.providerInvitation == ref) ||
					(p.sendID != "" && sentTo(it, p.memberID, p.providerID, p.slug, p.handle)) {
					match = i
					break
				}
			}
			if match >= 0 {
				seen[pending[match].id] = true
				if err := markSeen(ctx, tx, pending[match].id, ref, it.InvitedUserID.String(), now); err != nil {
					return err
				}
				if pending[match].sendID == "" {
					outside++
				}
				continue
			}
			if ref == "" {
				continue
			}
			sentAt := now
			if !it.ParsedDatetime.IsZero() && it.ParsedDatetime.Before(now) {
				sentAt = it.ParsedDatetime.Time
			}
			if err := addOutside(ctx, tx, a.workspaceID, a.id, ref, it.InvitedUserID.String(), sentAt, now); err != nil {
				return err
			}
			outside++
		}
		closed := 0
		if complete {
			for _, p := range pending {
				if seen[p.id] || !p.sentAt.Before(started.Add(-invitationGoneGrace)) {
					continue
				}
				if err := closeGone(ctx, tx, p.id, now); err != nil {
					return err
				}
				closed++
			}
		}
		if closed > 0 {
			if err := e.freeSlot(ctx, tx, a.id, now); err != nil {
				return err
			}
		}
		return recordSync(ctx, tx, a.id, len(items), outside, "", now, now.Add(InvitationSyncEvery+syncJitter(a.id, now)))
	})
}

// OnAccountSettings is an account.SettingsHook: a changed
// withdraw_after_days moves every pending invitation's withdrawal time.
// (A raised pending cap frees what it held through the campaigns' own
// hook, which re-evaluates every parked enrollment of the account.)
func (e *Engine) OnAccountSettings(ctx context.Context, tx *sql.Tx, before, after account.Account) error {
	if before.WithdrawAfterDays != after.WithdrawAfterDays {
		if err := rescheduleWithdrawals(ctx, tx, after.ID, after.WithdrawAfterDays, false); err != nil {
			return err
		}
	}
	return nil
}

// incidentHoldsWithdrawal cancels a claimed withdrawal during a provider
// incident; the invitation waits for the guard without a try.
func incidentHoldsWithdrawal(ctx context.Context, tx *sql.Tx, row sendRow, now time.Time) (bool, error) {
	incident, err := health.IncidentUntil(ctx, tx, now)
	if err != nil || !incident.After(now) {
		return false, err
	}
	if err := cancelSend(ctx, tx, row.id, policy.CodeIncident, "not sent: provider incident (burst guard open until "+
		incident.Format(time.RFC3339)+")", now); err != nil {
		return false, err
	}
	return true, holdWithdrawal(ctx, tx, row, incident)
}
