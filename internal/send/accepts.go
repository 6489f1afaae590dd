package send

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile"
)

// AcceptSignal says a person accepted an invitation sent by an account. All
// four detection paths (new_relation webhook, relations polling, the
// invite-note chat, an "already connected" answer) build one and call
// StampAccepted, so an accept is detected and acted on exactly once.
type AcceptSignal struct {
	WorkspaceID string
	AccountID   string
	// ProviderID is the person's member id; Slug their public /in/ handle.
	// Either may be empty; Sales Navigator URNs match neither, so imports
	// keep the slug (field failure P13).
	ProviderID string
	Slug       string
	// ProfileURL is the person's /in/ URL when the signal carries one; its
	// handle is matched when Slug is empty.
	ProfileURL string
	// RelationAt is when the relation was made, when known (the poll): an
	// older relation than the account's first invitation from Keel is an
	// ordinary connection, not an unmatched accept.
	RelationAt time.Time
	Source     string
}

// StampAccepted records an accept on the matching enrollments of the
// account and moves any waiting on if_accepted to its then-branch. A late
// accept (the wait already timed out) follows the campaign's late-accept
// policy. A signal matching more than one prospect is ambiguous: nothing is
// stamped and an alert is raised. It returns how many enrollments it
// stamped.
func (e *Engine) StampAccepted(ctx context.Context, tx *sql.Tx, sig AcceptSignal) (int, error) {
	now := e.opts.Clock.Now()
	slug := strings.ToLower(strings.TrimSpace(sig.Slug))
	if slug == "" && sig.ProfileURL != "" {
		if id, err := campaign.ParseProfileURL(sig.ProfileURL); err == nil {
			slug = id.PublicSlug
		}
	}
	if n, err := campaign.NormalizeSlug(slug); err == nil {
		slug = n
	}
	if sig.ProviderID == "" && slug == "" {
		return 0, nil
	}
	prospects, err := e.opts.Campaigns.ProspectsMatching(ctx, tx, sig.WorkspaceID, sig.ProviderID, slug)
	if err != nil {
		return 0, err
	}
	// The invitation is no longer pending, whoever made it: the slot it
	// held frees at once (docs/sending.md#pending-invitations).
	prospectID := ""
	if len(prospects) == 1 {
		prospectID = prospects[0]
	}
	if closed, err := closeAccepted(ctx, tx, sig.AccountID, prospectID, sig.ProviderID, now); err != nil {
		return 0, err
	} else if closed > 0 {
		if err := e.freeSlot(ctx, tx, sig.AccountID, now); err != nil {
			return 0, err
		}
	}
	switch {
	case len(prospects) == 0:
		return 0, e.unmatchedAccept(ctx, tx, sig, slug, now)
	case len(prospects) > 1:
		_, _, err := alert.Raise(ctx, tx, now, alert.New{WorkspaceID: sig.WorkspaceID, Kind: alert.KindAmbiguousAccept, Severity: alert.Warning,
			SubjectType: "account", SubjectID: sig.AccountID, DedupeKey: "ambiguous_accept:" + sig.AccountID + ":" + sig.ProviderID + ":" + slug,
			Message: fmt.Sprintf("An accepted invitation (member %q, handle %q) matches %d prospects; none was advanced. Merge the duplicates.", sig.ProviderID, slug, len(prospects))})
		return 0, err
	}
	if sig.ProviderID != "" {
		// Remember the member id: later steps address the person by it.
		if err := e.opts.Campaigns.RecordProviderID(ctx, tx, sig.WorkspaceID, prospects[0], sig.ProviderID); err != nil {
			return 0, err
		}
	}
	ids, err := e.opts.Campaigns.NotAccepted(ctx, tx, prospects[0], sig.AccountID)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := e.stampOne(ctx, tx, id); err != nil {
			return 0, err
		}
		if err := e.emit(ctx, tx, sig.WorkspaceID, "linkedin.invite_accepted", EventData{AccountID: sig.AccountID,
			EnrollmentID: id, ProspectID: prospects[0], ProviderID: sig.ProviderID, Source: sig.Source}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// unmatchedAccept keeps an accept that matched no prospect (once per
// account and person) and raises the workspace's alert of the day with
// the count, so a missed bridge is never silent
// (docs/campaigns.md#matching-accepts). A relation older than the
// account's first invitation from Keel, or on an account Keel never
// invited from, is an ordinary connection and is not kept.
func (e *Engine) unmatchedAccept(ctx context.Context, tx *sql.Tx, sig AcceptSignal, slug string, now time.Time) error {
	first, ok, err := firstInviteAt(ctx, tx, sig.AccountID)
	if err != nil || !ok || (!sig.RelationAt.IsZero() && sig.RelationAt.Before(first)) {
		return err
	}
	added, err := recordUnmatchedAccept(ctx, tx, sig.WorkspaceID, sig.AccountID, sig.ProviderID, slug, sig.Source, now)
	if err != nil || !added {
		return err
	}
	day := policy.UTCDayStart(now)
	n, err := UnmatchedAcceptsSince(ctx, tx, sig.WorkspaceID, nil, day)
	if err != nil {
		return err
	}
	_, _, err = alert.Raise(ctx, tx, now, alert.New{WorkspaceID: sig.WorkspaceID, Kind: alert.KindUnmatchedAccepts, Severity: alert.Warning,
		DedupeKey: "unmatched_accepts:" + sig.WorkspaceID + ":" + day.Format("2006-01-02"),
		Message: fmt.Sprintf("%d accepted invitation(s) today matched no prospect of the workspace (last: member %q, handle %q). "+
			"Check that the prospect was imported with the profile that was invited.", n, sig.ProviderID, slug)})
	return err
}

func (e *Engine) stampOne(ctx context.Context, tx *sql.Tx, enrollmentID string) error {
	now := e.opts.Clock.Now()
	en, err := e.lockEnrollmentAny(ctx, tx, enrollmentID)
	if err != nil {
		return err
	}
	if !en.acceptedAt.Valid {
		if err := e.opts.Campaigns.MarkAccepted(ctx, tx, enrollmentID, now); err != nil {
			return err
		}
		en.acceptedAt = sql.NullTime{Time: now, Valid: true}
	}
	camp, err := e.readCampaign(ctx, tx, en.campaignID)
	if err != nil {
		return err
	}
	cur, _ := campaign.StepByID(camp.Steps, en.stepID)
	switch {
	case en.state == string(campaign.EnrollmentActive) && cur.Type == campaign.StepIfAccepted:
		return e.moveTo(ctx, tx, camp, en, cur.Then, now, 0)
	case en.state == string(campaign.EnrollmentEnded) && cur.Type == campaign.StepIfAccepted &&
		strings.HasPrefix(en.endedReason, "condition "+cur.ID+" ") && camp.LateAcceptPolicy == campaign.LateAcceptFollowUp:
		// A late accept with follow_up: the prospect resumes at the
		// condition's then-branch, exactly as authored.
		// A person live in another sequence of the workspace, or who
		// replied in one, stays where they are
		// (docs/contacts.md#one-live-sequence).
		resumed, err := e.opts.Campaigns.ResumeLateAcceptTx(ctx, tx, camp.ID, enrollmentID, now)
		if err != nil || !resumed {
			return err
		}
		return e.moveTo(ctx, tx, camp, en, cur.Then, now, 0)
	}
	return nil
}

// ReplySignal says a person wrote to an account.
type ReplySignal struct {
	WorkspaceID string
	AccountID   string
	ProviderID  string
	// ConversationID is the inbox conversation the message is in, when
	// known; the reply event carries it.
	ConversationID string
}

// StampReplied records a reply on the matching enrollments of the account
// (once). With stop-on-reply the sequence stops there (state replied); a
// prospect waiting on if_replied moves to its then-branch. Every live
// enrollment of the person on the workspace's other senders stops as
// replied whatever its campaign's stop_on_reply
// (docs/contacts.md#reply-stops-everything). Each enrollment stamped gets
// its reply event; the count covers both.
func (e *Engine) StampReplied(ctx context.Context, tx *sql.Tx, sig ReplySignal) (int, error) {
	if sig.ProviderID == "" {
		return 0, nil
	}
	now := e.opts.Clock.Now()
	ids, err := e.opts.Campaigns.NotReplied(ctx, tx, sig.WorkspaceID, sig.ProviderID, sig.AccountID)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		en, err := e.lockEnrollmentAny(ctx, tx, id)
		if err != nil {
			return 0, err
		}
		state := en.state
		if err := e.opts.Campaigns.MarkReplied(ctx, tx, id, now); err != nil {
			return 0, err
		}
		if err := e.emit(ctx, tx, sig.WorkspaceID, "linkedin.reply_received", EventData{AccountID: sig.AccountID, CampaignID: en.campaignID,
			EnrollmentID: id, ProspectID: en.prospectID, ProviderID: sig.ProviderID, ConversationID: sig.ConversationID}); err != nil {
			return 0, err
		}
		live := state == string(campaign.EnrollmentActive) || state == string(campaign.EnrollmentSoftPaused)
		if !live {
			continue
		}
		camp, err := e.readCampaign(ctx, tx, en.campaignID)
		if err != nil {
			return 0, err
		}
		cur, _ := campaign.StepByID(camp.Steps, en.stepID)
		switch {
		case camp.StopOnReply:
			if err := e.opts.Campaigns.StopOnReply(ctx, tx, id, now); err != nil {
				return 0, err
			}
			if _, err := e.opts.Campaigns.CompleteIfFinished(ctx, tx, en.campaignID); err != nil {
				return 0, err
			}
		case state == string(campaign.EnrollmentActive) && cur.Type == campaign.StepIfReplied:
			en.repliedAt = sql.NullTime{Time: now, Valid: true}
			if err := e.moveTo(ctx, tx, camp, en, cur.Then, now, 0); err != nil {
				return 0, err
			}
		}
	}
	others, err := e.opts.Campaigns.LiveOfPersonElsewhere(ctx, tx, sig.WorkspaceID, sig.ProviderID, sig.AccountID)
	if err != nil {
		return 0, err
	}
	for _, id := range others {
		en, err := e.lockEnrollmentAny(ctx, tx, id)
		if err != nil {
			return 0, err
		}
		if en.state != string(campaign.EnrollmentPending) && en.state != string(campaign.EnrollmentActive) &&
			en.state != string(campaign.EnrollmentSoftPaused) {
			continue
		}
		if err := e.opts.Campaigns.MarkReplied(ctx, tx, id, now); err != nil {
			return 0, err
		}
		if err := e.opts.Campaigns.StopOnReply(ctx, tx, id, now); err != nil {
			return 0, err
		}
		if err := e.emit(ctx, tx, sig.WorkspaceID, "linkedin.reply_received", EventData{AccountID: sig.AccountID, CampaignID: en.campaignID,
			EnrollmentID: id, ProspectID: en.prospectID, ProviderID: sig.ProviderID, ConversationID: sig.ConversationID}); err != nil {
			return 0, err
		}
		if _, err := e.opts.Campaigns.CompleteIfFinished(ctx, tx, en.campaignID); err != nil {
			return 0, err
		}
	}
	return len(ids) + len(others), nil
}

// RelationsPollEvery is how often the relations of an account with pending
// invitations are read (docs/campaigns.md#accept-detection).
const RelationsPollEvery = 10 * time.Minute

// relationsPollWorkers bounds the provider calls one poll makes at once.
const relationsPollWorkers = 4

// PollRelations reads the first page of relations of the accounts whose
// turn it is and stamps the accepts it finds: the safety net for a missed
// new_relation webhook. Run it every minute: each account with pending
// invitations has its turn once every RelationsPollEvery, at a minute of its
// own (pollTurn), so the calls spread over the period instead of bursting.
func (e *Engine) PollRelations(ctx context.Context) (int, error) {
	if e.opts.Client == nil {
		return 0, ErrNoProvider
	}
	all, err := e.accountsToPoll(ctx)
	if err != nil {
		return 0, err
	}
	now := e.opts.Clock.Now()
	var list []pollAccount
	for _, a := range all {
		if pollTurn(a.id, now) {
			list = append(list, a)
		}
	}
	var (
		mu      sync.Mutex
		stamped int
	)
	err = forEach(relationsPollWorkers, list, func(a pollAccount) error {
		n, err := e.pollAccount(ctx, a)
		mu.Lock()
		stamped += n
		mu.Unlock()
		return err
	})
	return stamped, err
}

// pollTurn reports whether now's minute is the account's turn: one minute
// in every RelationsPollEvery, chosen by a hash of the account and the UTC
// day, so an account's polls move from day to day (jitter) and accounts
// spread evenly over the period.
func pollTurn(accountID string, now time.Time) bool {
	slots := uint32(RelationsPollEvery / time.Minute)
	h := fnv.New32a()
	_, _ = h.Write([]byte(accountID + "|" + now.UTC().Format(time.DateOnly)))
	minute := uint32(now.Unix() / 60)
	return minute%slots == h.Sum32()%slots
}

// pollAccount reads one account's first page of relations and stamps the
// accepts on it.
func (e *Engine) pollAccount(ctx context.Context, a pollAccount) (int, error) {
	page, err := e.opts.Client.ListRelations(ctx, a.provider, unipile.PageOptions{Limit: 100})
	if err != nil {
		e.opts.Logger.Warn("polling relations", "account", a.id, "error", err)
		return 0, nil
	}
	stamped := 0
	err = e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		stamped = 0
		for _, r := range page.Items {
			n, err := e.StampAccepted(ctx, tx, AcceptSignal{WorkspaceID: a.ws, AccountID: a.id, ProviderID: r.MemberID.String(),
				Slug: r.PublicIdentifier, ProfileURL: r.PublicProfileURL, RelationAt: r.CreatedAt.Time, Source: "relations_poll"})
			if err != nil {
				return err
			}
			stamped += n
		}
		return nil
	})
	return stamped, err
}

