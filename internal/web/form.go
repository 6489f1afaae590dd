package web

import (
	"net/http"
	"strings"
)

// maxFormBytes bounds a form body; imports get the CSV limit on top.
const maxFormBytes = 1 << 20

// parseForm reads a POST body (urlencoded or multipart) within limits.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes+maxFormBytes)
		return r.ParseMultipartForm(maxUploadBytes + maxFormBytes)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm()
}

// capField is one cap input of a settings form: its name and its label.
type capField struct {
	Name  string
	Label string
}
