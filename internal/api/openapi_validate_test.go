package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Every API test serves its Server through validating (newValidatedServer
// for the HTTP tests): each answer's status, content type and body is
// checked against the generated OpenAPI document, and a mismatch fails the
// test that caused it. TestMain then reports which documented operations
// the tests exercised and fails when a full run left one out.

// validated counts, per "METHOD /pattern", the answers checked, and per
// pattern the statuses seen.
var validated = struct {
	sync.Mutex
	answers  int
	requests int
	routes   map[string]int
	statuses map[string]map[int]bool
}{routes: map[string]int{}, statuses: map[string]map[int]bool{}}

// documentedRoutes is every route of a full server, for the coverage check.
var documentedRoutes = sync.OnceValue(func() []string {
	return New(Options{}).Routes()
})

// newValidatedServer starts s over HTTP behind the response validator.
func newValidatedServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	return httptest.NewServer(validating(t, s))
}

// validating wraps s so every answer is validated against s's document
// before the client sees it.
func validating(t *testing.T, s *Server) http.Handler {
	t.Helper()
	doc, err := s.OpenAPIDocument()
	if err != nil {
		t.Fatalf("generating the OpenAPI document: %v", err)
	}
	patterns := http.NewServeMux()
	for _, p := range s.Routes() {
		patterns.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		if err := checkAnswer(r.Context(), doc, patterns, r, rec); err != nil {
			t.Errorf("OpenAPI response validation: %s %s answered %d %s %q:\n%v",
				r.Method, r.URL.Path, rec.Code, rec.Header().Get("Content-Type"), truncate(rec.Body.String(), 400), err)
		}
		if err := checkAcceptedRequest(r.Context(), doc, patterns, r, reqBody, rec.Code); err != nil {
			t.Errorf("OpenAPI request validation: %s %s was accepted (%d) but its body %q does not match the document:\n%v",
				r.Method, r.URL.Path, rec.Code, truncate(string(reqBody), 400), err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// checkAnswer validates one recorded answer. An answer to a path no route
// serves must still be a problem.
func checkAnswer(ctx context.Context, doc *openapi3.T, patterns *http.ServeMux, r *http.Request, rec *httptest.ResponseRecorder) error {
	if r.URL.Path == "/api/openapi.json" {
		return nil
	}
	_, pattern := patterns.Handler(r)
	if pattern == "" {
		ct := rec.Header().Get("Content-Type")
		if ct != "application/problem+json" {
			return fmt.Errorf("an answer outside the documented routes is not a problem (content type %q)", ct)
		}
		return doc.Components.Responses["Problem"].Value.Content.Get(ct).Schema.Value.VisitJSON(decodeAny(rec.Body.Bytes()), openapi3.EnableJSONSchema2020())
	}
	method, path, _ := strings.Cut(pattern, " ")
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		return fmt.Errorf("route %s is not in the document", pattern)
	}
	route := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: item.GetOperation(method)}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, Route: route, Options: opts},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                opts,
	})
	if err == nil {
		validated.Lock()
		validated.answers++
		validated.routes[pattern]++
		if validated.statuses[pattern] == nil {
			validated.statuses[pattern] = map[int]bool{}
		}
		validated.statuses[pattern][rec.Code] = true
		validated.Unlock()
	}
	return err
}

// checkAcceptedRequest validates the JSON body of a request the server
// accepted (2xx) against the documented request body: what the server
// takes, the document must describe.
func checkAcceptedRequest(ctx context.Context, doc *openapi3.T, patterns *http.ServeMux, r *http.Request, body []byte, status int) error {
	if status < 200 || status > 299 || len(body) == 0 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return nil
	}
	_, pattern := patterns.Handler(r)
	method, path, _ := strings.Cut(pattern, " ")
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		return nil
	}
	op := item.GetOperation(method)
	if op.RequestBody == nil {
		// Some tests' helpers send "null" with a GET; the route reads no body.
		return nil
	}
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	route := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
	err := openapi3filter.ValidateRequestBody(ctx, &openapi3filter.RequestValidationInput{Request: req, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}, op.RequestBody.Value)
	if err == nil {
		validated.Lock()
		validated.requests++
		validated.Unlock()
	}
	return err
}

func decodeAny(b []byte) any {
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

// TestMain runs the package's tests, then reports the validation
// coverage: on a full run (no -run filter) a documented route that no
// test called fails the package.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	validated.Lock()
	defer validated.Unlock()
	var missing []string
	covered := 0
	for _, r := range documentedRoutes() {
		if validated.routes[r] == 0 {
			missing = append(missing, r)
		} else {
			covered++
		}
	}
	sort.Strings(missing)
	fmt.Fprintf(os.Stderr, "openapi: %d answers and %d accepted request bodies validated against the document; %d of %d documented routes exercised\n",
		validated.answers, validated.requests, covered, len(documentedRoutes()))
	if testing.Verbose() {
		var lines []string
		for r, n := range validated.routes {
			var sts []string
			for st := range validated.statuses[r] {
				sts = append(sts, fmt.Sprint(st))
			}
			sort.Strings(sts)
			lines = append(lines, fmt.Sprintf("  %-50s %4d answers, statuses %s", r, n, strings.Join(sts, ",")))
		}
		sort.Strings(lines)
		fmt.Fprintln(os.Stderr, strings.Join(lines, "\n"))
	}
	full := flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" && !testing.Short()
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "openapi: documented routes no API test exercised: %v\n", missing)
		if code == 0 && full {
			code = 1
		}
	}
	os.Exit(code)
}

// TestOpenAPIDocumentIsValid: the generated document passes the library's
// own validation, and every operation documents its success answer and
// the problem answer.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc, err := New(Options{}).OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	bodies := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Default() == nil {
				t.Errorf("%s %s documents no problem answer", method, path)
			}
			for code, resp := range op.Responses.Map() {
				if code == "default" || code == "204" || resp.Ref == "#/components/responses/Problem" {
					continue // no body, or the problem answer every operation shares
				}
				mt := resp.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil {
					t.Errorf("%s %s answers %s with no documented body", method, path, code)
					continue
				}
				bodies++
			}
			if op.RequestBody != nil {
				if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema == nil {
					t.Errorf("%s %s takes a JSON body with no schema", method, path)
				}
			}
		}
	}
	t.Logf("%d routes, %d success bodies, %d component schemas", len(New(Options{}).Routes()), bodies, len(doc.Components.Schemas))
}
