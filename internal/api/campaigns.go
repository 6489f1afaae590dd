package api

import (
	"context"
	"errors"
	"mime"
	"net/http"

	"github.com/keel-outreach/keel/internal/campaign"
)

func (s *Server) registerCampaignRoutes() {
	s.handle("POST /api/v1/campaigns", s.withCampaigns(s.createCampaign))
	s.handle("GET /api/v1/campaigns", s.withCampaigns(s.listCampaigns))
	s.handle("GET /api/v1/campaigns/{id}", s.withCampaigns(s.getCampaign))
	s.handle("PATCH /api/v1/campaigns/{id}", s.withCampaigns(s.updateCampaign))
	s.handle("POST /api/v1/campaigns/{id}/start", s.withCampaigns(s.campaignAction((*campaign.Service).Start)))
	s.handle("POST /api/v1/campaigns/{id}/pause", s.withCampaigns(s.campaignAction((*campaign.Service).Pause)))
	s.handle("POST /api/v1/campaigns/{id}/resume", s.withCampaigns(s.campaignAction((*campaign.Service).Resume)))
	s.handle("POST /api/v1/campaigns/{id}/prospects", s.withCampaigns(s.importProspects))
	s.handle("GET /api/v1/campaigns/{id}/enrollments", s.withCampaigns(s.listEnrollments))
}

type principalHandler = func(w http.ResponseWriter, r *http.Request, p principal)

// withCampaigns answers 503 when the server was built without the
// campaign service, instead of a nil dereference.
func (s *Server) withCampaigns(h principalHandler) principalHandler {
	return func(w http.ResponseWriter, r *http.Request, p principal) {
		if s.opts.Campaigns == nil {
			Problem(w, http.StatusServiceUnavailable, "unavailable", "campaigns are not configured on this server")
			return
		}
		h(w, r, p)
	}
}

// validationProblem is a 422 problem carrying the field errors, so a form
// can show each one beside its field.
func validationProblem(w http.ResponseWriter, detail string, errs []campaign.FieldError) {
	invalid(w, "invalid campaign", detail, errs)
}

// campaignError maps the campaign package's errors to problems.
func (s *Server) campaignError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *campaign.ValidationError
	var se *campaign.StateError
	var pe *campaign.ParseError
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		Problem(w, http.StatusNotFound, "not found", "no such campaign")
	case errors.As(err, &ve):
		detail := "the campaign has errors; see errors"
		if len(ve.Errors) == 1 {
			detail = ve.Errors[0].Field + ": " + ve.Errors[0].Message
		}
		validationProblem(w, detail, ve.Errors)
	case errors.As(err, &se):
		Problem(w, http.StatusConflict, "conflict", se.Message)
	case errors.As(err, &pe):
		Problem(w, http.StatusBadRequest, "bad request", "the import could not be read: "+pe.Error())
	case errors.Is(err, campaign.ErrTooLarge):
		Problem(w, http.StatusRequestEntityTooLarge, "too large", err.Error())
	default:
		s.internal(w, r, err)
	}
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, p principal) {
	var in campaign.Input
	if !decodeBody(w, r, &in) {
		return
	}
	c, err := s.opts.Campaigns.Create(r.Context(), p.WorkspaceID, in)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	status := campaign.Status(r.URL.Query().Get("status"))
	if status != "" && !status.Valid() {
		Problem(w, http.StatusBadRequest, "bad request", "status must be draft, running, paused, completed or archived")
		return
	}
	list, err := s.opts.Campaigns.List(r.Context(), s.opts.DB.SQL, campaign.ListOptions{
		WorkspaceID: p.WorkspaceID, Status: status, After: cursor, Limit: limit + 1})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, list, limit, func(x campaign.Campaign) string { return x.ID })
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, p principal) {
	c, err := s.opts.Campaigns.Get(r.Context(), s.opts.DB.SQL, p.WorkspaceID, r.PathValue("id"))
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request, p principal) {
	var in campaign.Input
	if !decodeBody(w, r, &in) {
		return
	}
	c, err := s.opts.Campaigns.Update(r.Context(), p.WorkspaceID, r.PathValue("id"), in)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// campaignAction serves start, pause and resume: one lifecycle call on the
// token's workspace, answered with the campaign or its error.
func (s *Server) campaignAction(op func(*campaign.Service, context.Context, string, string) (campaign.Campaign, error)) func(http.ResponseWriter, *http.Request, principal) {
	return func(w http.ResponseWriter, r *http.Request, p principal) {
		c, err := op(s.opts.Campaigns, r.Context(), p.WorkspaceID, r.PathValue("id"))
		if err != nil {
			s.campaignError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	}
}

func (s *Server) importProspects(w http.ResponseWriter, r *http.Request, p principal) {
	// Look the campaign up first so another workspace's campaign is a 404
	// before its body is even read.
	if _, err := s.opts.Campaigns.Get(r.Context(), s.opts.DB.SQL, p.WorkspaceID, r.PathValue("id")); err != nil {
		s.campaignError(w, r, err)
		return
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = ""
	}
	body := http.MaxBytesReader(w, r.Body, campaign.MaxImportBytes+1)
	var rows []campaign.ProspectRow
	switch mediaType {
	case "text/csv", "application/csv":
		rows, err = campaign.ParseCSV(body)
	case "application/json":
		rows, err = campaign.ParseJSON(body)
	default:
		Problem(w, http.StatusUnsupportedMediaType, "unsupported media type",
			"send prospects as text/csv (with a header row) or application/json {\"prospects\": [...]}")
		return
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = campaign.ErrTooLarge
	}
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	res, err := s.opts.Campaigns.Import(r.Context(), r.PathValue("id"), p.WorkspaceID, rows)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) listEnrollments(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	state := campaign.EnrollmentState(r.URL.Query().Get("state"))
	if state != "" && !state.Valid() {
		Problem(w, http.StatusBadRequest, "bad request",
			"state must be pending, active, soft_paused, completed, replied, ended or failed")
		return
	}
	list, err := s.opts.Campaigns.ListEnrollments(r.Context(), s.opts.DB.SQL, p.WorkspaceID, r.PathValue("id"),
		campaign.EnrollmentListOptions{State: state, After: cursor, Limit: limit + 1})
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writePage(w, list, limit, func(x campaign.Enrollment) string { return x.ID })
}
