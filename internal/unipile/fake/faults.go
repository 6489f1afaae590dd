package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultEffect is what an injected fault does to a matching request.
type FaultEffect string

// Fault effects.
const (
	// EffectError answers with an error (Status, Type); nothing is applied.
	// Status defaults to 503 and Type to the usual slug for the status.
	EffectError FaultEffect = "error"
	// EffectHang holds the request, unanswered and unapplied, until the
	// client gives up (its context ends or it times out) or the fake
	// closes; then the connection is dropped.
	EffectHang FaultEffect = "hang"
	// EffectDrop closes the connection without an answer; nothing is
	// applied.
	EffectDrop FaultEffect = "drop"
	// EffectLost applies the action and logs it as applied, then loses the
	// answer: the connection is dropped (Status 0, the default) or the
	// fault's error status is returned instead, e.g. 504
	// errors/request_timeout, which the reference lists for a provider call
	// that outlived Unipile's patience. A client must treat either as an
	// unknown outcome; the sent-invitations list shows the truth.
	EffectLost FaultEffect = "lost"
	// EffectLatency delays the request by Latency, then serves it normally.
	// Latency faults stack with each other and with one other fault.
	EffectLatency FaultEffect = "latency"
)

// Fault is an injected failure. Empty match fields match anything; all set
// fields must match. Faults are tried in injection order and the first
// matching non-latency fault wins.
type Fault struct {
	// ID is assigned by InjectFault.
	ID string `json:"id,omitempty"`
	// Action matches Call.Action (ActionInvite, ActionGetAccount…).
	Action string `json:"action,omitempty"`
	// Method matches the HTTP method.
	Method string `json:"method,omitempty"`
	// AccountID matches the account the call concerns.
	AccountID string `json:"account_id,omitempty"`
	// Recipient matches the targeted person (provider id or identifier).
	Recipient string `json:"recipient,omitempty"`

	// Effect is what happens; empty means EffectError.
	Effect FaultEffect `json:"effect,omitempty"`
	// Status, Type, Title and Detail shape the error answer of EffectError
	// and EffectLost.
	Status int    `json:"status,omitempty"`
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Latency is the delay of EffectLatency.
	Latency Duration `json:"latency,omitempty"`
	// Times is how many matching calls the fault affects; 0 means until
	// removed.
	Times int `json:"times,omitempty"`
	// Used counts the calls affected so far (read-only).
	Used int `json:"used"`
}

// matches reports whether the fault applies to c. Callers hold s.mu.
func (f *Fault) matches(c *Call) bool {
	if f.Action != "" && f.Action != c.Action {
		return false
	}
	if f.Method != "" && !strings.EqualFold(f.Method, c.Method) {
		return false
	}
	if f.AccountID != "" && f.AccountID != c.AccountID {
		return false
	}
	if f.Recipient != "" && f.Recipient != c.Recipient {
		return false
	}
	return true
}

// defaultTypes is the slug an error fault uses when only a status is given.
var defaultTypes = map[int]string{
	http.StatusBadRequest:          "errors/invalid_parameters",
	http.StatusUnauthorized:        "errors/disconnected_account",
	http.StatusForbidden:           "errors/account_restricted",
	http.StatusNotFound:            "errors/resource_not_found",
	http.StatusUnprocessableEntity: "errors/unprocessable_entity",
	http.StatusTooManyRequests:     "errors/too_many_requests",
	http.StatusInternalServerError: "errors/unexpected_error",
	http.StatusServiceUnavailable:  "errors/service_unavailable",
	http.StatusGatewayTimeout:      "errors/request_timeout",
}

// statusAndType fills in defaults for an error answer.
func (f *Fault) statusAndType() (int, string) {
	st := f.Status
	if st == 0 {
		st = http.StatusServiceUnavailable
	}
	typ := f.Type
	if typ == "" {
		typ = defaultTypes[st]
	}
	if typ != "" && !strings.Contains(typ, "/") {
		typ = "errors/" + typ
	}
	return st, typ
}

// validate checks a fault before it is stored.
func (f *Fault) validate() error {
	switch f.Effect {
	case "":
		f.Effect = EffectError
	case EffectError, EffectHang, EffectDrop, EffectLost, EffectLatency:
	default:
		return fmt.Errorf("unknown fault effect %q", f.Effect)
	}
	if f.Times < 0 {
		return fmt.Errorf("negative times %d", f.Times)
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("fault status %d is not an error status", f.Status)
	}
	if f.Effect == EffectLatency && f.Latency <= 0 {
		return fmt.Errorf("latency fault needs a positive latency")
	}
	return nil
}

