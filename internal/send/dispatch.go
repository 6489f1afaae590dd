package send

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile"
)

// sendRow is a ledger row with what dispatch needs.
type sendRow struct {
	id, workspaceID, accountID, campaignID, enrollmentID, prospectID, stepID string
	action                                                                   policy.Action
	state                                                                    State
	claimedAt                                                                time.Time
	// dispatchedAt is when the row was marked dispatched (zero before).
	dispatchedAt time.Time
	chatID       string
	// conversationID and replyText are a reply's.
	conversationID, replyText string
}

// payload is what one provider call needs, read before the call.
type payload struct {
	acc      account.Account
	camp     campaign.Campaign
	step     campaign.Step
	prospect campaign.Prospect
	note     string
	subject  string
	text     string
	// inv is the invitation a withdrawal withdraws.
	inv invitationRow
	// hold is why the prospect is held instead of sent (recheck).
	hold string
}

// Dispatch performs one claimed send. It is the only function that makes a
// LinkedIn-visible provider call. A row found already dispatched (a crash
// or a rescued job) is never sent again: it becomes unknown and is
// reconciled from provider reads, or parked for a person — once its call
// cannot still be running (mayBeInCall); until then it is left to the
// answer of that call.
func (e *Engine) Dispatch(ctx context.Context, sendID string) error {
	if e.opts.Client == nil {
		// Never mark a send dispatched without a way to send it.
		return ErrNoProvider
	}
	var (
		row     sendRow
		p       payload
		proceed bool
		// inCall: the row is dispatched and its call may still be running.
		inCall bool
	)
	err := e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if row, err = e.lockSend(ctx, tx, sendID); err != nil {
			return err
		}
		now := e.opts.Clock.Now()
		switch row.state {
		case StateDispatched:
			if inCall = e.mayBeInCall(row, now); inCall {
				// Another dispatcher (the job, or a pass's DispatchPending
				// that locked the row first) may be in this very call.
				return nil
			}
			return markUnknown(ctx, tx, row.id, "", "found dispatched without an outcome (crash or rescued job); reconciling, never resending")
		case StateIntent:
		default:
			return nil
		}
		switch row.action {
		case policy.ActionWithdraw:
			return e.prepareWithdrawal(ctx, tx, row, &p, &proceed, now)
		case policy.ActionReply:
			return e.prepareReply(ctx, tx, row, &p, &proceed, now)
		}
		reason, err := e.recheck(ctx, tx, row, &p, now)
		if err != nil {
			return err
		}
		if reason != "" {
			if err := cancelSend(ctx, tx, row.id, "", "not sent: "+reason, now); err != nil {
				return err
			}
			if p.hold != "" {
				return e.opts.Campaigns.Hold(ctx, tx, row.enrollmentID, p.hold, now)
			}
			return e.deferTo(ctx, tx, row.enrollmentID, now.Add(policy.NotConnectedRecheck), now)
		}
		// During a provider incident no send calls Unipile: the row is
		// cancelled (it frees the step and counts against nothing) and the
		// prospect waits for the guard, without using a try
		// (docs/sending.md#incidents).
		incident, err := health.IncidentUntil(ctx, tx, now)
		if err != nil {
			return err
		}
		if incident.After(now) {
			if err := cancelSend(ctx, tx, row.id, policy.CodeIncident, "not sent: provider incident (burst guard open until "+
				incident.Format(time.RFC3339)+")", now); err != nil {
				return err
			}
			return e.deferTo(ctx, tx, row.enrollmentID, incident, now)
		}
		if err := markDispatched(ctx, tx, row.id, now); err != nil {
			return err
		}
		proceed = true
		return nil
	})
	if err != nil {
		return err
	}
	if !proceed {
		if !inCall && (row.state == StateDispatched || row.state == StateUnknown) {
			return e.Reconcile(ctx, sendID)
		}
		return nil
	}
	switch row.action {
	case policy.ActionWithdraw:
		res, callErr := e.callWithdraw(ctx, p)
		err = e.recordWithdraw(ctx, row, p, res, callErr)
	case policy.ActionReply:
		sent, callErr := e.opts.Client.SendMessage(ctx, row.chatID, unipile.SendMessageRequest{Text: row.replyText})
		err = e.recordReply(ctx, row, callResult{ref: sent.MessageID.String()}, callErr)
	default:
		res, callErr := e.call(ctx, row, p)
		err = e.record(ctx, row, p, res, callErr)
	}
	if err == nil {
		e.logOutcome(ctx, row)
	}
	return err
}

