package api

import (
	"net/http"

	"github.com/keel-outreach/keel/internal/jsonerr"
)

// decodeProblem answers a body encoding/json could not decode with a 400
// whose detail and errors name the place in API terms (a JSON path such as
// steps[1].text, or body) and what was expected there — never a Go type
// (docs/surfaces.md#errors).
func decodeProblem(w http.ResponseWriter, body []byte, err error) {
	e := jsonerr.Describe(body, err)
	writeProblem(w, http.StatusBadRequest, "bad request", e.Error(), []fieldError{{Field: e.Field, Message: e.Message}})
}
