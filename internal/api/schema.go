package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/workspace"
)

// The OpenAPI document is generated from the Go types the handlers decode
// and encode (docs/surfaces.md#openapi-document): the operations table
// names them, openapi3gen turns them into schemas, and hand-written notes
// (descriptions, defaults, bounds) are laid over the generated shapes
// without adding or removing any field.

// linkResponse answers the connect and reconnect routes.
type linkResponse struct {
	// URL is the hosted-auth link to open in a browser.
	URL string `json:"url"`
}

// limitsResponse answers GET /api/v1/accounts/{id}/limits.
type limitsResponse[T any] struct {
	Items []T `json:"items"`
}

// prospectsRequest is the JSON body of a prospect import: one object per
// prospect, keyed by column name (linkedin_url, provider_id, first_name,
// last_name, company, or a custom field), values text.
type prospectsRequest struct {
	Prospects []map[string]string `json:"prospects"`
}

// dncRequest is the JSON body of a do-not-contact addition: one object
// per entry with linkedin_url, provider_id or company_url, and reason.
type dncRequest struct {
	Entries []map[string]string `json:"entries"`
}

// settleRequest is the body of POST /api/v1/sends/{id}/settle; outcome is
// "sent" or "not_sent" (anything else is a 422 naming outcome).
type settleRequest struct {
	Outcome any `json:"outcome"`
}

// replyRequest is the body of POST /api/v1/conversations/{id}/messages.
type replyRequest struct {
	Text string `json:"text"`
}

// workspacePatchJSON shows workspacePatch's raw field as what it accepts.
type workspacePatchJSON struct {
	RecontactCooloffDays recontactValue `json:"recontact_cooloff_days,omitempty"`
}

// problemBody is the application/problem+json error every route may
// answer (writeProblem writes it).
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// Errors lists each bad field of a 422, in API terms.
	Errors []problemField `json:"errors,omitempty"`
}

// problemField is one entry of a 422 problem's errors member.
type problemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Ceiling is the tier's hard ceiling, for a cap set above it.
	Ceiling int `json:"ceiling,omitempty"`
}

// The wire shapes below mirror domain types whose MarshalJSON writes a
// shape the struct fields do not show; the response-validation test
// (openapi_validate_test.go) fails if a mirror and its MarshalJSON part.

type accountJSON struct {
	account.Account
	LastErrorTerminal bool `json:"last_error_terminal"`
	ReconnectNeeded   bool `json:"reconnect_needed"`
}

// campaignJSON spells campaign.Campaign's fields out: the generator does
// not apply encoding/json's shadowing of an embedded field.
type campaignJSON struct {
	ID          string          `json:"id"`
	WorkspaceID string          `json:"workspace_id"`
	Name        string          `json:"name"`
	Status      campaign.Status `json:"status"`
	// PausedReason is null unless the campaign is paused.
	PausedReason     *campaign.PausedReason    `json:"paused_reason"`
	AccountIDs       []string                  `json:"account_ids"`
	Steps            []campaign.Step           `json:"steps"`
	DailyCaps        campaign.DailyCaps        `json:"daily_caps"`
	StopOnReply      bool                      `json:"stop_on_reply"`
	LateAcceptPolicy campaign.LateAcceptPolicy `json:"late_accept_policy"`
	CreatedAt        time.Time                 `json:"created_at"`
	UpdatedAt        time.Time                 `json:"updated_at"`
	// UpdatedBy is who made the last change (docs/teams.md#who-changed-what).
	UpdatedBy string `json:"updated_by"`
}

type enrollmentJSON struct {
	ID            string                   `json:"id"`
	CampaignID    string                   `json:"campaign_id"`
	ProspectID    string                   `json:"prospect_id"`
	AccountID     string                   `json:"account_id"`
	State         campaign.EnrollmentState `json:"state"`
	StepID        *string                  `json:"step_id"`
	NextActionAt  *time.Time               `json:"next_action_at"`
	EndedReason   *string                  `json:"ended_reason"`
	LastError     *string                  `json:"last_error"`
	Failures      int                      `json:"failures"`
	AcceptedAt    *time.Time               `json:"accepted_at"`
	RepliedAt     *time.Time               `json:"replied_at"`
	LinkedInURL   *string                  `json:"linkedin_url"`
	ProviderID    *string                  `json:"provider_id"`
	FirstName     string                   `json:"first_name"`
	CreatedAt     time.Time                `json:"created_at"`
	UpdatedAt     time.Time                `json:"updated_at"`
	UnknownSendID *string                  `json:"unknown_send_id"`
	Action        *string                  `json:"action,omitempty"`
	HeldReason    *string                  `json:"held_reason"`
}