// prepareWithdrawal is Dispatch's transaction for a withdrawal: recheck,
// hold during an incident, or mark it dispatched.
func (e *Engine) prepareWithdrawal(ctx context.Context, tx *sql.Tx, row sendRow, p *payload, proceed *bool, now time.Time) error {
	reason, err := e.recheckWithdrawal(ctx, tx, row, p, now)
	if err != nil {
		return err
	}
	if reason != "" {
		if err := cancelSend(ctx, tx, row.id, "", "not sent: "+reason, now); err != nil {
			return err
		}
		if p.inv.state != "pending" {
			return nil
		}
		return holdWithdrawal(ctx, tx, row, now.Add(policy.NotConnectedRecheck))
	}
	if held, err := incidentHoldsWithdrawal(ctx, tx, row, now); err != nil || held {
		return err
	}
	if err := markDispatched(ctx, tx, row.id, now); err != nil {
		return err
	}
	*proceed = true
	return nil
}

// recheck re-applies the gates that may have closed since the claim:
// account connected (read under a share lock on PostgreSQL so a concurrent
// flip waits), campaign running, enrollment still at this step.
func (e *Engine) recheck(ctx context.Context, tx *sql.Tx, row sendRow, p *payload, now time.Time) (string, error) {
	acc, err := e.shareLockAccount(ctx, tx, row.accountID)
	if err != nil {
		return "", err
	}
	if acc.Status != account.StatusConnected {
		return "account is " + string(acc.Status), nil
	}
	camp, err := e.readCampaign(ctx, tx, row.campaignID)
	if err != nil {
		return "", err
	}
	if camp.Status != campaign.StatusRunning {
		return "campaign is " + string(camp.Status), nil
	}
	state, step, err := e.opts.Campaigns.EnrollmentStep(ctx, tx, row.enrollmentID)
	if err != nil {
		return "", err
	}
	if state != campaign.EnrollmentActive || step != row.stepID {
		return "enrollment moved on", nil
	}
	if b, err := ActiveBlock(ctx, tx, row.accountID, row.action, now); err != nil || b != nil {
		if err != nil {
			return "", err
		}
		return b.Kind + " until " + b.Until.Format(time.RFC3339), nil
	}
	st, ok := campaign.StepByID(camp.Steps, row.stepID)
	if !ok {
		return "step removed", nil
	}
	prospect, err := e.opts.Campaigns.GetProspect(ctx, tx, row.prospectID)
	if err != nil {
		return "", err
	}
	*p = payload{acc: acc, camp: camp, step: st, prospect: prospect}
	if p.note, err = campaign.Render(st.Note, prospect); err == nil {
		if p.text, err = campaign.Render(st.Text, prospect); err == nil {
			p.subject, err = campaign.Render(st.Subject, prospect)
		}
	}
	if err == nil && len([]rune(p.note)) > unipile.MaxInvitationNote {
		err = fmt.Errorf("step %s: the rendered invitation note is %d characters, LinkedIn allows %d", st.ID, len([]rune(p.note)), unipile.MaxInvitationNote)
	}
	if errors.Is(err, campaign.ErrMissingVariable) {
		// The prospect's data changed since the claim: held, like the
		// claim holds (docs/campaigns.md#holds); the campaign runs on.
		p.hold = campaign.HoldReason(st, prospect)
		if p.hold == "" {
			p.hold = err.Error()
		}
		return "held: " + p.hold, nil
	}
	if err != nil {
		// A template that cannot render pauses the campaign for a person
		// (template_error); nothing half-rendered is ever sent.
		if _, perr := e.opts.Campaigns.PauseTx(ctx, tx, camp.ID, campaign.ReasonTemplateError); perr != nil {
			return "", perr
		}
		return "template error: " + err.Error(), nil
	}
	return "", nil
}