// NoteChatSeen handles our own message appearing in a chat with a
// prospect we invited with a note and never messaged: LinkedIn opens that
// chat, holding the note, when the invitation is accepted — an accept
// signal when the relation webhook is late or lost.
func (e *Engine) NoteChatSeen(ctx context.Context, tx *sql.Tx, workspaceID, accountID string, attendees []string) (int, error) {
	stamped := 0
	for _, pid := range attendees {
		if pid == "" {
			continue
		}
		invited, messaged, err := inviteNoteChat(ctx, tx, workspaceID, accountID, pid)
		if err != nil {
			return stamped, err
		}
		if invited == 0 || messaged > 0 {
			continue
		}
		n, err := e.StampAccepted(ctx, tx, AcceptSignal{WorkspaceID: workspaceID, AccountID: accountID, ProviderID: pid, Source: "invite_note_chat"})
		if err != nil {
			return stamped, err
		}
		stamped += n
	}
	return stamped, nil
}

// RelationEvent feeds a new_relation webhook of an account into the one
// accept-stamping function, inside the webhook's processing transaction.
func (e *Engine) RelationEvent(ctx context.Context, tx *sql.Tx, workspaceID, accountID string, ev unipile.NewRelationEvent) error {
	_, err := e.StampAccepted(ctx, tx, AcceptSignal{WorkspaceID: workspaceID, AccountID: accountID,
		ProviderID: ev.UserProviderID.String(), Slug: ev.UserPublicIdentifier, ProfileURL: ev.UserProfileURL, Source: "webhook"})
	return err
}

