package api

import (
	"errors"
	"net/http"

	"github.com/keel-outreach/keel/internal/outbound"
)

// createWebhookRequest is the body of POST /api/v1/webhooks.
type createWebhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// createdWebhook answers POST /api/v1/webhooks: the endpoint plus its
// signing secret, the only time the secret is ever returned.
type createdWebhook struct {
	outbound.Endpoint
	Secret string `json:"secret"`
}

// registerOutboundRoutes registers the outbound-webhook routes, served by
// svc (nil answers them with 503). Every route is scoped to the token's
// workspace: another workspace's endpoint is not found.
func (s *Server) registerOutboundRoutes(svc *outbound.Service) {
	available := func(w http.ResponseWriter) bool {
		if svc == nil {
			Problem(w, http.StatusServiceUnavailable, "unavailable", "outbound webhooks are not configured")
			return false
		}
		return true
	}
	s.handle("POST /api/v1/webhooks", func(w http.ResponseWriter, r *http.Request, p principal) {
		if !available(w) {
			return
		}
		var req createWebhookRequest
		if !decodeBody(w, r, &req) {
			return
		}
		ep, secret, err := svc.CreateEndpoint(r.Context(), p.WorkspaceID, req.URL, req.Events)
		var ve *outbound.ValidationError
		switch {
		case errors.As(err, &ve):
			invalid(w, "invalid webhook endpoint", ve.Error(), []fieldError{{Field: ve.Field, Message: ve.Message}})
		case errors.Is(err, outbound.ErrConflict):
			Problem(w, http.StatusConflict, "conflict", "this workspace already has a webhook endpoint with that URL")
		case err != nil:
			s.internal(w, r, err)
		default:
			writeJSON(w, http.StatusCreated, createdWebhook{Endpoint: ep, Secret: secret})
		}
	})
	s.handle("GET /api/v1/webhooks", func(w http.ResponseWriter, r *http.Request, p principal) {
		if !available(w) {
			return
		}
		list, err := svc.ListEndpoints(r.Context(), p.WorkspaceID)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, listResponse[outbound.Endpoint]{Items: list})
	})
	s.handle("DELETE /api/v1/webhooks/{id}", func(w http.ResponseWriter, r *http.Request, p principal) {
		if !available(w) {
			return
		}
		err := svc.DeleteEndpoint(r.Context(), p.WorkspaceID, r.PathValue("id"))
		switch {
		case errors.Is(err, outbound.ErrNotFound):
			Problem(w, http.StatusNotFound, "not found", "no such webhook endpoint")
		case err != nil:
			s.internal(w, r, err)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	s.handle("GET /api/v1/webhooks/deliveries", func(w http.ResponseWriter, r *http.Request, p principal) {
		if !available(w) {
			return
		}
		limit, _, err := page(r)
		if err != nil {
			Problem(w, http.StatusBadRequest, "bad request", err.Error())
			return
		}
		list, err := svc.ListDeliveries(r.Context(), p.WorkspaceID, limit)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, listResponse[outbound.Delivery]{Items: list})
	})
}