type callResult struct {
	ref, chatID string
	// memberID and handle are the recipient as the provider resolved them
	// (kept on the prospect even when the call itself failed).
	memberID, handle string
}

// recipient is the provider id to address, with the member id and handle
// the provider resolved it to: known from an earlier send, a member id
// imported as such, or looked up by handle or Sales Navigator lead id
// (whose URN is not the member id accepts carry: field failure P13, see
// docs/campaigns.md#matching-accepts).
func (e *Engine) recipient(ctx context.Context, row sendRow, p payload) (callResult, error) {
	switch {
	case p.prospect.MemberID != "":
		return callResult{memberID: p.prospect.MemberID, handle: p.prospect.PublicHandle}, nil
	case strings.HasPrefix(p.prospect.ProviderID, "ACoA"):
		return callResult{memberID: p.prospect.ProviderID}, nil
	}
	ident := p.prospect.PublicSlug
	if ident == "" {
		ident = p.prospect.SalesNavID
	}
	if ident == "" {
		ident = p.prospect.ProviderID
	}
	prof, err := e.opts.Client.GetProfile(ctx, p.acc.ProviderAccountID, ident, unipile.ProfileOptions{})
	if err != nil {
		return callResult{}, err
	}
	return callResult{memberID: prof.ProviderID.String(), handle: prof.PublicIdentifier}, nil
}

func (e *Engine) call(ctx context.Context, row sendRow, p payload) (callResult, error) {
	if e.opts.Client == nil {
		return callResult{}, ErrNoProvider
	}
	switch row.action {
	case policy.ActionViewProfile:
		ident := firstOf(p.prospect.MemberID, p.prospect.ProviderID, p.prospect.PublicSlug, p.prospect.SalesNavID)
		prof, err := e.opts.Client.GetProfile(ctx, p.acc.ProviderAccountID, ident, unipile.ProfileOptions{})
		return callResult{ref: prof.ProviderID.String(), memberID: prof.ProviderID.String(), handle: prof.PublicIdentifier}, err
	case policy.ActionInvite:
		to, err := e.recipient(ctx, row, p)
		if err != nil {
			return to, err
		}
		sent, err := e.opts.Client.SendInvitation(ctx, unipile.InvitationRequest{AccountID: p.acc.ProviderAccountID, ProviderID: to.memberID, Message: p.note})
		to.ref = sent.InvitationID.String()
		return to, err
	case policy.ActionMessage, policy.ActionInMail:
		to, err := e.recipient(ctx, row, p)
		if err != nil {
			return to, err
		}
		req := unipile.StartChatRequest{AccountID: p.acc.ProviderAccountID, AttendeeIDs: []string{to.memberID}, Text: p.text}
		if row.action == policy.ActionInMail {
			req.Subject = p.subject
			req.LinkedIn.InMail = true
		}
		started, err := e.opts.Client.StartChat(ctx, req)
		to.ref, to.chatID = started.MessageID.String(), started.ChatID.String()
		return to, err
	}
	return callResult{}, fmt.Errorf("unknown action %q", row.action)
}

// answerMayLand locks a send whose provider call has just returned and
// says whether its answer may be written. It may while the send is still
// dispatched. If the reconciliation took the send meanwhile (its record
// came later than mayBeInCall allows for), a success still lands: it is the
// provider's word, and the alert a parking raised is answered. Anything
// else leaves a send another path concluded as it is, so nothing is
// confirmed, counted or moved on twice.
func (e *Engine) answerMayLand(ctx context.Context, tx *sql.Tx, row sendRow, callErr error, now time.Time) (bool, error) {
	cur, err := e.lockSend(ctx, tx, row.id)
	if err != nil {
		return false, err
	}
	switch {
	case cur.state == StateDispatched:
		return true, nil
	case cur.state == StateUnknown && callErr == nil:
		return true, alert.Settle(ctx, tx, now, row.workspaceID, unknownAlertKey(row.id), "keel: the provider's answer arrived")
	}
	e.opts.Logger.Warn("a provider answer came after the reconciliation or a person took its send; the ledger keeps theirs",
		"send", row.id, "state", string(cur.state), "answer_error", callErr)
	return false, nil
}

