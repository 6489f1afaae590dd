package api

import (
	"errors"
	"mime"
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
)

// The workspace's do-not-contact list (docs/contacts.md#do-not-contact).
func (s *Server) registerDNCRoutes() {
	s.handle("GET /api/v1/do-not-contact", s.withCampaigns(s.listDNC))
	s.handle("POST /api/v1/do-not-contact", s.withCampaigns(s.addDNC))
	s.handle("DELETE /api/v1/do-not-contact/{id}", s.withCampaigns(s.removeDNC))
	// A literal segment: no GET /{id} route exists, and ServeMux would
	// prefer /removals over one anyway (more specific).
	s.handle("GET /api/v1/do-not-contact/removals", s.withCampaigns(s.listDNCRemovals))
}

func (s *Server) listDNC(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	list, err := s.opts.Campaigns.ListDNC(r.Context(), s.opts.DB.SQL, p.WorkspaceID, cursor, limit+1)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, list, limit, func(x campaign.DNCEntry) string { return x.ID })
}

// listDNCRemovals pages the entries taken off the list, newest first,
// with who removed each (docs/teams.md#who-changed-what); the limit and
// cursor rules are the list's.
func (s *Server) listDNCRemovals(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	list, err := s.opts.Campaigns.ListDNCRemovals(r.Context(), s.opts.DB.SQL, p.WorkspaceID, cursor, limit+1)
	switch {
	case errors.Is(err, campaign.ErrDNCRemovalCursor):
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	writePage(w, list, limit, func(x campaign.DNCRemoval) string { return x.EntryID })
}

// addDNC takes JSON {"entries": [...]} or a CSV with the same columns and
// answers per-row results; a body over campaign.MaxDNCBytes is refused
// whole (413) with nothing stored.
func (s *Server) addDNC(w http.ResponseWriter, r *http.Request, p principal) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = ""
	}
	body := http.MaxBytesReader(w, r.Body, campaign.MaxDNCBytes+1)
	var rows []campaign.DNCRow
	switch mediaType {
	case "text/csv", "application/csv":
		rows, err = campaign.ParseDNCCSV(body)
	case "application/json":
		rows, err = campaign.ParseDNCJSON(body)
	default:
		Problem(w, http.StatusUnsupportedMediaType, "unsupported media type",
			"send entries as text/csv (header: linkedin_url, provider_id, company_url, reason) or application/json {\"entries\": [...]}")
		return
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = campaign.ErrDNCTooLarge
	}
	var pe *campaign.ParseError
	switch {
	case errors.Is(err, campaign.ErrDNCTooLarge):
		Problem(w, http.StatusRequestEntityTooLarge, "too large", err.Error())
		return
	case errors.As(err, &pe):
		Problem(w, http.StatusBadRequest, "bad request", "the list could not be read: "+pe.Error())
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	res, err := s.opts.Campaigns.AddDNC(r.Context(), p.WorkspaceID, "token:"+p.TokenID, rows)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) removeDNC(w http.ResponseWriter, r *http.Request, p principal) {
	err := s.opts.Campaigns.RemoveDNC(r.Context(), p.WorkspaceID, r.PathValue("id"))
	switch {
	case errors.Is(err, campaign.ErrDNCNotFound):
		Problem(w, http.StatusNotFound, "not found", "no such do-not-contact entry")
	case err != nil:
		s.internal(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