// MessageEvent feeds a messaging webhook of an account: a message from
// someone else is a reply; our own message settles a send of ours whose
// outcome was unknown when it is that send's text in a chat with its
// recipient (docs/sending.md#reconciliation), else, in a chat with a
// prospect we only invited with a note, it is the chat LinkedIn opens on
// acceptance.
func (e *Engine) MessageEvent(ctx context.Context, tx *sql.Tx, workspaceID, accountID, conversationID string, ev unipile.MessageEvent) error {
	if !ev.FromSelf() {
		if ev.Sender == nil {
			return nil
		}
		_, err := e.StampReplied(ctx, tx, ReplySignal{WorkspaceID: workspaceID, AccountID: accountID,
			ProviderID: ev.Sender.AttendeeProviderID.String(), ConversationID: conversationID})
		return err
	}
	var attendees []string
	for _, at := range ev.Attendees {
		if ev.Sender != nil && at.AttendeeProviderID.String() == ev.Sender.AttendeeProviderID.String() {
			continue
		}
		attendees = append(attendees, at.AttendeeProviderID.String())
	}
	if ev.ChatID.String() != "" {
		settled, err := e.reconcileFromChat(ctx, tx, workspaceID, accountID, attendees, ev)
		if err != nil || settled {
			return err
		}
	}
	_, err := e.NoteChatSeen(ctx, tx, workspaceID, accountID, attendees)
	return err
}

