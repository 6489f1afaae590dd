// Package unipile is Keel's HTTP client for the Unipile REST API (v1), the
// only way Keel reaches LinkedIn.
//
// Every method takes a context, sends the tenant API key in the X-API-KEY
// header, and is bounded by a per-request timeout (DefaultTimeout unless
// Options.Timeout says otherwise).
//
// Errors: every failure a method returns is (or wraps) a *Error whose Kind
// was decided once, here, from the HTTP status, the v1 error type slug and
// whether the request may have reached the provider. Callers branch on
// KindOf(err) and never re-parse status codes or messages; see Kind for what
// each value asks the caller to do.
//
// Decoding is lenient on purpose: Unipile's REST and webhook payloads carry
// the same fields with different JSON types (ids as numbers or strings,
// booleans as 0/1 or "true"), and fields come and go. The Flex* types and
// OneOrMany absorb those differences so one struct can read either shape.
package unipile
