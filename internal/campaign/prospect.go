package campaign

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keel-outreach/keel/internal/jsonerr"
	"github.com/keel-outreach/keel/internal/text"
)

// Prospect is one person a workspace may contact.
type Prospect struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// LinkedInURL is https://www.linkedin.com/in/<slug>, empty when only
	// a Sales Navigator lead id or a provider id is known.
	LinkedInURL string `json:"linkedin_url"`
	// PublicSlug is the /in/ handle, lower-cased and unescaped. It is the
	// anchor accept detection matches on (field failure P13).
	PublicSlug string `json:"public_slug"`
	// SalesNavID is the Sales Navigator lead id (ACw…), case kept.
	SalesNavID string `json:"sales_nav_id"`
	// ProviderID is the LinkedIn member id as Unipile names it (ACoAA…).
	ProviderID string `json:"provider_id"`
	// MemberID and PublicHandle are the member id and /in/ handle the
	// provider resolved when Keel first addressed the person (empty until
	// then); accepts match on them too (docs/campaigns.md#matching-accepts).
	MemberID     string            `json:"member_id"`
	PublicHandle string            `json:"public_handle"`
	FirstName    string            `json:"first_name"`
	LastName     string            `json:"last_name"`
	Company      string            `json:"company"`
	Custom       map[string]string `json:"custom_fields"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// ProfileURL is the best URL to show for the prospect: the /in/ profile
// when known, else the Sales Navigator lead, else empty.
func (p Prospect) ProfileURL() string {
	if p.LinkedInURL != "" {
		return p.LinkedInURL
	}
	if p.SalesNavID != "" {
		return SalesNavURL(p.SalesNavID)
	}
	return ""
}

// label names the prospect in messages: its profile URL, else its
// provider id.
func (p Prospect) label() string {
	if u := p.ProfileURL(); u != "" {
		return u
	}
	return p.ProviderID
}

// Identity is how a prospect is reached on LinkedIn, as read from a URL or
// a provider id. At least one field is set.
type Identity struct {
	PublicSlug string
	SalesNavID string
	ProviderID string
}

// ProfileURLPrefix starts every canonical profile URL.
const ProfileURLPrefix = "https://www.linkedin.com/in/"

// ProfileURLFor returns the canonical profile URL of a slug.
func ProfileURLFor(slug string) string { return ProfileURLPrefix + url.PathEscape(slug) }

// SalesNavURL returns the canonical Sales Navigator URL of a lead id.
func SalesNavURL(leadID string) string { return "https://www.linkedin.com/sales/lead/" + leadID }

// Import limits: a request beyond them is refused whole (HTTP 413).
const (
	MaxImportBytes  = 8 << 20
	MaxImportRows   = 10000
	MaxFieldLen     = 1000 // characters of one value
	MaxNameLen      = 200  // characters of a name or company
	MaxCustomFields = 50
)

// ErrTooLarge: the import exceeds MaxImportBytes or MaxImportRows.
var ErrTooLarge = fmt.Errorf("import too large: at most %d rows and %d MiB", MaxImportRows, MaxImportBytes>>20)

// ParseError is an import body that cannot be read at all (bad CSV
// quoting, no usable header, invalid JSON). Nothing is stored.
type ParseError struct {
	Line int // 0 when not tied to a line
	Msg  string
}

// Error describes the problem, with its line when known.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Column names with a fixed meaning; any other column is a custom field.
const (
	ColLinkedInURL = "linkedin_url"
	ColProviderID  = "provider_id"
	ColFirstName   = "first_name"
	ColLastName    = "last_name"
	ColCompany     = "company"
)

// ProspectRow is one row of an import as read, before validation.
type ProspectRow struct {
	// Row counts data rows from 1 (the CSV header is not a row; in JSON it
	// is the position in the array, from 1).
	Row         int
	LinkedInURL string
	ProviderID  string
	FirstName   string
	LastName    string
	Company     string
	Custom      map[string]string
	// Problem, when set, is why the row could not be read; Import reports
	// it invalid with this text.
	Problem string
}

var (
	slugRejects = regexp.MustCompile(`[\s/?#%\\]`)
	leadPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{10,200}$`)
	// A member id in an /in/ URL (LinkedIn links some profiles that way):
	// case matters, so it is a provider id, not a slug.
	memberIDPattern = regexp.MustCompile(`^ACoAA[A-Za-z0-9_-]{10,195}$`)
)

// NormalizeSlug turns a public profile handle (possibly percent-encoded,
// any case) into the form stored and matched on: unescaped, lower-case,
// letters, digits, marks, '-' and '_' only.
func NormalizeSlug(s string) (string, error) {
	s = strings.TrimSpace(s)
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	if !utf8.ValidString(s) {
		return "", errors.New("the profile handle is not valid text")
	}
	s = strings.ToLower(s)
	if s == "" {
		return "", errors.New("the profile handle is empty")
	}
	if utf8.RuneCountInString(s) > 200 {
		return "", errors.New("the profile handle is longer than 200 characters")
	}
	if slugRejects.MatchString(s) {
		return "", fmt.Errorf("%q is not a LinkedIn profile handle", s)
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '-' || r == '_') {
			return "", fmt.Errorf("%q is not a LinkedIn profile handle (character %q)", s, r)
		}
	}
	return s, nil
}

// ParseProfileURL reads a LinkedIn URL: a public profile
// (linkedin.com/in/<slug>, any subdomain, scheme optional, extra path,
// query and fragment ignored) or a Sales Navigator lead
// (/sales/lead/<id>,… or /sales/people/<id>,…).
func ParseProfileURL(raw string) (Identity, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Identity{}, errors.New("the URL is empty")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Identity{}, fmt.Errorf("%q is not a URL", raw)
	}
	host := strings.ToLower(u.Hostname())
	if host != "linkedin.com" && !strings.HasSuffix(host, ".linkedin.com") {
		return Identity{}, fmt.Errorf("%q is not a linkedin.com URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Identity{}, fmt.Errorf("%q is not an http(s) URL", raw)
	}
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if len(parts) < 2 || parts[1] == "" {
		return Identity{}, fmt.Errorf("%q is not a profile URL: expected linkedin.com/in/<handle> or a Sales Navigator lead URL", raw)
	}
	switch strings.ToLower(parts[0]) {
	case "in":
		handle, err := url.PathUnescape(parts[1])
		if err != nil {
			return Identity{}, fmt.Errorf("%q has a malformed profile handle", raw)
		}
		if memberIDPattern.MatchString(handle) {
			return Identity{ProviderID: handle}, nil
		}
		slug, err := NormalizeSlug(parts[1])
		if err != nil {
			return Identity{}, err
		}
		return Identity{PublicSlug: slug}, nil
	case "sales":
		if len(parts) < 3 || (parts[1] != "lead" && parts[1] != "people") {
			return Identity{}, fmt.Errorf("%q is not a Sales Navigator lead URL: expected /sales/lead/<id>", raw)
		}
		seg, err := url.PathUnescape(parts[2])
		if err != nil {
			return Identity{}, fmt.Errorf("%q has a malformed lead id", raw)
		}
		lead, _, _ := strings.Cut(seg, ",")
		if !leadPattern.MatchString(lead) {
			return Identity{}, fmt.Errorf("%q does not carry a Sales Navigator lead id", raw)
		}
		return Identity{SalesNavID: lead}, nil
	case "pub":
		return Identity{}, fmt.Errorf("%q is an old /pub/ URL: open the profile and copy its linkedin.com/in/ URL", raw)
	}
	return Identity{}, fmt.Errorf("%q is not a profile URL: expected linkedin.com/in/<handle> or a Sales Navigator lead URL", raw)
}

var providerIDPattern = regexp.MustCompile(`^[A-Za-z0-9_:.-]{1,200}$`)

// ValidProviderID reports whether s can be a Unipile provider id.
func ValidProviderID(s string) bool { return providerIDPattern.MatchString(s) }

// identity validates a row's identifiers into one Identity.
func (r ProspectRow) identity() (Identity, error) {
	var id Identity
	for _, f := range []struct{ name, v string }{{ColLinkedInURL, r.LinkedInURL}, {ColProviderID, r.ProviderID}} {
		if msg := text.Problem(f.v, false); msg != "" {
			return id, errors.New(f.name + " " + msg)
		}
	}
	link := strings.TrimSpace(r.LinkedInURL)
	pid := strings.TrimSpace(r.ProviderID)
	if link == "" && pid == "" {
		return id, errors.New("needs a linkedin_url or a provider_id")
	}
	if link != "" {
		var err error
		if id, err = ParseProfileURL(link); err != nil {
			return id, fmt.Errorf("linkedin_url: %w", err)
		}
	}
	if pid != "" {
		if !ValidProviderID(pid) {
			return id, fmt.Errorf("provider_id %q is not a provider id (letters, digits, '-', '_', ':' or '.')", pid)
		}
		if id.ProviderID != "" && id.ProviderID != pid {
			return id, fmt.Errorf("linkedin_url names member %s but provider_id is %s", id.ProviderID, pid)
		}
		id.ProviderID = pid
	}
	return id, nil
}

// normalizeColumn maps a header (or JSON key) to a field name: trimmed,
// lower-case, spaces and dashes as underscores, so "First Name" is
// first_name.
func normalizeColumn(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, h)
}

var customFieldPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)

// checkColumn says what is wrong with a column name, or "".
func checkColumn(name string) string {
	switch {
	case name == "full_name":
		return "full_name is computed from first_name and last_name; rename the column"
	case !customFieldPattern.MatchString(name):
		return fmt.Sprintf("%q cannot be a template variable: use letters, digits and '_', starting with a letter", name)
	}
	return ""
}

// setField stores one value of a row under its (normalised) column name.
func (r *ProspectRow) setField(name, value string) {
	value = strings.TrimSpace(value)
	switch name {
	case ColLinkedInURL:
		r.LinkedInURL = value
	case ColProviderID:
		r.ProviderID = value
	case ColFirstName:
		r.FirstName = value
	case ColLastName:
		r.LastName = value
	case ColCompany:
		r.Company = value
	default:
		// An empty cell is no value: a template using the field with no
		// fallback will be refused at start for this prospect.
		if value == "" {
			return
		}
		if r.Custom == nil {
			r.Custom = map[string]string{}
		}
		r.Custom[name] = value
	}
}

// readLimited reads at most MaxImportBytes.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading import: %w", err)
	}
	if len(b) > MaxImportBytes {
		return nil, ErrTooLarge
	}
	return b, nil
}

// ParseCSV reads a prospect CSV: a header row naming linkedin_url and/or
// provider_id, optionally first_name, last_name, company, and any other
// columns as custom fields. A file that is not CSV, or whose header is
// unusable, is a *ParseError; a row with the wrong number of cells is
// returned with Problem set so the rest still imports.
func ParseCSV(r io.Reader) ([]ProspectRow, error) {
	b, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a spreadsheet's BOM
	if !utf8.Valid(b) {
		return nil, &ParseError{Msg: "the file is not UTF-8 text; export it as CSV UTF-8"}
	}
	cr := csv.NewReader(bufio.NewReader(bytes.NewReader(b)))
	cr.FieldsPerRecord = -1 // row length is checked per row, below
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &ParseError{Msg: "the file is empty: expected a header row"}
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols := make([]string, len(header))
	seen := map[string]int{}
	hasID := false
	for i, h := range header {
		name := normalizeColumn(h)
		if name == "" {
			return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("column %d has no name", i+1)}
		}
		if j, dup := seen[name]; dup {
			return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("column %q appears twice (columns %d and %d)", name, j+1, i+1)}
		}
		seen[name] = i
		if msg := checkColumn(name); msg != "" {
			return nil, &ParseError{Line: 1, Msg: msg}
		}
		hasID = hasID || name == ColLinkedInURL || name == ColProviderID
		cols[i] = name
	}
	if !hasID {
		return nil, &ParseError{Line: 1, Msg: "the header must name a linkedin_url or a provider_id column"}
	}
	if len(cols)-countKnown(cols) > MaxCustomFields {
		return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("at most %d custom columns", MaxCustomFields)}
	}
	var rows []ProspectRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if len(rows) == MaxImportRows {
			return nil, ErrTooLarge
		}
		row := ProspectRow{Row: len(rows) + 1}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(cols) {
			row.Problem = fmt.Sprintf("line %d has %d cells but the header has %d columns", line, len(rec), len(cols))
		} else {
			for i, v := range rec {
				row.setField(cols[i], v)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func countKnown(cols []string) int {
	n := 0
	for _, c := range cols {
		switch c {
		case ColLinkedInURL, ColProviderID, ColFirstName, ColLastName, ColCompany:
			n++
		}
	}
	return n
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.Line, Msg: "not valid CSV: " + pe.Err.Error()}
	}
	return &ParseError{Msg: "not valid CSV: " + err.Error()}
}

// ParseJSON reads {"prospects": [{...}, ...]} where each object uses the
// CSV column names as keys (other keys are custom fields). Values may be
// strings, numbers or booleans; null is no value. A row with a value of
// another type is returned with Problem set.
func ParseJSON(r io.Reader) ([]ProspectRow, error) {
	b, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Prospects []map[string]json.RawMessage `json:"prospects"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&body); err != nil {
		return nil, &ParseError{Msg: jsonerr.Describe(b, err).Error()}
	}
	if dec.More() {
		return nil, &ParseError{Msg: jsonerr.Root + ": holds more than one JSON value"}
	}
	if body.Prospects == nil {
		return nil, &ParseError{Msg: `expected {"prospects": [ ... ]}`}
	}
	if len(body.Prospects) > MaxImportRows {
		return nil, ErrTooLarge
	}
	rows := make([]ProspectRow, 0, len(body.Prospects))
	for i, obj := range body.Prospects {
		row := ProspectRow{Row: i + 1}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic first problem
		seen := map[string]bool{}
		for _, k := range keys {
			name := normalizeColumn(k)
			if seen[name] {
				row.Problem = fmt.Sprintf("key %q appears twice", name)
				break
			}
			seen[name] = true
			if msg := checkColumn(name); msg != "" {
				row.Problem = msg
				break
			}
			v, ok := jsonScalar(obj[k])
			if !ok {
				row.Problem = fmt.Sprintf("%s must be text, a number or a boolean", name)
				break
			}
			row.setField(name, v)
		}
		if row.Problem == "" && len(row.Custom) > MaxCustomFields {
			row.Problem = fmt.Sprintf("at most %d custom fields", MaxCustomFields)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func jsonScalar(raw json.RawMessage) (string, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// cleanRow validates a row's values (beyond its identity): lengths and
// text. It returns the row trimmed, or why it is invalid.
func cleanRow(r ProspectRow) (ProspectRow, string) {
	for _, f := range []struct{ name, v string }{
		{ColFirstName, r.FirstName}, {ColLastName, r.LastName}, {ColCompany, r.Company},
	} {
		if msg := text.Problem(f.v, false); msg != "" {
			return r, f.name + " " + msg
		}
		if n := utf8.RuneCountInString(f.v); n > MaxNameLen {
			return r, fmt.Sprintf("%s is longer than %d characters", f.name, MaxNameLen)
		}
	}
	for k, v := range r.Custom {
		// Custom fields may span lines (a quoted CSV cell can).
		if msg := text.Problem(v, true); msg != "" {
			return r, k + " " + msg
		}
		if n := utf8.RuneCountInString(v); n > MaxFieldLen {
			return r, fmt.Sprintf("%s is longer than %d characters", k, MaxFieldLen)
		}
	}
	return r, ""
}
