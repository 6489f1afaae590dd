package campaign

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keel-outreach/keel/internal/jsonerr"
	"github.com/keel-outreach/keel/internal/text"
)

// The do-not-contact list (docs/contacts.md#do-not-contact): people and
// companies a workspace never contacts. It lives here because adding a
// person must end their live enrollments in the same transaction, and only
// this package writes enrollment state.

// EndedDoNotContact is the ended_reason of an enrollment whose prospect
// was put on the do-not-contact list (or found listed when claimed).
const EndedDoNotContact = "do_not_contact"

// EndedInvitationWithdrawn is the ended_reason of an enrollment whose
// invitation Keel withdrew unanswered (docs/sending.md#withdrawals).
const EndedInvitationWithdrawn = "invitation_withdrawn"

// RowDoNotContact is the import row status of a listed person.
const RowDoNotContact = "do_not_contact"

// Row statuses of a do-not-contact addition.
const (
	DNCRowAdded     = "added"
	DNCRowDuplicate = "duplicate"
	DNCRowInvalid   = "invalid"
)

// Do-not-contact limits: a body beyond MaxDNCBytes or MaxDNCRows is
// refused whole (HTTP 413), nothing stored.
const (
	MaxDNCBytes     = 10 << 20
	MaxDNCRows      = 50000
	MaxDNCReasonLen = 1000
)

// ErrDNCTooLarge: a do-not-contact body over MaxDNCBytes or MaxDNCRows.
var ErrDNCTooLarge = fmt.Errorf("do-not-contact list too large: at most %d rows and %d MiB per request", MaxDNCRows, MaxDNCBytes>>20)

// ErrDNCNotFound: no such entry in that workspace (another workspace's
// entry is not found either).
var ErrDNCNotFound = errors.New("do-not-contact entry not found")

// ErrDNCRemovalCursor: a removals cursor that names no removal of the
// workspace, so it is not one the list returned.
var ErrDNCRemovalCursor = errors.New("cursor is not one this list returned")

// DNCRemoval is an entry taken off a workspace's do-not-contact list, as
// recorded when it was removed (docs/teams.md#who-changed-what).
type DNCRemoval struct {
	// EntryID is the id the entry had on the list.
	EntryID string `json:"entry_id"`
	// Entry is what it named: the profile URL, provider id or company URL.
	Entry string `json:"entry"`
	// CreatedBy names who had added it; RemovedBy who removed it
	// (user:<email>, token:<id> or cli).
	CreatedBy string    `json:"created_by"`
	RemovedBy string    `json:"removed_by"`
	RemovedAt time.Time `json:"removed_at"`
}

// Column names of a do-not-contact CSV or JSON entry.
const (
	ColCompanyURL = "company_url"
	ColReason     = "reason"
)

// DNCEntry is one entry of a workspace's do-not-contact list: exactly one
// of LinkedInURL, ProviderID and CompanyURL is set.
type DNCEntry struct {
	ID          string
	WorkspaceID string
	// LinkedInURL is the normalised https://www.linkedin.com/in/<handle>.
	LinkedInURL string
	// ProviderID is a member id, or a Sales Navigator lead id (an entry
	// made from a Sales Navigator URL or an /in/<member id> URL keeps the
	// id it carries).
	ProviderID string
	// CompanyURL is the normalised https://www.linkedin.com/company/<handle>.
	CompanyURL string
	Reason     string
	CreatedAt  time.Time
	// CreatedBy names who added it (user:<email>, token:<id> or cli).
	CreatedBy string
	slug      string
}

// MarshalJSON writes the entry of docs/surfaces.md#json-shapes (absent
// keys are null).
func (e DNCEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID          string    `json:"id"`
		LinkedInURL *string   `json:"linkedin_url"`
		ProviderID  *string   `json:"provider_id"`
		CompanyURL  *string   `json:"company_url"`
		Reason      string    `json:"reason"`
		CreatedAt   time.Time `json:"created_at"`
		CreatedBy   string    `json:"created_by"`
	}{e.ID, nullStr(e.LinkedInURL), nullStr(e.ProviderID), nullStr(e.CompanyURL), e.Reason, e.CreatedAt, e.CreatedBy})
}

