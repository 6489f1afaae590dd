package unipile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one request when Options.Timeout is zero. It is
// generous because LinkedIn actions behind Unipile can take tens of seconds,
// and a premature client timeout turns a send into an unknown outcome.
const DefaultTimeout = 60 * time.Second

// maxResponseBytes caps how much of a response body is read, so a
// misbehaving server cannot exhaust memory.
const maxResponseBytes = 16 << 20

// maxRedirects matches net/http's own limit.
const maxRedirects = 10

// userAgent identifies Keel in Unipile's logs.
const userAgent = "keel-unipile/1"

// Options configures a Client.
type Options struct {
	// BaseURL is the tenant DSN, e.g. "https://api8.unipile.com:13443".
	// A bare "host:port" means https. A trailing "/api/v1" is accepted and
	// dropped. Query parameters (such as Unipile's "?port=" workaround for
	// blocked ports) are sent with every request.
	BaseURL string
	// APIKey is sent as X-API-KEY on every request and never logged.
	APIKey string
	// HTTPClient is the transport to use; nil means a fresh client. It is
	// copied, not modified: the copy gets a redirect policy that never
	// forwards the API key to another host.
	HTTPClient *http.Client
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
}

// Client talks to one Unipile tenant. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	baseQuery url.Values
	apiKey    string
	hc        *http.Client
	timeout   time.Duration
}

// New validates opts and returns a Client. Configuration problems come back
// as a *Error of KindInvalid.
func New(opts Options) (*Client, error) {
	base, query, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Op: "configuring client", Err: err}
	}
	key := strings.TrimSpace(opts.APIKey)
	if key == "" {
		return nil, &Error{Kind: KindInvalid, Op: "configuring client", Err: errors.New("API key is empty")}
	}
	if strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		// Said without echoing the key.
		return nil, &Error{Kind: KindInvalid, Op: "configuring client", Err: errors.New("API key contains control characters")}
	}
	if opts.Timeout < 0 {
		return nil, &Error{Kind: KindInvalid, Op: "configuring client", Err: fmt.Errorf("negative timeout %v", opts.Timeout)}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	hc := &http.Client{}
	if opts.HTTPClient != nil {
		copied := *opts.HTTPClient
		hc = &copied
	}
	hc.CheckRedirect = sameHostRedirects(base)
	return &Client{base: base, baseQuery: query, apiKey: key, hc: hc, timeout: timeout}, nil
}

// parseBaseURL normalises the DSN into scheme://host[/prefix] and its query.
func parseBaseURL(raw string) (*url.URL, url.Values, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil, errors.New("base URL is empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing base URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, nil, fmt.Errorf("base URL scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, nil, errors.New("base URL has no host")
	}
	if u.User != nil {
		return nil, nil, errors.New("base URL must not carry credentials; use the API key")
	}
	if u.Fragment != "" {
		return nil, nil, errors.New("base URL must not have a fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return nil, nil, fmt.Errorf("base URL port %q is invalid", p)
		}
	}
	query := u.Query()
	u.RawQuery = ""
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v1")
	u.RawPath = ""
	return u, query, nil
}