// record writes a provider call's outcome, classified once by Kind.
func (e *Engine) record(ctx context.Context, row sendRow, p payload, res callResult, callErr error) error {
	return e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		if ok, err := e.answerMayLand(ctx, tx, row, callErr, now); err != nil || !ok {
			return err
		}
		en, err := e.lockEnrollmentAny(ctx, tx, row.enrollmentID)
		if err != nil {
			return err
		}
		// Whatever the outcome, keep who the provider says the person is:
		// accepts and reconciliation match on it.
		if (res.memberID != "" && res.memberID != p.prospect.MemberID) || (res.handle != "" && !strings.EqualFold(res.handle, p.prospect.PublicHandle)) {
			if err := e.opts.Campaigns.RecordResolved(ctx, tx, row.prospectID, res.memberID, res.handle, now); err != nil {
				return err
			}
			if res.memberID != "" {
				p.prospect.MemberID = res.memberID
			}
			if res.handle != "" {
				p.prospect.PublicHandle = strings.ToLower(res.handle)
			}
		}
		if callErr == nil {
			if (row.action == policy.ActionMessage || row.action == policy.ActionInMail) && res.chatID == "" {
				// Delivered means a chat to show for it; without one the
				// outcome is unknown and is reconciled, never counted blind.
				return markUnknown(ctx, tx, row.id, "", "provider answered without a chat id")
			}
			return e.confirm(ctx, tx, row, en, res, now)
		}
		kind := unipile.KindOf(callErr)
		msg := callErr.Error()
		fail := func() error { return failSend(ctx, tx, row.id, kind.String(), msg, now) }
		switch kind {
		case unipile.KindUnknownOutcome:
			return markUnknown(ctx, tx, row.id, kind.String(), msg)
		case unipile.KindRecentlyInvited:
			// LinkedIn refuses a new invitation for weeks after one was
			// withdrawn: the same wait as recently_withdrawn, read back from
			// this row by the next claim; no try is used
			// (docs/sending.md#withdrawals).
			if err := failSend(ctx, tx, row.id, errorKindRecentlyInvited, msg, now); err != nil {
				return err
			}
			return e.opts.Campaigns.Park(ctx, tx, en.id, policy.CodeRecentlyWithdrawn, now.Add(policy.ReinviteWait), now)
		case unipile.KindAlreadyDone:
			if row.action == policy.ActionInvite {
				// "Already connected" is an accept path too.
				if err := e.confirm(ctx, tx, row, en, callResult{ref: alreadyConnectedRef}, now); err != nil {
					return err
				}
				_, err := e.StampAccepted(ctx, tx, AcceptSignal{WorkspaceID: row.workspaceID, AccountID: row.accountID,
					ProviderID: firstOf(p.prospect.MemberID, p.prospect.ProviderID), Slug: firstOf(p.prospect.PublicHandle, p.prospect.PublicSlug),
					Source: "already_connected"})
				return err
			}
			if err := fail(); err != nil {
				return err
			}
			return e.failEnrollment(ctx, tx, en, "already done: "+msg, now)
		case unipile.KindRateLimited:
			if err := fail(); err != nil {
				return err
			}
			until := now.Add(policy.CooldownAfterLimit)
			if err := SetBlock(ctx, tx, Block{AccountID: row.accountID, Action: row.action, Kind: policy.BlockCooldown, Until: until,
				Reason: "LinkedIn limit signal: " + msg}, now); err != nil {
				return err
			}
			return e.deferTo(ctx, tx, en.id, until, now)
		case unipile.KindInsufficientCredits:
			if err := fail(); err != nil {
				return err
			}
			until := policy.NextMonthStart(now)
			if err := SetBlock(ctx, tx, Block{AccountID: row.accountID, Action: policy.ActionInMail, Kind: policy.BlockCredits, Until: until,
				Reason: "InMail credits exhausted"}, now); err != nil {
				return err
			}
			// Parked by the breaker, so a top-up brings it forward.
			return e.opts.Campaigns.Park(ctx, tx, en.id, policy.CodeCredits, until, now)
		case unipile.KindReconnectNeeded, unipile.KindRestricted:
			if err := fail(); err != nil {
				return err
			}
			if err := e.flipOnSendError(ctx, tx, row.accountID, kind, "send"); err != nil {
				return err
			}
			return e.deferTo(ctx, tx, en.id, now.Add(policy.NotConnectedRecheck), now)
		case unipile.KindPermanentRecipient:
			if err := fail(); err != nil {
				return err
			}
			if err := e.failEnrollment(ctx, tx, en, msg, now); err != nil {
				return err
			}
			return e.checkFailureRate(ctx, tx, row, now)
		default:
			// Transient (5xx, timeouts of reads), not found, invalid,
			// unauthorized, unknown: an incident at the provider or in Keel,
			// not a fact about the recipient. The prospect is deferred with
			// backoff; it uses no try and the failure is left out of the
			// campaign's failure rate (docs/sending.md#incidents).
			if err := fail(); err != nil {
				return err
			}
			n, err := incidentsOf(ctx, tx, row.enrollmentID, row.stepID)
			if err != nil {
				return err
			}
			return e.deferTo(ctx, tx, en.id, now.Add(IncidentBackoff(n)), now)
		}
	})
}

