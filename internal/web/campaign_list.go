package web

// The campaign list page.

import (
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
)

// reasonChips are the short labels of pause reasons; the explanation
// sentence comes from the diagnosis.
var reasonChips = map[campaign.PausedReason]string{
	campaign.ReasonManual:              "Paused by a person",
	campaign.ReasonAccountDisconnected: "Sender disconnected",
	campaign.ReasonAccountRestricted:   "Sender restricted",
	campaign.ReasonAccountError:        "Sender error",
	campaign.ReasonNeedsVerification:   "Sender needs verification",
	campaign.ReasonHighFailureRate:     "High failure rate",
	campaign.ReasonTemplateError:       "Template error",
}

type campaignListRow struct {
	Campaign campaign.Campaign
	Chip     string
}

type campaignsData struct {
	Rows []campaignListRow
	Next string
	Prev bool
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	after := r.URL.Query().Get("after")
	cs, err := s.opts.Campaigns.List(r.Context(), s.opts.DB.SQL, campaign.ListOptions{WorkspaceID: sess.WorkspaceID, After: after, Limit: PageSize + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := campaignsData{Prev: after != ""}
	if len(cs) > PageSize {
		cs = cs[:PageSize]
		data.Next = cs[len(cs)-1].ID
	}
	for _, c := range cs {
		data.Rows = append(data.Rows, campaignListRow{Campaign: c, Chip: reasonChips[c.PausedReason]})
	}
	s.render(w, r, http.StatusOK, "campaigns", page{Title: "Campaigns", Nav: "campaigns", Data: data})
}
