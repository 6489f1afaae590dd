package web

// Prospect CSV import from the campaign page. The form posts, the result
// travels in the session's one-time message, and the browser lands on
// the campaign page (POST-redirect-GET): reloading it never re-posts.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/keel-outreach/keel/internal/campaign"
)

// maxUploadBytes bounds a CSV upload: the larger of the prospect import's
// and the do-not-contact list's limits (each parser enforces its own).
const maxUploadBytes = max(campaign.MaxImportBytes, campaign.MaxDNCBytes)

// importFlashPrefix marks a session message that carries an import's
// result for the campaign page rather than a sentence to show.
const importFlashPrefix = "keel-import-result:"

// maxImportRowsShown bounds the per-row results kept for the page: every
// row when there are no more, else the rows not imported first.
const maxImportRowsShown = 500

// importFlash is an import's outcome as the campaign page shows it once.
type importFlash struct {
	CampaignID string                 `json:"campaign_id"`
	Result     *campaign.ImportResult `json:"result,omitempty"`
	Error      string                 `json:"error,omitempty"`
	// Hidden counts the rows left out of Result.Rows.
	Hidden int `json:"hidden,omitempty"`
}

// readImportFlash decodes an import result message for campaignID; ok is
// false when the message is something else.
func readImportFlash(msg, campaignID string) (importFlash, bool) {
	var f importFlash
	rest, found := strings.CutPrefix(msg, importFlashPrefix)
	if !found || json.Unmarshal([]byte(rest), &f) != nil || f.CampaignID != campaignID {
		return importFlash{}, false
	}
	return f, true
}

func (s *Server) importProspects(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	cid := r.PathValue("id")
	done := func(f importFlash) {
		f.CampaignID = cid
		if f.Result != nil && len(f.Result.Rows) > maxImportRowsShown {
			var kept []campaign.RowResult
			for _, row := range f.Result.Rows {
				if row.Status != "imported" && len(kept) < maxImportRowsShown {
					kept = append(kept, row)
				}
			}
			f.Hidden = len(f.Result.Rows) - len(kept)
			f.Result.Rows = kept
		}
		b, _ := json.Marshal(f)
		s.flashRedirect(w, r, "/campaigns/"+cid+"#import-result", importFlashPrefix+string(b))
	}
	file, _, err := r.FormFile("csv")
	if err != nil {
		done(importFlash{Error: "Choose a CSV file to upload."})
		return
	}
	defer file.Close()
	rows, err := campaign.ParseCSV(file)
	if err != nil {
		done(importFlash{Error: err.Error()})
		return
	}
	res, err := s.opts.Campaigns.Import(r.Context(), cid, sess.WorkspaceID, rows)
	s.forgetFigures(cid)
	var serr *campaign.StateError
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		http.NotFound(w, r)
	case errors.As(err, &serr):
		done(importFlash{Error: serr.Message})
	case errors.Is(err, campaign.ErrTooLarge):
		done(importFlash{Error: err.Error()})
	case err != nil:
		s.fail(w, r, err)
	default:
		done(importFlash{Result: &res})
	}
}
