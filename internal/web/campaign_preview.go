package web

// The template preview of the campaign editor: each step's texts rendered
// for a chosen prospect of the campaign (or a sample one for a new
// campaign), with holds shown as holds (docs/campaigns.md#preview).

import (
	"errors"
	"net/http"
	"strings"

	"github.com/keel-outreach/keel/internal/campaign"
)

// MaxPreviewProspects bounds the preview's prospect choices.
const MaxPreviewProspects = 10

type previewProspect struct {
	ID, Label string
	Prospect  campaign.Prospect
}

type previewLine struct {
	Field, Text, Held, Error string
}

// sampleProspects stand in for a campaign that has no prospects yet: one
// with every value, one with no first name (to see a fallback or a hold).
var sampleProspects = []previewProspect{
	{ID: "sample", Label: "Sample: Ada Lovelace, Analytical Engines", Prospect: campaign.Prospect{ID: "sample", FirstName: "Ada", LastName: "Lovelace", Company: "Analytical Engines"}},
	{ID: "sample-no-first-name", Label: "Sample with no first name (Analytical Engines)", Prospect: campaign.Prospect{ID: "sample-no-first-name", Company: "Analytical Engines"}},
}

func (s *Server) previewProspects(r *http.Request, campaignID string) ([]previewProspect, error) {
	if campaignID == "" {
		return sampleProspects, nil
	}
	ps, err := s.opts.Campaigns.PreviewProspects(r.Context(), s.opts.DB.SQL, campaignID, MaxPreviewProspects)
	if err != nil || len(ps) == 0 {
		return sampleProspects, err
	}
	out := make([]previewProspect, len(ps))
	for i, p := range ps {
		name := strings.TrimSpace(p.FirstName + " " + p.LastName)
		if name == "" {
			name = "(no name)"
		}
		label := name
		if p.Company != "" {
			label += ", " + p.Company
		}
		if u := p.ProfileURL(); u != "" {
			label += " — " + u
		}
		out[i] = previewProspect{ID: p.ID, Label: label, Prospect: p}
	}
	return out, nil
}

func choosePreview(ps []previewProspect, want string) string {
	for _, p := range ps {
		if p.ID == want {
			return want
		}
	}
	if len(ps) > 0 {
		return ps[0].ID
	}
	return ""
}

// previewStep renders a step's texts for one prospect.
func previewStep(st campaign.Step, p campaign.Prospect) []previewLine {
	var fields [][2]string
	switch st.Type {
	case campaign.StepInvite:
		fields = [][2]string{{"Note", st.Note}}
	case campaign.StepMessage:
		fields = [][2]string{{"Message", st.Text}}
	case campaign.StepInMail:
		fields = [][2]string{{"Subject", st.Subject}, {"InMail", st.Text}}
	}
	var out []previewLine
	for _, f := range fields {
		line := previewLine{Field: f[0]}
		text, err := campaign.Render(f[1], p)
		switch {
		case errors.Is(err, campaign.ErrMissingVariable):
			line.Held = "This prospect would be held: " + campaign.HoldReason(st, p)
		case err != nil:
			line.Error = err.Error()
		case strings.TrimSpace(text) == "" && f[0] == "Note":
			line.Text = "(no note)"
		default:
			line.Text = text
		}
		out = append(out, line)
	}
	return out
}
