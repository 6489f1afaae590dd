package unipile

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// Source statuses of an account (sources[].status on the REST account).
const (
	// StatusOK means the account works.
	StatusOK = "OK"
	// StatusConnecting is temporary: Unipile is (re)connecting.
	StatusConnecting = "CONNECTING"
	// StatusCredentials means the owner must reconnect.
	StatusCredentials = "CREDENTIALS"
	// StatusPermissions means permissions are missing on the host device.
	StatusPermissions = "PERMISSIONS"
	// StatusStopped means the service stopped; a restart may help.
	StatusStopped = "STOPPED"
	// StatusError means an unspecified error stopped the service.
	StatusError = "ERROR"
)

// Messages that only the account_status webhook sends, beside the source
// statuses above. The two vocabularies differ; do not mix them up.
const (
	// StatusDeleted reports that the account was deleted.
	StatusDeleted = "DELETED"
	// StatusCreationSuccess reports a newly connected account.
	StatusCreationSuccess = "CREATION_SUCCESS"
	// StatusReconnected reports a successful reconnection.
	StatusReconnected = "RECONNECTED"
	// StatusSyncSuccess reports that the initial synchronisation finished.
	StatusSyncSuccess = "SYNC_SUCCESS"
)

// AccountSource is one service of an account with its status.
type AccountSource struct {
	ID     FlexString `json:"id"`
	Status string     `json:"status"`
}

// LinkedInParams is connection_params.im of a LinkedIn account.
type LinkedInParams struct {
	// ID is the account's own LinkedIn member id (ACoAA…).
	ID                FlexString `json:"id"`
	PublicIdentifier  string     `json:"publicIdentifier"`
	Username          string     `json:"username"`
	ConnectionMethod  string     `json:"connection_method"`
	PremiumID         FlexString `json:"premiumId"`
	PremiumContractID FlexString `json:"premiumContractId"`
	PremiumFeatures   []string   `json:"premiumFeatures"`
}

// ConnectionParams holds provider-specific connection details.
type ConnectionParams struct {
	IM *LinkedInParams `json:"im"`
}

// Account is a connected provider account.
type Account struct {
	Object           string           `json:"object"`
	ID               FlexString       `json:"id"`
	Name             string           `json:"name"`
	Type             string           `json:"type"`
	CreatedAt        FlexTime         `json:"created_at"`
	ConnectionParams ConnectionParams `json:"connection_params"`
	Sources          []AccountSource  `json:"sources"`
	Groups           []FlexString     `json:"groups"`
}

// SourceStatus summarises sources[] into one status: the first status that
// is not OK, else OK, else "" when the account lists no sources. A LinkedIn
// account normally has a single "<id>_MESSAGING" source.
func (a Account) SourceStatus() string {
	status := ""
	for _, s := range a.Sources {
		st := strings.ToUpper(strings.TrimSpace(s.Status))
		if st != StatusOK {
			return st
		}
		status = StatusOK
	}
	return status
}

// PremiumFeatures returns connection_params.im.premiumFeatures and whether
// the account reported them at all: an empty list is a report (a free
// account); a missing or null field is none.
func (a Account) PremiumFeatures() ([]string, bool) {
	if a.ConnectionParams.IM == nil || a.ConnectionParams.IM.PremiumFeatures == nil {
		return nil, false
	}
	return a.ConnectionParams.IM.PremiumFeatures, true
}

// MemberID returns the account's own LinkedIn member id, or "".
func (a Account) MemberID() string {
	if a.ConnectionParams.IM == nil {
		return ""
	}
	return string(a.ConnectionParams.IM.ID)
}

// ListAccounts returns one page of the tenant's accounts.
func (c *Client) ListAccounts(ctx context.Context, opts PageOptions) (Page[Account], error) {
	var page Page[Account]
	err := c.do(ctx, request{op: "listing accounts", method: "GET", path: "accounts", query: opts.values(nil), idempotent: true}, &page)
	return page, err
}

// AllAccounts walks every page of the account list.
func (c *Client) AllAccounts(ctx context.Context) ([]Account, error) {
	return collect(ctx, "listing accounts", 250, c.ListAccounts)
}

// GetAccount returns one account. A 404 (KindNotFound) means the account is
// unknown to this tenant: deleted, or never existed.
func (c *Client) GetAccount(ctx context.Context, accountID string) (Account, error) {
	const op = "getting account"
	var a Account
	if err := requireAccount(op, accountID); err != nil {
		return a, err
	}
	err := c.do(ctx, request{op: op, method: "GET", path: "accounts/" + url.PathEscape(accountID), idempotent: true}, &a)
	return a, err
}

// RestartAccount asks Unipile to restart a STOPPED or ERROR account. It does
// not fix CREDENTIALS. Restarting twice is harmless, so it counts as
// idempotent.
func (c *Client) RestartAccount(ctx context.Context, accountID string) error {
	const op = "restarting account"
	if err := requireAccount(op, accountID); err != nil {
		return err
	}
	var out struct {
		Object string `json:"object"`
	}
	if err := c.do(ctx, request{op: op, method: "POST", path: "accounts/" + url.PathEscape(accountID) + "/restart", idempotent: true}, &out); err != nil {
		return err
	}
	if strings.EqualFold(out.Object, "AccountFailedToRestart") {
		return &Error{Kind: KindTransient, Op: op, Err: errors.New("provider reported AccountFailedToRestart")}
	}
	return nil
}

