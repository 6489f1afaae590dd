// Package web is Keel's server-rendered operator UI: sign-in, LinkedIn
// accounts, campaigns, prospect imports and admin alerts. Templates and the
// stylesheet are embedded; there is no JavaScript at all.
//
// The app mounts Handler as its fallback route; it serves every path except
// those the app owns (/api/, /webhooks/, /sandbox/, /healthz, /readyz,
// /metrics), which answer 404 here.
//
// Security: a session is a random 32-byte id in an HttpOnly, SameSite=Lax
// cookie (Secure with Options.SecureCookies); the web_sessions table keeps
// only its hash, so restarts keep people signed in and replicas share
// sessions. A signed-in session ends after SessionTTL without use, or
// SessionMaxAge in all, or at sign-out (its row is deleted). Every POST form
// carries the session's CSRF token in a hidden field and is refused with
// 403, before anything changes, without it; the sign-in form has one too
// (from an anonymous session that sign-in replaces). Failed sign-ins are
// limited per account and per client address in the database
// (internal/signin), then answered 429 with the time they unlock.
// Passwords, session ids and CSRF tokens are never logged.
//
// Queries: the accounts page reads one keyset page (PageSize rows) and the
// page's usage in one grouped ledger query. What remains per row: an
// account whose rolling weekly invite cap is full costs one more query (to
// find when its oldest invite ages out). The campaign page reads its
// senders one by one (at most campaign.MaxSenders) and the diagnosis does
// the same; the campaign list and alerts are single queries.
package web