// flipOnSendError flips an account whose send (or withdrawal: what)
// answered that its session is unusable or LinkedIn restricted it, in the
// recording transaction; a flip already made is not an error.
func (e *Engine) flipOnSendError(ctx context.Context, tx *sql.Tx, accountID string, kind unipile.Kind, what string) error {
	to, c := account.StatusDisconnected, account.TerminalCredentials()
	if kind == unipile.KindRestricted {
		to, c = account.StatusRestricted, account.TerminalRestricted()
	}
	_, err := e.opts.Accounts.FlipTx(ctx, tx, account.FlipRequest{AccountID: accountID, To: to, Copy: &c,
		Reason: what + " answered " + kind.String(), Source: account.SourceSendError, Actor: "sender"})
	if err != nil && !errors.Is(err, account.ErrAlreadyInStatus) && !errors.Is(err, account.ErrTransitionNotAllowed) {
		return err
	}
	return nil
}

// alreadyConnectedRef is the provider_ref of an invitation LinkedIn
// answered "already connected": an accept, never a pending invitation.
const alreadyConnectedRef = "already"

// IncidentBackoff is the wait after the n-th incident (from 1) that
// deferred one prospect's step: doubling from IncidentRetry, at most
// IncidentRetryMax.
func IncidentBackoff(n int) time.Duration {
	d := IncidentRetry
	for i := 1; i < n && d < IncidentRetryMax; i++ {
		d *= 2
	}
	return min(d, IncidentRetryMax)
}

// lockEnrollmentAny locks an enrollment in any state (through the
// campaign package, which owns it) and keeps what sending needs of it.
func (e *Engine) lockEnrollmentAny(ctx context.Context, tx *sql.Tx, enrollmentID string) (*enrollmentRow, error) {
	l, err := e.opts.Campaigns.LockEnrollment(ctx, tx, enrollmentID)
	if err != nil {
		return nil, err
	}
	return &enrollmentRow{id: l.ID, workspaceID: l.WorkspaceID, campaignID: l.CampaignID, prospectID: l.ProspectID,
		accountID: l.AccountID, stepID: l.StepID, nextActionAt: l.NextActionAt, acceptedAt: l.AcceptedAt, repliedAt: l.RepliedAt,
		failures: l.Failures, state: string(l.State), endedReason: l.EndedReason}, nil
}