// InjectFault stores f and returns its id. Invalid faults are refused.
func (s *Server) InjectFault(f Fault) (string, error) {
	if err := f.validate(); err != nil {
		return "", fmt.Errorf("injecting fault: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	f.ID = "f" + strconv.FormatInt(s.seq, 10)
	f.Used = 0
	s.faults = append(s.faults, &f)
	return f.ID, nil
}

// mustInject is InjectFault for the fixed, valid faults of the helpers below.
func (s *Server) mustInject(f Fault) string {
	id, err := s.InjectFault(f)
	if err != nil {
		panic(err)
	}
	return id
}

// RemoveFault deletes one fault; it reports whether it existed.
func (s *Server) RemoveFault(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.ID == id {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return true
		}
	}
	return false
}

// ClearFaults removes every fault, the 404 burst and the global latency.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.burst404 = false
	s.latency = 0
	s.jitter = 0
}

// Faults returns the active faults with their use counts.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		out[i] = *f
	}
	return out
}

// FailAccount404 makes the next n calls naming accountID answer 404
// errors/resource_not_found, as if the account were unknown.
func (s *Server) FailAccount404(accountID string, n int) string {
	return s.mustInject(Fault{AccountID: accountID, Effect: EffectError, Status: http.StatusNotFound, Times: n})
}

// SetBurst404 turns the tenant-wide 404 incident on or off: while on, every
// request that names an account (GET /accounts/{id}, account-scoped lists
// and actions) answers 404 errors/resource_not_found and applies nothing.
// The account list itself keeps answering.
func (s *Server) SetBurst404(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.burst404 = on
}

// Burst404 reports whether the 404 burst is on.
func (s *Server) Burst404() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.burst404
}

// Fail5xx makes the next n API calls answer 503 errors/service_unavailable
// (nothing applied).
func (s *Server) Fail5xx(n int) string {
	return s.mustInject(Fault{Effect: EffectError, Status: http.StatusServiceUnavailable, Times: n})
}

// Fail429 makes the next n API calls answer 429 errors/too_many_requests.
func (s *Server) Fail429(n int) string {
	return s.mustInject(Fault{Effect: EffectError, Status: http.StatusTooManyRequests, Times: n})
}

// HangNext makes the next n calls of action (any action when empty) hang
// until the client gives up.
func (s *Server) HangNext(action string, n int) string {
	return s.mustInject(Fault{Action: action, Effect: EffectHang, Times: n})
}

// LoseResponses makes the next n calls of action (any when empty) apply
// their action and then drop the connection.
func (s *Server) LoseResponses(action string, n int) string {
	return s.mustInject(Fault{Action: action, Effect: EffectLost, Times: n})
}

// HoldAnswers makes the next n calls of action (any when empty) that
// succeed apply their action and then hold their answer until release is
// called, the client gives up or the fake closes: an answer that comes late
// but is not lost, as when LinkedIn acts at once and Unipile answers after
// a long wait. release may be called more than once.
func (s *Server) HoldAnswers(action string, n int) (release func()) {
	h := &answerHold{action: action, left: n, release: make(chan struct{})}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(h.release) }) }
}

// answerHold is one HoldAnswers: the calls it still holds and the channel
// that lets them answer.
type answerHold struct {
	action  string
	left    int
	release chan struct{}
}

// takeHold returns the release channel of the first hold that matches
// action and counts the call against it, or nil.
func (s *Server) takeHold(action string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, h := range s.holds {
		if h.action != "" && h.action != action {
			continue
		}
		if h.left--; h.left <= 0 {
			s.holds = slices.Delete(s.holds, i, i+1)
		}
		return h.release
	}
	return nil
}

// SetLatency adds d before every API call (0 turns it off) and drops any
// jitter.
func (s *Server) SetLatency(d time.Duration) {
	s.SetLatencyJitter(d, 0)
}

// SetLatencyJitter adds a delay drawn uniformly from [d-jitter, d+jitter]
// (never below zero) before every API call, like a provider answering in
// 300 ms ± 100 ms. Spikes on top are latency faults (EffectLatency with
// Times).
func (s *Server) SetLatencyJitter(d, jitter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = max(d, 0)
	s.jitter = max(jitter, 0)
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("250ms"); a bare JSON number is taken as milliseconds.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("decoding duration: %w", err)
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("decoding duration: want a string like \"250ms\" or milliseconds: %w", err)
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}