type dncEntryJSON struct {
	ID          string    `json:"id"`
	LinkedInURL *string   `json:"linkedin_url"`
	ProviderID  *string   `json:"provider_id"`
	CompanyURL  *string   `json:"company_url"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
}

type workspaceJSON struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// RecontactCooloffDays is a number of days or "never".
	RecontactCooloffDays recontactValue `json:"recontact_cooloff_days"`
}

// recontactValue is the re-contact cool-off as the API writes and reads
// it: a whole number of days, or "never".
type recontactValue struct{}

// wireTypes maps a type whose JSON comes from its own MarshalJSON to the
// struct that shows that JSON.
var wireTypes = map[reflect.Type]reflect.Type{
	reflect.TypeFor[account.Account]():     reflect.TypeFor[accountJSON](),
	reflect.TypeFor[campaign.Campaign]():   reflect.TypeFor[campaignJSON](),
	reflect.TypeFor[campaign.Enrollment](): reflect.TypeFor[enrollmentJSON](),
	reflect.TypeFor[campaign.DNCEntry]():   reflect.TypeFor[dncEntryJSON](),
	reflect.TypeFor[workspace.Settings]():  reflect.TypeFor[workspaceJSON](),
	reflect.TypeFor[workspacePatch]():      reflect.TypeFor[workspacePatchJSON](),
}

// enums are the values of the domain's string types, taken from their own
// constants so the document lists what the code accepts and writes.
var enums = map[reflect.Type][]any{
	reflect.TypeFor[account.Status]():            anys(account.Statuses),
	reflect.TypeFor[account.Tier]():              {account.TierFree, account.TierPremium, account.TierSalesNavigator, account.TierRecruiter},
	reflect.TypeFor[campaign.Status]():           {campaign.StatusDraft, campaign.StatusRunning, campaign.StatusPaused, campaign.StatusCompleted, campaign.StatusArchived},
	reflect.TypeFor[campaign.PausedReason]():     anys(campaign.PausedReasons),
	reflect.TypeFor[campaign.StepType]():         anys(campaign.StepTypes),
	reflect.TypeFor[campaign.LateAcceptPolicy](): {campaign.LateAcceptFollowUp, campaign.LateAcceptRecordOnly},
	reflect.TypeFor[campaign.EnrollmentState](): {campaign.EnrollmentPending, campaign.EnrollmentActive, campaign.EnrollmentSoftPaused,
		campaign.EnrollmentCompleted, campaign.EnrollmentReplied, campaign.EnrollmentEnded, campaign.EnrollmentFailed},
}

// anys widens a list of values to []any.
func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// componentTypes are nested types shown once in components.schemas and
// referenced wherever they appear, by name.
var componentTypes = map[reflect.Type]string{
	reflect.TypeFor[account.Caps]():        "Caps",
	reflect.TypeFor[account.CapsPatch]():   "CapsPatch",
	reflect.TypeFor[account.Pacing]():      "Pacing",
	reflect.TypeFor[account.PacingPatch](): "PacingPatch",
}

// schemaSet generates the schemas of one direction (requests or
// responses) into a shared components map.
type schemaSet struct {
	components openapi3.Schemas
	// response: every field without omitempty is required and no other
	// field may appear, which is what the encoder guarantees.
	response bool
	// names are the component names taken, by type, so two types of the
	// same name in different packages get distinct names.
	names map[string]owner
	// shared records generated schemas of componentTypes, to be replaced
	// by references after generation.
	shared map[*openapi3.Schema]reflect.Type
}

// owner is the type and direction a component name was given to.
type owner struct {
	t        reflect.Type
	response bool
}

// ref generates the schema of v's type into components under a name
// derived from the type and returns a reference to it.
func (s *schemaSet) ref(v any) (*openapi3.SchemaRef, error) {
	t := reflect.TypeOf(v)
	name := s.name(t)
	if s.components[name] == nil {
		sch, err := s.generate(t)
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", t, err)
		}
		s.components[name] = sch
	}
	return openapi3.NewSchemaRef("#/components/schemas/"+name, s.components[name].Value), nil
}

// name is t's component name: the Go type's exported name, with List for
// the list envelope and a package prefix when two packages share a name.
func (s *schemaSet) name(t reflect.Type) string {
	base := t.Name()
	if i := strings.IndexByte(base, '['); i >= 0 {
		arg := base[i+1 : len(base)-1]
		arg = arg[strings.LastIndexByte(arg, '.')+1:]
		switch base[:i] {
		case "listResponse":
			base = arg + "List"
		case "limitsResponse":
			base = arg + "s"
		default:
			base = arg + strings.ToUpper(base[:1]) + base[1:i]
		}
	}
	base = strings.TrimSuffix(base, "JSON")
	if n, ok := names[base]; ok {
		base = n
	}
	base = strings.ToUpper(base[:1]) + base[1:]
	if other, ok := s.names[base]; ok && other.t == t && other.response != s.response {
		// Responses and requests of one type differ (required fields).
		base += "Request"
	}
	if other, ok := s.names[base]; ok && other.t != t {
		pkg := t.PkgPath()
		base = strings.ToUpper(pkg[strings.LastIndexByte(pkg, '/')+1:][:1]) + pkg[strings.LastIndexByte(pkg, '/')+2:] + base
	}
	s.names[base] = owner{t, s.response}
	return base
}

// names gives some types clearer component names (and keeps the names
// the hand-written document used: AccountSettings, Diagnosis, …).
var names = map[string]string{
	"SettingsPatch":   "AccountSettings",
	"accountTagsBody": "AccountTags",
	"Report":          "Diagnosis",
	"Stats":           "CampaignStats",
	"problemBody":     "Problem",
	"settleRequest":   "Settle",
	"Input":           "CampaignInput",
	"Settings":        "Workspace",
	"dncRequest":      "DNCRequest",
	"linkResponse":    "HostedAuthLink",
	"workspacePatch":  "WorkspaceSettings",
	"EndpointList":    "WebhookEndpointList",
	"DeliveryList":    "WebhookDeliveryList",
}

func (s *schemaSet) generate(t reflect.Type) (*openapi3.SchemaRef, error) {
	g := openapi3gen.NewGenerator(openapi3gen.UseAllExportedFields(), openapi3gen.SchemaCustomizer(s.customize))
	ref, err := g.GenerateSchemaRef(t)
	if err != nil {
		return nil, err
	}
	s.replaceShared(ref, map[*openapi3.SchemaRef]bool{})
	return ref, nil
}

// customize runs for every generated schema: it swaps in wire shapes,
// turns OpenAPI 3.0 nullable into 3.1's null type, and marks what the
// encoder always writes as required.
func (s *schemaSet) customize(_ string, t reflect.Type, _ reflect.StructTag, sch *openapi3.Schema) error {
	// A pointer in a request body means "optional" (left out keeps the
	// value); in an answer it is null when absent.
	nullable := sch.Nullable && s.response
	if w, ok := wireTypes[t]; ok {
		ref, err := s.generate(w)
		if err != nil {
			return err
		}
		*sch = *ref.Value
		t = w
	}
	switch t {
	case reflect.TypeFor[recontactValue]():
		*sch = openapi3.Schema{OneOf: openapi3.SchemaRefs{
			openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"integer"}, Min: ptr(0.0), Max: ptr(float64(workspace.MaxRecontactCooloffDays))}),
			openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}, Enum: []any{"never"}}),
		}, Description: "Days before a prospect may be contacted again by another campaign, or \"never\"."}
	case reflect.TypeFor[json.RawMessage]():
		*sch = openapi3.Schema{}
	}
	if e, ok := enums[t]; ok {
		sch.Enum = nil
		for _, v := range e {
			// Plain strings: the validator compares decoded JSON.
			sch.Enum = append(sch.Enum, reflect.ValueOf(v).String())
		}
		if nullable {
			sch.Enum = append(sch.Enum, nil)
		}
	}
	sch.Nullable = false
	if s.response && (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) && t != reflect.TypeFor[json.RawMessage]() {
		// encoding/json writes a nil slice or map as null.
		nullable = true
	}
	if nullable && sch.Type != nil {
		if !sch.Type.Includes("null") {
			*sch.Type = append(*sch.Type, "null")
		}
	}
	if t.Kind() == reflect.Struct && t != reflect.TypeFor[time.Time]() && sch.Properties != nil {
		if s.response {
			sch.Required = requiredFields(t)
		}
		if s.response || t != reflect.TypeFor[prospectsRequest]() {
			// Answers carry no other field; request bodies are decoded
			// refusing unknown fields (the prospect import alone ignores
			// them).
			sch.AdditionalProperties = openapi3.AdditionalProperties{Has: ptr(false)}
		}
		if _, ok := componentTypes[t]; ok {
			s.shared[sch] = t
		}
	}
	if nullable {
		// A nullable shared component is referenced as anyOf [ref, null].
		if _, ok := componentTypes[t]; ok {
			s.shared[sch] = reflect.PointerTo(t)
		}
	}
	return nil
}

// replaceShared swaps the inline schemas of componentTypes for references
// to one component each.
func (s *schemaSet) replaceShared(ref *openapi3.SchemaRef, seen map[*openapi3.SchemaRef]bool) {
	if ref == nil || seen[ref] || ref.Value == nil {
		return
	}
	seen[ref] = true
	if !strings.HasPrefix(ref.Ref, "#/") {
		// The generator names inline schemas after their Go type; only
		// component references are references.
		ref.Ref = ""
	}
	sch := ref.Value
	for _, sub := range append(append(openapi3.SchemaRefs{}, sch.OneOf...), sch.AnyOf...) {
		s.replaceShared(sub, seen)
	}
	for _, p := range sch.Properties {
		if t, ok := s.shared[p.Value]; ok {
			nullable := t.Kind() == reflect.Pointer
			if nullable {
				t = t.Elem()
			}
			name := componentTypes[t]
			if s.components[name] == nil {
				cp := *p.Value
				if cp.Type != nil {
					types := openapi3.Types{}
					for _, x := range *cp.Type {
						if x != "null" {
							types = append(types, x)
						}
					}
					cp.Type = &types
				}
				s.components[name] = openapi3.NewSchemaRef("", &cp)
				s.replaceShared(s.components[name], seen)
			}
			r := openapi3.NewSchemaRef("#/components/schemas/"+name, s.components[name].Value)
			if nullable {
				*p = openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: openapi3.SchemaRefs{r,
					openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"null"}})}}}
			} else {
				*p = *r
			}
			continue
		}
		s.replaceShared(p, seen)
	}
	s.replaceShared(sch.Items, seen)
	s.replaceShared(sch.AdditionalProperties.Schema, seen)
}

// requiredFields are the JSON names of t's fields that encoding/json
// always writes (no omitempty or omitzero), embedded structs flattened.
func requiredFields(t reflect.Type) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if tag == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			if strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,") {
				continue
			}
			out = append(out, name)
		}
	}
	walk(t)
	sort.Strings(out)
	return out
}

func ptr[T any](v T) *T { return &v }

// buildDocument generates the OpenAPI 3.1 document of the registered
// routes from the operations table.
func buildDocument(registered []string) (*openapi3.T, error) {
	comps := openapi3.Schemas{}
	names := map[string]owner{}
	req := &schemaSet{components: comps, names: names, shared: map[*openapi3.Schema]reflect.Type{}}
	resp := &schemaSet{components: comps, response: true, names: names, shared: map[*openapi3.Schema]reflect.Type{}}
	problem, err := resp.ref(problemBody{})
	if err != nil {
		return nil, err
	}
	problemContent := openapi3.NewContentWithSchemaRef(problem, []string{"application/problem+json"})
	doc := &openapi3.T{
		OpenAPI: "3.1.0",
		Info: &openapi3.Info{Title: "Keel API", Version: "1",
			Description: "Workspace-scoped JSON API. Another workspace's object answers 404. " +
				"Errors are application/problem+json with type, title, status and detail; a 422 also lists each bad field " +
				"in errors (field in API terms, such as prospects[0].first_name, and message)."},
		Paths:    openapi3.NewPaths(),
		Security: openapi3.SecurityRequirements{{"bearer": {}}},
		Components: &openapi3.Components{
			Schemas: comps,
			SecuritySchemes: openapi3.SecuritySchemes{"bearer": &openapi3.SecuritySchemeRef{
				Value: openapi3.NewSecurityScheme().WithType("http").WithScheme("bearer")}},
			Responses: openapi3.ResponseBodies{"Problem": &openapi3.ResponseRef{Value: openapi3.NewResponse().
				WithDescription("An error (application/problem+json); a 422 lists each bad field in errors.").
				WithContent(problemContent)}},
		},
	}
	sorted := append([]string(nil), registered...)
	sort.Strings(sorted)
	for _, pattern := range sorted {
		method, path, _ := strings.Cut(pattern, " ")
		op, ok := operations[pattern]
		if !ok {
			op = operation{Summary: "(undocumented)"}
		}
		o := openapi3.NewOperation()
		o.Summary = op.Summary
		o.OperationID = strings.ToLower(method) + strings.NewReplacer("/api/v1", "", "/", "_", "{", "", "}", "", "-", "_").Replace(path)
		if strings.Contains(path, "{id}") {
			o.AddParameter(openapi3.NewPathParameter("id").WithSchema(openapi3.NewStringSchema()))
		}
		for _, q := range op.Query {
			o.AddParameter(openapi3.NewQueryParameter(q).WithSchema(openapi3.NewStringSchema()))
		}
		if len(op.Body) > 0 {
			content := openapi3.Content{}
			for _, mt := range op.Body {
				mtype := openapi3.NewMediaType()
				switch {
				case mt == "application/json" && op.Request != nil:
					r, err := req.ref(op.Request)
					if err != nil {
						return nil, err
					}
					mtype.Schema = r
				case mt == "text/csv":
					mtype.Schema = openapi3.NewStringSchema().NewRef()
				}
				content[mt] = mtype
			}
			o.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithContent(content)}
		}
		status := op.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok200 := openapi3.NewResponse().WithDescription(http.StatusText(status))
		if op.Response != nil {
			r, err := resp.ref(op.Response)
			if err != nil {
				return nil, err
			}
			ok200.WithContent(openapi3.NewContentWithJSONSchemaRef(r))
		}
		o.AddResponse(status, ok200)
		o.Responses.Set("default", &openapi3.ResponseRef{Ref: "#/components/responses/Problem", Value: doc.Components.Responses["Problem"].Value})
		// The least role a token needs (docs/teams.md#roles); a weaker one
		// is refused with 403.
		o.Extensions = map[string]any{"x-keel-min-role": string(role.Needed(method + " " + path))}
		if method != http.MethodGet {
			o.Responses.Set("403", &openapi3.ResponseRef{Ref: "#/components/responses/Problem", Value: doc.Components.Responses["Problem"].Value})
		}
		doc.AddOperation(path, method, o)
	}
	annotate(comps)
	return doc, nil
}

// annotate lays the hand-written notes over the generated schemas: only
// documentation keywords are copied, and only onto properties the types
// have, so the notes cannot invent a field.
func annotate(comps openapi3.Schemas) {
	for name, note := range notes {
		for _, target := range []string{name, name + "Request"} {
			if c := comps[target]; c != nil && c.Value != nil {
				overlay(c.Value, note)
			}
		}
	}
}

func overlay(sch *openapi3.Schema, note map[string]any) {
	if d, ok := note["description"].(string); ok {
		sch.Description = d
	}
	if v, ok := note["default"]; ok {
		sch.Default = v
	}
	if v, ok := number(note["maximum"]); ok {
		sch.Max = &v
	}
	if v, ok := number(note["minimum"]); ok {
		sch.Min = &v
	}
	if f, ok := note["format"].(string); ok {
		sch.Format = f
	}
	if e, ok := note["enum"].([]any); ok {
		sch.Enum = append([]any(nil), e...)
		if sch.Type != nil && sch.Type.Includes("null") {
			sch.Enum = append(sch.Enum, nil)
		}
	}
	props, _ := note["properties"].(map[string]any)
	for k, v := range props {
		p, ok := sch.Properties[k]
		sub, isMap := v.(map[string]any)
		if !ok || !isMap || p.Value == nil || p.Ref != "" {
			continue
		}
		overlay(p.Value, sub)
	}
	if items, ok := note["items"].(map[string]any); ok && sch.Items != nil && sch.Items.Value != nil && sch.Items.Ref == "" {
		overlay(sch.Items.Value, items)
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}
