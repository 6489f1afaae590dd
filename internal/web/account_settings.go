package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
)

// saveAccount saves the settings form (tier, timezone, window, caps,
// pacing, pending invitations and withdrawals); an invalid form is shown
// again with its errors.
func (s *Server) saveAccount(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	f := settingsForm{Tier: r.PostFormValue("tier"), Timezone: strings.TrimSpace(r.PostFormValue("timezone")),
		Days: r.PostForm["days"], Start: r.PostFormValue("start"), End: r.PostFormValue("end"), Caps: map[string]string{}}
	errs := map[string]string{}
	tier := account.Tier(f.Tier)
	win := account.WindowSpec{Days: f.Days, Start: f.Start, End: f.End}
	caps := account.CapsPatch{}
	targets := map[string]**int{"invite_daily": &caps.InviteDaily, "invite_weekly": &caps.InviteWeekly,
		"message_daily": &caps.MessageDaily, "inmail_daily": &caps.InMailDaily, "view_profile_daily": &caps.ViewProfileDaily,
		"invite_pending": &caps.InvitePending, "withdraw_daily": &caps.WithdrawDaily}
	for _, c := range slices.Concat(capFields, pendingCapFields) {
		v := strings.TrimSpace(r.PostFormValue("cap_" + c.Name))
		f.Caps[c.Name] = v
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["caps."+c.Name] = "enter a whole number"
			continue
		}
		*targets[c.Name] = &n
	}
	// An unchecked box is not sent: the form always carries all fields,
	// so absence means off.
	f.Spread = r.PostFormValue("pacing_spread") != ""
	f.MinGap = strings.TrimSpace(r.PostFormValue("pacing_min_gap_seconds"))
	f.MaxGap = strings.TrimSpace(r.PostFormValue("pacing_max_gap_seconds"))
	pacing := account.PacingPatch{SpreadOverWindow: &f.Spread}
	for field, v := range map[string]string{"min_gap_seconds": f.MinGap, "max_gap_seconds": f.MaxGap} {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["pacing."+field] = "enter a whole number of seconds"
			continue
		}
		if field == "min_gap_seconds" {
			pacing.MinGapSeconds = &n
		} else {
			pacing.MaxGapSeconds = &n
		}
	}
	f.WithdrawAfter = strings.TrimSpace(r.PostFormValue("withdraw_after_days"))
	withdrawAfter, err := strconv.Atoi(f.WithdrawAfter)
	if err != nil {
		errs["withdraw_after_days"] = "enter a whole number of days (0 = never)"
	}
	patch := account.SettingsPatch{Tier: &tier, Timezone: &f.Timezone, Window: &win, Caps: &caps, Pacing: &pacing,
		WithdrawAfterDays: &withdrawAfter, Actor: "user:" + sess.Email}
	if err != nil {
		patch.WithdrawAfterDays = nil
	}
	if len(errs) > 0 {
		// Some fields are not numbers: check the others without saving,
		// so one submit shows every error (docs/surfaces.md#forms).
		err = s.opts.Accounts.ValidateSettings(r.Context(), sess.WorkspaceID, r.PathValue("id"), patch)
		if err == nil {
			s.showAccount(w, r, &f, errs)
			return
		}
	} else {
		_, err = s.opts.Accounts.UpdateSettings(r.Context(), sess.WorkspaceID, r.PathValue("id"), patch)
	}
	var verr *account.ValidationError
	switch {
	case errors.As(err, &verr):
		for _, fe := range verr.Fields {
			if _, typed := errs[fe.Field]; !typed {
				errs[fe.Field] = fe.Msg
			}
		}
		s.showAccount(w, r, &f, errs)
		return
	case errors.Is(err, account.ErrNotFound):
		http.NotFound(w, r)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.flashRedirect(w, r, "/accounts/"+r.PathValue("id"), "Settings saved.")
}
