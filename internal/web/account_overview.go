package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// The accounts overview (docs/surfaces.md#accounts-overview): an attention
// summary over every account of the workspace, filters, search, sort and
// pages, all GET parameters so a view can be bookmarked.

// Attention filters: the summary's items and the status filter's extra
// values beside the six statuses.
const (
	filterNeedsReconnect = "needs_reconnect"
	filterCoolingDown    = "cooling_down"
	filterPendingCap     = "pending_cap"
)

// overviewQuery is the overview's GET parameters, cleaned.
type overviewQuery struct {
	Status string // "" (all), a status, or one of the attention filters
	Tag    string
	Search string
	Sort   string // name (default), status, usage
	Page   int    // 1-based
}

// statusFilters are the status <select>'s options in order.
var statusFilters = []capField{
	{filterNeedsReconnect, "Needs reconnect"}, {filterCoolingDown, "Cooling down"}, {filterPendingCap, "At the pending-invitation cap"},
	{string(account.StatusConnected), "Connected"}, {string(account.StatusConnecting), "Connecting"},
	{string(account.StatusNeedsVerification), "Needs verification"}, {string(account.StatusDisconnected), "Disconnected"},
	{string(account.StatusRestricted), "Restricted"}, {string(account.StatusError), "Error"},
}

// sortOptions are the sort <select>'s options.
var sortOptions = []capField{{"name", "Name"}, {"status", "Status (needs attention first)"}, {"usage", "Today's usage (highest first)"}}

func parseOverviewQuery(v url.Values) overviewQuery {
	q := overviewQuery{Tag: strings.TrimSpace(v.Get("tag")), Search: strings.TrimSpace(v.Get("q")), Sort: "name", Page: 1}
	if s := v.Get("status"); slices.ContainsFunc(statusFilters, func(f capField) bool { return f.Name == s }) {
		q.Status = s
	}
	if s := v.Get("sort"); s == "status" || s == "usage" {
		q.Sort = s
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		q.Page = n
	}
	return q
}

// URL is the overview's address with q's parameters, changed by the
// key/value pairs given ("" removes one); a filter change goes back to
// page 1.
func (q overviewQuery) URL(pairs ...string) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("status", q.Status)
	set("tag", q.Tag)
	set("q", q.Search)
	if q.Sort != "name" {
		set("sort", q.Sort)
	}
	if q.Page > 1 {
		set("page", strconv.Itoa(q.Page))
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Del(pairs[i])
		set(pairs[i], pairs[i+1])
		if pairs[i] != "page" {
			v.Del("page")
		}
	}
	if len(v) == 0 {
		return "/accounts"
	}
	return "/accounts?" + v.Encode()
}

// attentionItem is one item of the summary, a link that filters.
type attentionItem struct {
	Filter string
	Count  int
	Text   string
	Class  string
}

// summarise says what needs attention over every account of the
// workspace: the status counts (one grouped query) and the ledger's
// cooldowns and pending caps. It returns the items and the total.
func summarise(counts []account.StatusCount, ov send.Overview) ([]attentionItem, int) {
	var reconnect, total int
	other := map[account.Status]int{}
	for _, c := range counts {
		total += c.N
		switch {
		case c.NeedsReconnect:
			reconnect += c.N
		case c.Status != account.StatusConnected:
			other[c.Status] += c.N
		}
	}
	var items []attentionItem
	add := func(filter string, n int, one, many, class string) {
		if n == 0 {
			return
		}
		text := fmt.Sprintf(many, n)
		if n == 1 {
			text = fmt.Sprintf(one, n)
		}
		items = append(items, attentionItem{Filter: filter, Count: n, Text: text, Class: class})
	}
	add(filterNeedsReconnect, reconnect, "%d needs reconnect", "%d need reconnect", "bad")
	for _, st := range []account.Status{account.StatusDisconnected, account.StatusRestricted, account.StatusNeedsVerification,
		account.StatusError, account.StatusConnecting} {
		word := strings.ReplaceAll(string(st), "_", " ")
		add(string(st), other[st], "%d "+word, "%d "+word, "warn")
	}
	add(filterCoolingDown, len(ov.Blocked), "%d cooling down", "%d cooling down", "warn")
	add(filterPendingCap, len(ov.AtPendingCap), "%d at its pending-invitation cap", "%d at their pending-invitation cap", "warn")
	return items, total
}

// usageBar is one main action's use today in a compact row.
type usageBar struct {
	Label string
	Used  int
	Cap   int
	// Words says what limits the cap when it is not simply the configured
	// number (docs/sending.md#caps-and-ceilings).
	Words string
}

// usageBars picks the row's main actions from send.LimitsFor's rows:
// invitations and messages today, and pending invitations.
func usageBars(a account.Account, limits []send.Limit, now time.Time) []usageBar {
	slots := make([]*usageBar, 3)
	for _, l := range limits {
		var (
			label string
			slot  int
		)
		switch {
		case l.Action == policy.ActionInvite && l.Period == "day":
			label, slot = "Invitations today", 0
		case l.Action == policy.ActionMessage && l.Period == "day":
			label, slot = "Messages today", 1
		case l.Action == policy.ActionInvite && l.Period == "pending":
			label, slot = "Pending invitations", 2
		default:
			continue
		}
		slots[slot] = &usageBar{Label: label, Used: l.Used, Cap: l.Cap, Words: bindingWords(a, l, now)}
	}
	var out []usageBar
	for _, b := range slots {
		if b != nil {
			out = append(out, *b)
		}
	}
	return out
}

// bindingWords explains a limit in words: "5 of 20 — ramp week 1 limits it
// to 5".
func bindingWords(a account.Account, l send.Limit, now time.Time) string {
	configured := l.Cap
	if l.Period == "day" {
		configured = policy.DailyCap(a.Caps, l.Action)
	}
	base := fmt.Sprintf("%d of %d", l.Used, configured)
	switch l.Binding {
	case policy.BindingRamp:
		return fmt.Sprintf("%s — ramp week %d limits it to %d", base, policy.RampWeek(a.RampStartedAt, now), l.Cap)
	case policy.BindingCeiling:
		if configured != l.Cap {
			return fmt.Sprintf("%s — the %s tier's ceiling limits it to %d", base, strings.ReplaceAll(string(a.Tier), "_", " "), l.Cap)
		}
		return base + " (the tier's ceiling)"
	}
	return base
}
