package api

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/send"
)

func (s *Server) registerDiagnosisRoutes() {
	s.handle("GET /api/v1/accounts/{id}/limits", s.accountLimits)
	s.handle("GET /api/v1/accounts/{id}/diagnosis", s.accountDiagnosis)
	s.handle("GET /api/v1/campaigns/{id}/diagnosis", s.campaignDiagnosis)
}

func (s *Server) deps() diagnose.Deps {
	return diagnose.Deps{DB: s.opts.DB, Accounts: s.opts.Accounts, Campaigns: s.opts.Campaigns, MinSpacing: s.opts.MinSpacing}
}

func (s *Server) accountLimits(w http.ResponseWriter, r *http.Request, p principal) {
	a, ok := s.loadAccount(w, r, p)
	if !ok {
		return
	}
	items, err := send.Limits(r.Context(), s.opts.DB.SQL, a, s.opts.Clock.Now())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, limitsResponse[send.Limit]{Items: items})
}

func (s *Server) accountDiagnosis(w http.ResponseWriter, r *http.Request, p principal) {
	rep, err := diagnose.Account(r.Context(), s.deps(), p.WorkspaceID, r.PathValue("id"), s.opts.Clock.Now())
	if errors.Is(err, account.ErrNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such account")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) campaignDiagnosis(w http.ResponseWriter, r *http.Request, p principal) {
	if s.opts.Campaigns == nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "campaigns are not configured")
		return
	}
	rep, err := diagnose.Campaign(r.Context(), s.deps(), p.WorkspaceID, r.PathValue("id"), s.opts.Clock.Now())
	if errors.Is(err, campaign.ErrNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such campaign")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
