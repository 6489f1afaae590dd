package web

import (
	"net/http"
	"slices"
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

// formField names one input of a form for its error summary: Key is the
// error's field name (as a service's ValidationError names it), ID the
// input's id (the summary links to it), Label the words of its <label>.
type formField struct {
	Key   string
	ID    string
	Label string
}

// formError is one line of a form's error summary.
type formError struct {
	Field formField
	Msg   string
}

// formErrors is every error of one submit, in the form's field order,
// for the shared partials of templates/partials/form_errors.html
// (docs/surfaces.md#forms):
//
//   - {{template "form_errors" $errs}} once, above the form: a summary
//     "N problems" listing each error in the words of its field's label,
//     each a link to the field (role=alert, so it is announced);
//   - {{template "field_error" (fieldError $errs "key" "input-id")}} under
//     each input: its message, id "input-id-err", which the input names in
//     aria-describedby; {{if $errs.Has "key"}} aria-invalid="true"{{end}}
//     marks the input.
//
// Build one with newFormErrors(fields, errs): fields lists the form's
// inputs in page order; errors of keys not listed are kept, after the
// listed ones, labelled with their key.
type formErrors struct {
	Items []formError
	by    map[string]string
}

func newFormErrors(fields []formField, errs map[string]string) formErrors {
	fe := formErrors{by: errs}
	seen := map[string]bool{}
	for _, f := range fields {
		if msg, ok := errs[f.Key]; ok {
			fe.Items = append(fe.Items, formError{Field: f, Msg: msg})
			seen[f.Key] = true
		}
	}
	var rest []string
	for k := range errs {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		fe.Items = append(fe.Items, formError{Field: formField{Key: k, Label: k}, Msg: errs[k]})
	}
	return fe
}

// Has reports an error on field key.
func (fe formErrors) Has(key string) bool { _, ok := fe.by[key]; return ok }

// For is field key's message, "" when none.
func (fe formErrors) For(key string) string { return fe.by[key] }

// fieldErrorArgs feeds the field_error partial.
type fieldErrorArgs struct {
	ID  string
	Msg string
}