// Label names the entry in messages.
func (e DNCEntry) Label() string {
	switch {
	case e.LinkedInURL != "":
		return e.LinkedInURL
	case e.ProviderID != "":
		return e.ProviderID
	}
	return e.CompanyURL
}

// DNCRow is one requested entry as read, before validation.
type DNCRow struct {
	// Row counts data rows (or JSON entries) from 1.
	Row         int
	LinkedInURL string
	ProviderID  string
	CompanyURL  string
	Reason      string
	// Problem, when set, is why the row could not be read.
	Problem string
}

// DNCRowResult is what happened to one requested entry.
type DNCRowResult struct {
	Row    int    `json:"row"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// ID is the new entry's id (added rows).
	ID string `json:"id,omitempty"`
}

// DNCResult is the per-row report of an addition, shaped like an import's:
// Ended counts the live enrollments the new entries ended.
type DNCResult struct {
	Added   int            `json:"added"`
	Skipped int            `json:"skipped"`
	Ended   int            `json:"ended"`
	Rows    []DNCRowResult `json:"rows"`
}

var companyHandle = regexp.MustCompile(`^[\p{L}\p{N}\p{Mn}_.&'-]{1,200}$`)

// ParseCompanyURL normalises a LinkedIn company page URL
// (linkedin.com/company/<handle>, any subdomain, scheme optional, extra
// path, query and fragment ignored) to https://www.linkedin.com/company/<handle>
// with the handle lower-cased.
func ParseCompanyURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("the URL is empty")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%q is not an http(s) URL", raw)
	}
	host := strings.ToLower(u.Hostname())
	if host != "linkedin.com" && !strings.HasSuffix(host, ".linkedin.com") {
		return "", fmt.Errorf("%q is not a linkedin.com URL", raw)
	}
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if len(parts) < 2 || strings.ToLower(parts[0]) != "company" || parts[1] == "" {
		return "", fmt.Errorf("%q is not a company page URL: expected linkedin.com/company/<handle>", raw)
	}
	handle, err := url.PathUnescape(parts[1])
	if err != nil || !utf8.ValidString(handle) || !companyHandle.MatchString(handle) {
		return "", fmt.Errorf("%q has a malformed company handle", raw)
	}
	return "https://www.linkedin.com/company/" + url.PathEscape(strings.ToLower(handle)), nil
}

// entry validates a requested row into the entry it stores.
func (r DNCRow) entry() (DNCEntry, error) {
	var e DNCEntry
	set := 0
	for _, f := range []struct{ name, v string }{
		{ColLinkedInURL, r.LinkedInURL}, {ColProviderID, r.ProviderID}, {ColCompanyURL, r.CompanyURL}, {ColReason, r.Reason},
	} {
		if msg := text.Problem(f.v, false); msg != "" {
			return e, errors.New(f.name + " " + msg)
		}
		if f.name != ColReason && strings.TrimSpace(f.v) != "" {
			set++
		}
	}
	if set != 1 {
		return e, errors.New("needs exactly one of linkedin_url, provider_id or company_url")
	}
	e.Reason = strings.TrimSpace(r.Reason)
	if utf8.RuneCountInString(e.Reason) > MaxDNCReasonLen {
		return e, fmt.Errorf("reason is longer than %d characters", MaxDNCReasonLen)
	}
	switch {
	case strings.TrimSpace(r.LinkedInURL) != "":
		id, err := ParseProfileURL(r.LinkedInURL)
		if err != nil {
			return e, fmt.Errorf("linkedin_url: %w", err)
		}
		switch {
		case id.PublicSlug != "":
			e.slug, e.LinkedInURL = id.PublicSlug, ProfileURLFor(id.PublicSlug)
		case id.ProviderID != "":
			e.ProviderID = id.ProviderID
		default:
			e.ProviderID = id.SalesNavID
		}
	case strings.TrimSpace(r.ProviderID) != "":
		pid := strings.TrimSpace(r.ProviderID)
		if !ValidProviderID(pid) {
			return e, fmt.Errorf("provider_id %q is not a provider id (letters, digits, '-', '_', ':' or '.')", pid)
		}
		e.ProviderID = pid
	default:
		u, err := ParseCompanyURL(r.CompanyURL)
		if err != nil {
			return e, fmt.Errorf("company_url: %w", err)
		}
		e.CompanyURL = u
	}
	return e, nil
}