// confirm records a delivered send and moves its enrollment on, in the
// same transaction, so the ledger and the enrollment never disagree.
func (e *Engine) confirm(ctx context.Context, tx *sql.Tx, row sendRow, en *enrollmentRow, res callResult, now time.Time) error {
	if err := confirmSend(ctx, tx, row.id, res.ref, res.chatID, now); err != nil {
		return err
	}
	return e.advanceConfirmed(ctx, tx, row, en, res.ref, res.chatID, now)
}

// firstOf is the first non-empty string.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (e *Engine) failEnrollment(ctx context.Context, tx *sql.Tx, en *enrollmentRow, reason string, now time.Time) error {
	if reason == "" {
		reason = "provider error"
	}
	if err := e.opts.Campaigns.Fail(ctx, tx, en.id, reason, now); err != nil {
		return err
	}
	_, err := e.opts.Campaigns.CompleteIfFinished(ctx, tx, en.campaignID)
	return err
}

// checkFailureRate pauses a campaign (high_failure_rate) when most of its
// recent provider outcomes are failures, and raises one alert.
func (e *Engine) checkFailureRate(ctx context.Context, tx *sql.Tx, row sendRow, now time.Time) error {
	total, failed, err := recentOutcomes(ctx, tx, row.campaignID)
	if err != nil {
		return err
	}
	if failed < FailureRateMin || failed*2 < total {
		return nil
	}
	paused, err := e.opts.Campaigns.PauseTx(ctx, tx, row.campaignID, campaign.ReasonHighFailureRate)
	if err != nil || !paused {
		return err
	}
	_, _, err = alert.Raise(ctx, tx, now, alert.New{WorkspaceID: row.workspaceID, Kind: alert.KindHighFailureRate, Severity: alert.Warning,
		SubjectType: "campaign", SubjectID: row.campaignID,
		Message: fmt.Sprintf("Campaign paused: %d of its last %d sends failed at the provider. Check the failures, then resume it.", failed, total)})
	return err
}

// Reconcile settles a send whose outcome is unknown from provider reads:
// the account's sent invitations for an invite, the chat with the
// recipient for a message or InMail. What cannot be settled is parked for
// a person with an alert; it is never sent again.
func (e *Engine) Reconcile(ctx context.Context, sendID string) (err error) {
	var row sendRow
	var p payload
	err = e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if row, err = e.lockSend(ctx, tx, sendID); err != nil {
			return err
		}
		if row.state != StateUnknown || row.action == policy.ActionWithdraw || row.action == policy.ActionReply {
			return nil
		}
		if p.prospect, err = e.opts.Campaigns.GetProspect(ctx, tx, row.prospectID); err != nil {
			return err
		}
		if p.acc, err = e.opts.Accounts.Get(ctx, tx, "", row.accountID); err != nil {
			return err
		}
		camp, err := e.opts.Campaigns.Get(ctx, tx, "", row.campaignID)
		if err != nil {
			return err
		}
		p.camp = camp
		p.step, _ = campaign.StepByID(camp.Steps, row.stepID)
		return nil
	})
	if err != nil || row.state != StateUnknown {
		return err
	}
	defer func() {
		if err == nil {
			e.logReconciled(ctx, row)
		}
	}()
	switch row.action {
	case policy.ActionWithdraw:
		return e.reconcileWithdrawal(ctx, row)
	case policy.ActionReply:
		return e.reconcileReply(ctx, row)
	}
	found, res, err := e.lookup(ctx, row, p)
	if err != nil {
		// Could not read the provider now; try again on the next sweep.
		e.opts.Logger.Warn("reconciling send", "send", row.id, "error", err)
		return nil
	}
	return e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		now := e.opts.Clock.Now()
		cur, err := e.lockSend(ctx, tx, sendID)
		if err != nil || cur.state != StateUnknown {
			return err
		}
		if found {
			en, err := e.lockEnrollmentAny(ctx, tx, row.enrollmentID)
			if err != nil {
				return err
			}
			return e.confirm(ctx, tx, row, en, res, now)
		}
		parked, err := parkSend(ctx, tx, row.id, now)
		if err != nil || !parked {
			return err
		}
		_, _, err = alert.Raise(ctx, tx, now, alert.New{WorkspaceID: row.workspaceID, Kind: alert.KindSendOutcomeUnknown, Severity: alert.Warning,
			SubjectType: "campaign", SubjectID: row.campaignID, DedupeKey: unknownAlertKey(row.id),
			Message: fmt.Sprintf("A %s to prospect %s may or may not have reached LinkedIn and could not be confirmed from Unipile. It will not be sent again; check LinkedIn, then settle it as sent or not sent (keel sends settle %s --outcome sent|not_sent).", row.action, row.prospectID, row.id)})
		return err
	})
}

