// Package account owns LinkedIn accounts: their statuses, the copy shown
// beside a status, the allowed transitions, and Flip — the only code that
// changes an account's status. The database refuses any other writer (see
// the audit triggers in internal/db/migrations, migration 11).
package account

// Status is an account's state. The database's status CHECK holds the same
// list.
type Status string

// The statuses of docs/accounts.md#statuses.
const (
	StatusConnecting        Status = "connecting"
	StatusConnected         Status = "connected"
	StatusNeedsVerification Status = "needs_verification"
	StatusDisconnected      Status = "disconnected"
	StatusRestricted        Status = "restricted"
	StatusError             Status = "error"
)

// Statuses lists every status, in display order.
var Statuses = []Status{
	StatusConnecting, StatusConnected, StatusNeedsVerification,
	StatusDisconnected, StatusRestricted, StatusError,
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Source says what caused a flip; it is stored in the audit row and, for
// flips away from connected, in disconnected_by.
type Source string

// Flip sources.
const (
	SourceHealthCheck Source = "health_check"
	SourceWebhook     Source = "webhook"
	SourceHostedAuth  Source = "hosted_auth"
	SourceSync        Source = "sync"
	SourceSendError   Source = "send_error"
	SourceOperator    Source = "operator"
	SourceRepair      Source = "repair"
)

// Sources lists every flip source.
var Sources = []Source{
	SourceHealthCheck, SourceWebhook, SourceHostedAuth, SourceSync,
	SourceSendError, SourceOperator, SourceRepair,
}

// Tier is the LinkedIn subscription of an account; it sets hard ceilings.
type Tier string

// Tiers. The default is free, the most cautious ceilings.
const (
	TierFree           Tier = "free"
	TierPremium        Tier = "premium"
	TierSalesNavigator Tier = "sales_navigator"
	TierRecruiter      Tier = "recruiter"
)

// Valid reports whether t is a known tier.
func (t Tier) Valid() bool {
	switch t {
	case TierFree, TierPremium, TierSalesNavigator, TierRecruiter:
		return true
	}
	return false
}