// key identifies an entry within a workspace (what must be unique).
func (e DNCEntry) key() string {
	switch {
	case e.slug != "":
		return "slug:" + e.slug
	case e.ProviderID != "":
		return "pid:" + e.ProviderID
	}
	return "company:" + e.CompanyURL
}

func (r *DNCRow) setField(name, value string) bool {
	value = strings.TrimSpace(value)
	switch name {
	case ColLinkedInURL:
		r.LinkedInURL = value
	case ColProviderID:
		r.ProviderID = value
	case ColCompanyURL:
		r.CompanyURL = value
	case ColReason:
		r.Reason = value
	default:
		return false
	}
	return true
}

// ParseDNCCSV reads a do-not-contact CSV: a header naming only the columns
// linkedin_url, provider_id, company_url and reason (any case; an unknown
// column refuses the file), then one entry per row.
func ParseDNCCSV(r io.Reader) ([]DNCRow, error) {
	data, err := readDNCLimited(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{Msg: "the file is empty: expected a header row (linkedin_url, provider_id, company_url, reason)"}
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		cols[i] = normalizeColumn(h)
		if !(&DNCRow{}).setField(cols[i], "") {
			return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("unknown column %q: expected linkedin_url, provider_id, company_url and reason", h)}
		}
		if seen[cols[i]] {
			return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("column %q appears twice", cols[i])}
		}
		seen[cols[i]] = true
	}
	var rows []DNCRow
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if len(rows) >= MaxDNCRows {
			return nil, ErrDNCTooLarge
		}
		row := DNCRow{Row: n}
		if len(rec) > len(cols) {
			row.Problem = fmt.Sprintf("has %d cells but the header names %d columns", len(rec), len(cols))
		}
		for i, v := range rec {
			if i < len(cols) {
				row.setField(cols[i], v)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ParseDNCJSON reads {"entries": [{"linkedin_url"|"provider_id"|"company_url", "reason"}]}.
// An entry with an unknown key or a non-string value is an invalid row.
func ParseDNCJSON(r io.Reader) ([]DNCRow, error) {
	data, err := readDNCLimited(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Entries []map[string]json.RawMessage `json:"entries"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, &ParseError{Msg: jsonerr.Describe(data, err).Error()}
	}
	if body.Entries == nil {
		return nil, &ParseError{Msg: "entries is missing"}
	}
	if len(body.Entries) > MaxDNCRows {
		return nil, ErrDNCTooLarge
	}
	rows := make([]DNCRow, 0, len(body.Entries))
	for i, obj := range body.Entries {
		row := DNCRow{Row: i + 1}
		for k, raw := range obj {
			v, ok := jsonScalar(raw)
			if !ok {
				row.Problem = fmt.Sprintf("%s must be a string", k)
				break
			}
			if !row.setField(k, v) {
				row.Problem = fmt.Sprintf("unknown field %q: expected linkedin_url, provider_id, company_url and reason", k)
				break
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func readDNCLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDNCBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if len(data) > MaxDNCBytes {
		return nil, ErrDNCTooLarge
	}
	return data, nil
}

// label names an identity in messages: its profile URL, else its Sales
// Navigator lead URL, else its provider id.
func (i Identity) label() string {
	switch {
	case i.PublicSlug != "":
		return ProfileURLFor(i.PublicSlug)
	case i.SalesNavID != "":
		return SalesNavURL(i.SalesNavID)
	}
	return i.ProviderID
}