// reconcileFromChat confirms an unknown message or InMail of the account
// to one of the chat's attendees whose rendered text is the message's.
func (e *Engine) reconcileFromChat(ctx context.Context, tx *sql.Tx, workspaceID, accountID string, attendees []string, ev unipile.MessageEvent) (bool, error) {
	now := e.opts.Clock.Now()
	for _, pid := range attendees {
		if pid == "" {
			continue
		}
		ids, err := unknownChatSends(ctx, tx, workspaceID, accountID, pid)
		if err != nil {
			return false, err
		}
		for _, sendID := range ids {
			row, err := e.lockSend(ctx, tx, sendID)
			if err != nil {
				return false, err
			}
			if row.state != StateUnknown {
				continue
			}
			prospect, err := e.opts.Campaigns.GetProspect(ctx, tx, row.prospectID)
			if err != nil {
				return false, err
			}
			camp, err := e.readCampaign(ctx, tx, row.campaignID)
			if err != nil {
				return false, err
			}
			st, _ := campaign.StepByID(camp.Steps, row.stepID)
			text, err := campaign.Render(st.Text, prospect)
			if err != nil || strings.TrimSpace(text) != strings.TrimSpace(ev.Message) {
				continue
			}
			en, err := e.lockEnrollmentAny(ctx, tx, row.enrollmentID)
			if err != nil {
				return false, err
			}
			if err := e.confirm(ctx, tx, row, en, callResult{ref: ev.MessageID.String(), chatID: ev.ChatID.String()}, now); err != nil {
				return false, err
			}
			return true, nil
		}
	}
	return false, nil
}
