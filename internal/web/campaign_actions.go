package web

// Start, pause and resume from the campaign page.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/keel-outreach/keel/internal/campaign"
)

func (s *Server) campaignAction(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	id := r.PathValue("id")
	var err error
	var done string
	switch r.PathValue("op") {
	case "start":
		_, err = s.opts.Campaigns.Start(r.Context(), sess.WorkspaceID, id)
		done = "Campaign started."
	case "pause":
		_, err = s.opts.Campaigns.Pause(r.Context(), sess.WorkspaceID, id)
		done = "Campaign paused."
	case "resume":
		_, err = s.opts.Campaigns.Resume(r.Context(), sess.WorkspaceID, id)
		done = "Campaign resumed."
	default:
		http.NotFound(w, r)
		return
	}
	var verr *campaign.ValidationError
	var serr *campaign.StateError
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		http.NotFound(w, r)
	case errors.As(err, &verr):
		msgs := make([]string, len(verr.Errors))
		for i, fe := range verr.Errors {
			msgs[i] = fe.Field + ": " + fe.Message
		}
		s.flashRedirect(w, r, "/campaigns/"+id, "Not changed: "+strings.Join(msgs, "; "))
	case errors.As(err, &serr):
		s.flashRedirect(w, r, "/campaigns/"+id, "Not changed: "+serr.Message)
	case err != nil:
		s.fail(w, r, err)
	default:
		s.flashRedirect(w, r, "/campaigns/"+id, done)
	}
}