// DeleteAccount removes the account from Unipile for good.
func (c *Client) DeleteAccount(ctx context.Context, accountID string) error {
	const op = "deleting account"
	if err := requireAccount(op, accountID); err != nil {
		return err
	}
	return c.do(ctx, request{op: op, method: "DELETE", path: "accounts/" + url.PathEscape(accountID), idempotent: true}, nil)
}

// Hosted-auth link types.
const (
	// HostedAuthCreate connects a new account.
	HostedAuthCreate = "create"
	// HostedAuthReconnect restores an existing account (ReconnectAccount).
	HostedAuthReconnect = "reconnect"
)

// HostedAuthRequest asks for a hosted-auth wizard link.
type HostedAuthRequest struct {
	// Type is HostedAuthCreate or HostedAuthReconnect.
	Type string
	// Providers limits the wizard; nil means ["LINKEDIN"] for create.
	Providers []string
	// ReconnectAccount is the account id to restore; required for reconnect.
	ReconnectAccount string
	// APIURL is the tenant URL the wizard talks to; empty means the
	// client's BaseURL.
	APIURL string
	// ExpiresOn is when the link expires; required. Sent in UTC with
	// milliseconds, the only format Unipile accepts.
	ExpiresOn time.Time
	// Name is echoed back in the notify_url callback; use it (or a secret
	// in NotifyURL) to match the callback to the request.
	Name string
	// SuccessRedirectURL and FailureRedirectURL are browser redirects.
	SuccessRedirectURL, FailureRedirectURL string
	// NotifyURL receives the server callback (HostedAuthNotification). It
	// carries no custom headers, so authenticate it with a token in the URL.
	NotifyURL string
	// DisabledFeatures, e.g. "linkedin_recruiter".
	DisabledFeatures []string
}

// hostedAuthBody is the wire form of HostedAuthRequest.
type hostedAuthBody struct {
	Type               string   `json:"type"`
	Providers          []string `json:"providers,omitempty"`
	ReconnectAccount   string   `json:"reconnect_account,omitempty"`
	APIURL             string   `json:"api_url"`
	ExpiresOn          string   `json:"expiresOn"`
	Name               string   `json:"name,omitempty"`
	SuccessRedirectURL string   `json:"success_redirect_url,omitempty"`
	FailureRedirectURL string   `json:"failure_redirect_url,omitempty"`
	NotifyURL          string   `json:"notify_url,omitempty"`
	DisabledFeatures   []string `json:"disabled_features,omitempty"`
}

// HostedAuthExpiryLayout is the only expiresOn format Unipile accepts
// (RFC 3339 in UTC with exactly three fractional digits).
const HostedAuthExpiryLayout = "2006-01-02T15:04:05.000Z"

// CreateHostedAuthLink returns the URL of a hosted-auth wizard. Redirect the
// user to it; do not embed it in an iframe. Minting a link has no side
// effect beyond the link, so it counts as idempotent.
func (c *Client) CreateHostedAuthLink(ctx context.Context, req HostedAuthRequest) (string, error) {
	const op = "creating hosted-auth link"
	body := hostedAuthBody{
		Type:               req.Type,
		Providers:          req.Providers,
		ReconnectAccount:   req.ReconnectAccount,
		APIURL:             req.APIURL,
		Name:               req.Name,
		SuccessRedirectURL: req.SuccessRedirectURL,
		FailureRedirectURL: req.FailureRedirectURL,
		NotifyURL:          req.NotifyURL,
		DisabledFeatures:   req.DisabledFeatures,
	}
	switch req.Type {
	case HostedAuthCreate:
		if len(body.Providers) == 0 {
			body.Providers = []string{"LINKEDIN"}
		}
	case HostedAuthReconnect:
		if strings.TrimSpace(req.ReconnectAccount) == "" {
			return "", invalidf(op, "reconnect link needs ReconnectAccount")
		}
	default:
		return "", invalidf(op, "link type %q is not %q or %q", req.Type, HostedAuthCreate, HostedAuthReconnect)
	}
	if req.ExpiresOn.IsZero() {
		return "", invalidf(op, "ExpiresOn is required")
	}
	body.ExpiresOn = req.ExpiresOn.UTC().Format(HostedAuthExpiryLayout)
	if body.APIURL == "" {
		body.APIURL = c.BaseURL()
	}
	b, err := jsonBody(op, body)
	if err != nil {
		return "", err
	}
	var out struct {
		Object string `json:"object"`
		URL    string `json:"url"`
	}
	if err := c.do(ctx, request{op: op, method: "POST", path: "hosted/accounts/link", body: b, contentType: "application/json", idempotent: true}, &out); err != nil {
		return "", err
	}
	if out.URL == "" {
		return "", &Error{Kind: KindUnknown, Op: op, Err: errors.New("response carried no url")}
	}
	return out.URL, nil
}

// HostedAuthNotification is the body Unipile POSTs to a link's notify_url.
// Status is StatusCreationSuccess or StatusReconnected.
type HostedAuthNotification struct {
	Status    string     `json:"status"`
	AccountID FlexString `json:"account_id"`
	Name      string     `json:"name"`
}
