package web

import (
	"errors"
	"net/http"
)

// errNotMember: the user is not a member of the workspace asked for.
var errNotMember = errors.New("not a member of that workspace")

// switchWorkspace moves the session to another workspace the user belongs
// to (docs/teams.md#switching-workspace); the role there applies from the
// next page on. Another workspace's id, or one the user is not a member
// of, changes nothing and answers 404.
func (s *Server) switchWorkspace(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r)
	target := r.PostFormValue("workspace_id")
	err := s.sessions.switchWorkspace(r.Context(), sess.ID, sess.UserID, target)
	if errors.Is(err, errNotMember) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Logger.Info("switched workspace", "user_id", sess.UserID, "workspace_id", target)
	http.Redirect(w, r, "/accounts", http.StatusSeeOther)
}