// sameHostRedirects follows redirects only to the same scheme and host, and
// only when the method is preserved. net/http forwards custom headers such as
// X-API-KEY to any host, and rewrites POST into GET on 301/302/303; both
// would be wrong here. A refused redirect surfaces as the 3xx answer.
func sameHostRedirects(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return http.ErrUseLastResponse
		}
		if req.URL.Scheme != base.Scheme || req.URL.Host != base.Host {
			return http.ErrUseLastResponse
		}
		if req.Method != via[0].Method {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// Timeout is how long one request may take: no call outlives it.
func (c *Client) Timeout() time.Duration { return c.timeout }

// BaseURL returns the normalised tenant base URL (without /api/v1 and
// without query), e.g. for the hosted-auth api_url field.
func (c *Client) BaseURL() string { return c.base.String() }

// request describes one API call.
type request struct {
	op          string
	method      string
	path        string // below /api/v1/, segments already escaped
	query       url.Values
	body        []byte
	contentType string
	// idempotent requests can be repeated without a second effect, so a
	// failure after sending them is transient rather than unknown.
	idempotent bool
}

// apiError is the v1 (and v2) error body.
type apiError struct {
	Title  string  `json:"title"`
	Detail string  `json:"detail"`
	Type   string  `json:"type"`
	Status FlexInt `json:"status"`
}

// do sends rq and decodes a 2xx JSON answer into out (if non-nil). Every
// failure is returned as a classified *Error.
func (c *Client) do(ctx context.Context, rq request, out any) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	target := c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + "/api/v1/" + rq.path
	q := url.Values{}
	for k, v := range c.baseQuery {
		q[k] = append([]string(nil), v...)
	}
	for k, v := range rq.query {
		q[k] = append(q[k], v...)
	}
	if len(q) > 0 {
		target += "?" + q.Encode()
	}

	var sent atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	}
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), rq.method, target, body)
	if err != nil {
		return &Error{Kind: KindInvalid, Op: rq.op, Err: scrubErr(fmt.Errorf("building request: %w", err), c.apiKey)}
	}
	req.Header.Set("X-API-KEY", c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(rq, sent.Load(), err)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if readErr != nil {
			// The provider answered success but we lost the body: a POST was
			// applied and we do not know its ids.
			return c.afterSendError(rq, resp.StatusCode, fmt.Errorf("reading response: %w", readErr))
		}
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			// Nothing to decode; an empty success leaves out at its zero value.
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			kind := KindUnknown
			if !rq.idempotent {
				kind = KindUnknownOutcome
			}
			return &Error{Kind: kind, Status: resp.StatusCode, Op: rq.op, Err: fmt.Errorf("decoding response: %w", err)}
		}
		return nil
	}

	e := &Error{Status: resp.StatusCode, Op: rq.op}
	var ae apiError
	if json.Unmarshal(data, &ae) == nil {
		e.Type = strings.TrimSpace(ae.Type)
		e.Title = scrub(ae.Title, c.apiKey)
		e.Detail = scrub(ae.Detail, c.apiKey)
	} else if snippet := strings.TrimSpace(string(data)); snippet != "" {
		// A non-JSON error page (proxy, gateway): keep a short excerpt.
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		e.Detail = scrub(strings.ToValidUTF8(snippet, "?"), c.apiKey)
	}
	e.Kind = classify(resp.StatusCode, e.Type, rq.idempotent)
	e.Type = scrub(e.Type, c.apiKey)
	if readErr != nil {
		e.Err = scrubErr(fmt.Errorf("reading error body: %w", readErr), c.apiKey)
	}
	return e
}

// transportError classifies a failure without any HTTP answer. Before the
// request was fully written nothing can have been applied; after it, only
// idempotent requests are safe to call transient.
func (c *Client) transportError(rq request, sent bool, err error) error {
	if !sent {
		return &Error{Kind: KindTransient, Op: rq.op, Err: scrubErr(err, c.apiKey)}
	}
	return c.afterSendError(rq, 0, err)
}

// afterSendError builds the error for a request that reached the server but
// whose answer was lost.
func (c *Client) afterSendError(rq request, status int, err error) error {
	kind := KindTransient
	if !rq.idempotent {
		kind = KindUnknownOutcome
	}
	return &Error{Kind: kind, Status: status, Op: rq.op, Err: scrubErr(err, c.apiKey)}
}

// invalidf builds a KindInvalid error for a request refused before sending.
func invalidf(op, format string, args ...any) error {
	return &Error{Kind: KindInvalid, Op: op, Err: fmt.Errorf(format, args...)}
}

// PageOptions selects one page of a cursor-paginated list.
type PageOptions struct {
	// Limit is the page size; zero lets Unipile choose its default.
	Limit int
	// Cursor is the Cursor of the previous page; empty for the first page.
	Cursor string
}

// values encodes the options as query parameters.
func (p PageOptions) values(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

// Page is one page of a Unipile list: {"object":"…List","items":[…],"cursor":…}.
// An empty Cursor means there are no more results.
type Page[T any] struct {
	Object string     `json:"object"`
	Items  []T        `json:"items"`
	Cursor FlexString `json:"cursor"`
}

// collect walks every page from fetch, stopping when the cursor is empty. A
// repeated cursor is an error rather than an endless loop.
func collect[T any](ctx context.Context, op string, limit int, fetch func(context.Context, PageOptions) (Page[T], error)) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	opts := PageOptions{Limit: limit}
	for {
		page, err := fetch(ctx, opts)
		if err != nil {
			return all, err
		}
		all = append(all, page.Items...)
		next := string(page.Cursor)
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return all, &Error{Kind: KindUnknown, Op: op, Err: errors.New("pagination cursor repeated")}
		}
		seen[next] = true
		opts.Cursor = next
	}
}

// requireAccount rejects an empty account id before any network traffic.
func requireAccount(op, accountID string) error {
	if strings.TrimSpace(accountID) == "" {
		return invalidf(op, "account id is empty")
	}
	return nil
}

// jsonBody marshals v for a request body.
func jsonBody(op string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Op: op, Err: fmt.Errorf("encoding body: %w", err)}
	}
	return b, nil
}
