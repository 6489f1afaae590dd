package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/keel-outreach/keel/internal/workspace"
)

// saveRecontact sets the workspace's re-contact cool-off from the form on
// the do-not-contact page: a number of days, or never when the box is
// ticked (docs/contacts.md#recontact-cooloff). A bad number shows the page
// again with the error and changes nothing.
func (s *Server) saveRecontact(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	days := strings.TrimSpace(r.PostFormValue("recontact_cooloff_days"))
	never := r.PostFormValue("recontact_never") != ""
	rc := workspace.Recontact{Never: true}
	if !never {
		var err error
		if rc, err = workspace.ParseRecontact(days); err != nil || strings.EqualFold(days, "never") {
			s.showDNC(w, r, http.StatusUnprocessableEntity, dncData{CooloffInput: days,
				CooloffError: "Re-contact cool-off: type a whole number of days from 0 to 3650, or tick “never”."})
			return
		}
	}
	err := workspace.SetRecontact(r.Context(), s.opts.DB.SQL, sess.WorkspaceID, rc)
	if errors.Is(err, workspace.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Logger.Info("re-contact cool-off set", "workspace_id", sess.WorkspaceID, "by", sess.Email, "cooloff", rc.String())
	s.flashRedirect(w, r, "/do-not-contact", "Re-contact cool-off saved: "+rc.String()+".")
}
