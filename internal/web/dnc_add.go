package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/keel-outreach/keel/internal/campaign"
)

// dncAddFields are the add form's inputs, for its error summary.
var dncAddFields = []formField{{"values", "values", "Profile URLs, provider ids or company page URLs"},
	{"reason", "reason", "Reason"}, {"csv", "csv", "CSV file"}}

// addDNC adds entries from the page: a CSV file (linkedin_url,
// provider_id, company_url, reason columns) when one is chosen, else the
// typed values, one per line, with the form's reason. The answer shows
// each row's result above the list.
func (s *Server) addDNC(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	values, reason := r.PostFormValue("values"), r.PostFormValue("reason")
	// Every problem of the submit is shown at once, each by its field
	// (docs/surfaces.md#forms).
	errs := map[string]string{}
	if utf8.RuneCountInString(reason) > campaign.MaxDNCReasonLen {
		errs["reason"] = fmt.Sprintf("is longer than %d characters", campaign.MaxDNCReasonLen)
	}
	refuse := func(status int, field, msg string) {
		if msg != "" {
			errs[field] = msg
		}
		first := ""
		for _, f := range dncAddFields {
			if m, ok := errs[f.Key]; ok && first == "" {
				first = f.Label + ": " + m
			}
		}
		s.showDNC(w, r, status, dncData{Values: values, Reason: reason, AddError: first, AddErrors: newFormErrors(dncAddFields, errs)})
	}
	var rows []campaign.DNCRow
	if file, hdr, err := r.FormFile("csv"); err == nil && hdr.Size > 0 {
		defer file.Close()
		if rows, err = campaign.ParseDNCCSV(file); err != nil {
			status := http.StatusUnprocessableEntity
			if errors.Is(err, campaign.ErrDNCTooLarge) {
				status = http.StatusRequestEntityTooLarge
			}
			refuse(status, "csv", err.Error())
			return
		}
	} else {
		for _, line := range strings.Split(values, "\n") {
			v := strings.TrimSpace(line)
			if v == "" {
				continue
			}
			row := campaign.DNCRow{Row: len(rows) + 1, Reason: reason}
			switch low := strings.ToLower(v); {
			case !strings.Contains(low, "linkedin.com") && !strings.Contains(v, "/"):
				row.ProviderID = v
			case strings.Contains(low, "/company/"):
				row.CompanyURL = v
			default:
				row.LinkedInURL = v
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		refuse(http.StatusUnprocessableEntity, "values", "Type at least one profile URL, provider id or company URL, or choose a CSV file.")
		return
	}
	if len(errs) > 0 {
		refuse(http.StatusUnprocessableEntity, "", "")
		return
	}
	res, err := s.opts.Campaigns.AddDNC(r.Context(), sess.WorkspaceID, "user:"+sess.Email, rows)
	if errors.Is(err, campaign.ErrDNCTooLarge) {
		refuse(http.StatusRequestEntityTooLarge, "values", err.Error())
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Logger.Info("do-not-contact entries added", "workspace_id", sess.WorkspaceID, "by", sess.Email,
		"added", res.Added, "ended", res.Ended)
	s.showDNC(w, r, http.StatusOK, dncData{Result: &res})
}