func (e *Engine) lookup(ctx context.Context, row sendRow, p payload) (bool, callResult, error) {
	if e.opts.Client == nil {
		return false, callResult{}, ErrNoProvider
	}
	member := firstOf(p.prospect.MemberID, p.prospect.ProviderID)
	switch row.action {
	case policy.ActionInvite:
		// The sent-invitation list, every page of it (bounded): the person
		// by member id, imported provider id or either handle.
		inv, found, _, err := e.scanSent(ctx, p.acc.ProviderAccountID, func(inv unipile.SentInvitation) bool {
			return sentTo(inv, p.prospect.MemberID, p.prospect.ProviderID, p.prospect.PublicSlug, p.prospect.PublicHandle)
		})
		if err != nil || !found {
			return false, callResult{}, err
		}
		return true, callResult{ref: inv.ID.String()}, nil
	case policy.ActionMessage, policy.ActionInMail:
		if member == "" {
			return false, callResult{}, nil
		}
		chats, err := e.opts.Client.ListChats(ctx, p.acc.ProviderAccountID, unipile.PageOptions{Limit: 50})
		if err != nil {
			return false, callResult{}, err
		}
		for _, c := range chats.Items {
			if id := c.AttendeeProviderID.String(); id != p.prospect.MemberID && id != p.prospect.ProviderID {
				continue
			}
			msgs, err := e.opts.Client.ListChatMessages(ctx, c.ID.String(), unipile.PageOptions{Limit: 20})
			if err != nil {
				return false, callResult{}, err
			}
			text, _ := campaign.Render(p.step.Text, p.prospect)
			for _, m := range msgs.Items {
				if bool(m.IsSender) && strings.TrimSpace(m.Text) == strings.TrimSpace(text) {
					return true, callResult{ref: m.ID.String(), chatID: c.ID.String()}, nil
				}
			}
		}
		return false, callResult{}, nil
	}
	return false, callResult{}, nil
}

// maxInvitePages bounds one reconciliation's walk of the sent-invitation
// list (100 a page).
const maxInvitePages = 20

// ReconcileUnknown settles every unparked unknown send, and every send a
// crash left dispatched (a periodic sweep). A send that may still be in its
// call (mayBeInCall) is left alone: a read of Unipile before the provider
// applies it would park a send that goes out.
func (e *Engine) ReconcileUnknown(ctx context.Context) (int, error) {
	ids, err := e.unsettledSends(ctx, e.inCallSince(e.opts.Clock.Now()))
	if err != nil {
		return 0, err
	}
	for _, s := range ids {
		if err := e.Dispatch(ctx, s); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// DispatchPending dispatches every claimed send still waiting (for a worker
// that restarted, or a queue that lost a job).
func (e *Engine) DispatchPending(ctx context.Context) (int, error) {
	ids, err := e.pendingSends(ctx)
	if err != nil {
		return 0, err
	}
	for _, s := range ids {
		if err := e.Dispatch(ctx, s); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// unknownAlertKey is the dedupe key of the alert a parked unknown send
// raises; settling the send by hand acknowledges it.
func unknownAlertKey(sendID string) string { return alert.KindSendOutcomeUnknown + ":" + sendID }
