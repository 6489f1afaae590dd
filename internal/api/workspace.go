package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/keel-outreach/keel/internal/workspace"
)

// The token's workspace and its settings: the re-contact cool-off
// (docs/contacts.md#recontact-cooloff).
func (s *Server) registerWorkspaceRoutes() {
	s.handle("GET /api/v1/workspace", s.getWorkspace)
	s.handle("PATCH /api/v1/workspace", s.patchWorkspace)
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request, p principal) {
	ws, err := workspace.ReadSettings(r.Context(), s.opts.DB.SQL, p.WorkspaceID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ws)
}

// workspacePatch is the body of PATCH /api/v1/workspace; absent fields
// change nothing.
type workspacePatch struct {
	// RecontactCooloffDays is a number of days (0 to 3650) or "never".
	RecontactCooloffDays json.RawMessage `json:"recontact_cooloff_days"`
}

// parseRecontactJSON reads recontact_cooloff_days: a whole number of days
// from 0 to workspace.MaxRecontactCooloffDays, or the string "never".
func parseRecontactJSON(raw json.RawMessage) (workspace.Recontact, error) {
	bad := fmt.Errorf("must be a whole number of days from 0 to %d, or \"never\"", workspace.MaxRecontactCooloffDays)
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		if str != "never" {
			return workspace.Recontact{}, bad
		}
		return workspace.Recontact{Never: true}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var n json.Number
	if err := dec.Decode(&n); err != nil {
		return workspace.Recontact{}, bad
	}
	days, err := n.Int64()
	if err != nil || days < 0 || days > workspace.MaxRecontactCooloffDays {
		return workspace.Recontact{}, bad
	}
	return workspace.Recontact{CooloffDays: int(days)}, nil
}

func (s *Server) patchWorkspace(w http.ResponseWriter, r *http.Request, p principal) {
	var patch workspacePatch
	if !decodeBody(w, r, &patch) {
		return
	}
	if len(patch.RecontactCooloffDays) > 0 {
		rc, err := parseRecontactJSON(patch.RecontactCooloffDays)
		if err != nil {
			invalid(w, "invalid settings", "recontact_cooloff_days: "+err.Error(),
				[]fieldError{{Field: "recontact_cooloff_days", Message: err.Error()}})
			return
		}
		if err := workspace.SetRecontact(r.Context(), s.opts.DB.SQL, p.WorkspaceID, rc); err != nil {
			if errors.Is(err, workspace.ErrNotFound) {
				Problem(w, http.StatusNotFound, "not found", "no such workspace")
				return
			}
			s.internal(w, r, err)
			return
		}
	}
	s.getWorkspace(w, r, p)
}
