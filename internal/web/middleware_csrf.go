package web

import (
	"context"
	"crypto/subtle"
	"net/http"
)

// CSRFField is the hidden form field carrying the session's CSRF token.
const CSRFField = "csrf_token"

// validCSRF checks the form's token against the session's in constant time.
func validCSRF(r *http.Request, sess *session) bool {
	if sess == nil || sess.CSRF == "" {
		return false
	}
	got := r.PostFormValue(CSRFField)
	if got == "" && r.MultipartForm != nil {
		if v := r.MultipartForm.Value[CSRFField]; len(v) > 0 {
			got = v[0]
		}
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}

// csrf guards a POST handler that may run without a signed-in user (the
// sign-in form): the session may be anonymous, but the token must match.
func (s *Server) csrf(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.current(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := parseForm(w, r); err != nil {
			http.Error(w, "The form could not be read.", http.StatusBadRequest)
			return
		}
		if !validCSRF(r, sess) {
			http.Error(w, "This form has expired or did not come from Keel. Reload the page and try again.", http.StatusForbidden)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	}
}
