package web

import (
	"net/http"
	"strconv"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/workspace"
)

// MaxDNCShown is how many do-not-contact entries the page shows (oldest
// first); the API pages through all of them.
const MaxDNCShown = 500

// MaxDNCRemovalsShown is how many of the latest removals the page shows;
// the API pages through all of them.
const MaxDNCRemovalsShown = 20

type dncData struct {
	Entries []campaign.DNCEntry
	// More says the list has entries beyond MaxDNCShown.
	More bool
	// Removals are the latest entries taken off the list, newest first
	// (docs/teams.md#who-changed-what); MoreRemovals says older ones exist.
	Removals     []campaign.DNCRemoval
	MoreRemovals bool
	// Result is the answer to an addition just made (nil otherwise).
	Result *campaign.DNCResult
	// Values and Reason refill the form after a refused addition.
	Values, Reason string
	AddError       string
	// AddErrors is every error of a refused addition, by field, for the
	// shared summary (form.go).
	AddErrors formErrors
	// Recontact is the workspace's re-contact cool-off
	// (docs/contacts.md#recontact-cooloff); CooloffInput and CooloffError
	// refill its form after a refused change.
	Recontact                  workspace.Recontact
	CooloffInput, CooloffError string
}

// dncPage lists the workspace's do-not-contact list with forms to add
// entries (typed or a CSV) and to remove one (docs/contacts.md#do-not-contact),
// the latest removals with who made them (docs/teams.md#who-changed-what),
// and the form of the re-contact cool-off (docs/contacts.md#recontact-cooloff).
func (s *Server) dncPage(w http.ResponseWriter, r *http.Request) {
	s.showDNC(w, r, http.StatusOK, dncData{})
}

func (s *Server) showDNC(w http.ResponseWriter, r *http.Request, status int, d dncData) {
	sess := sessionFrom(r)
	list, err := s.opts.Campaigns.ListDNC(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, "", MaxDNCShown+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(list) > MaxDNCShown {
		list, d.More = list[:MaxDNCShown], true
	}
	d.Entries = list
	removals, err := s.opts.Campaigns.ListDNCRemovals(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, "", MaxDNCRemovalsShown+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(removals) > MaxDNCRemovalsShown {
		removals, d.MoreRemovals = removals[:MaxDNCRemovalsShown], true
	}
	d.Removals = removals
	if d.Recontact, err = workspace.ReadRecontact(r.Context(), s.opts.DB.SQL, sess.WorkspaceID); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.CooloffInput == "" && !d.Recontact.Never {
		d.CooloffInput = strconv.Itoa(d.Recontact.CooloffDays)
	}
	s.render(w, r, status, "dnc", page{Title: "Do-not-contact", Nav: "dnc", Data: d})
}
