package fake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Admin routes let another process (an outside checker, `keel sandbox`)
// drive the fake. All take and return JSON and need the same X-API-KEY as
// the API:
//
//	GET    /_fake/calls[?account_id=&action=]   call log
//	DELETE /_fake/calls                          empty the call log
//	GET    /_fake/deliveries                     webhook/notify deliveries
//	POST   /_fake/wait_idle[?timeout=5s]         block until deliveries settle
//	GET    /_fake/accounts                       account snapshots
//	POST   /_fake/accounts                       AccountSpec → {"id"}
//	DELETE /_fake/accounts/{id}                  delete (DELETED webhook)
//	POST   /_fake/accounts/{id}/status           {"status":"CREDENTIALS"}
//	POST   /_fake/accounts/{id}/restricted       {"restricted":true}
//	POST   /_fake/accounts/{id}/inmail_credits   {"credits":0}
//	POST   /_fake/accounts/{id}/relations        {"provider_id":"…"}
//	POST   /_fake/people                         Person → {"provider_id"}
//	GET    /_fake/invitations[?account_id=]      all invitations, any state
//	POST   /_fake/invitations/{id}/accept        accept (new_relation webhook)
//	GET    /_fake/messages[?account_id=]         all chat messages
//	POST   /_fake/messages                       {"account_id","from","text"} → {"chat_id","message_id"}
//	GET    /_fake/faults                         active faults
//	POST   /_fake/faults                         Fault → {"id"}
//	DELETE /_fake/faults                         clear faults, burst and latency
//	DELETE /_fake/faults/{id}                    remove one fault
//	POST   /_fake/burst404                       {"on":true}
//	POST   /_fake/latency                        {"latency":"300ms","jitter":"100ms"}
//	GET    /_fake/hosted                         hosted-auth links
//	POST   /_fake/hosted/{token}                 {"approve":true,"name":"…"}
func (s *Server) adminRoutes(mux *http.ServeMux) {
	h := func(pattern string, f func(w http.ResponseWriter, r *http.Request) (any, error)) {
		mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !s.checkKey(r) {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong X-API-KEY"})
				return
			}
			out, err := f(w, r)
			if err != nil {
				status := http.StatusBadRequest
				var se statusError
				if errors.As(err, &se) {
					status = se.status
				} else if errors.Is(err, ErrNoAccount) || errors.Is(err, ErrNoInvitation) || errors.Is(err, ErrNoLink) {
					status = http.StatusNotFound
				} else if errors.Is(err, ErrNotPending) || errors.Is(err, ErrLinkUsed) || errors.Is(err, ErrLinkExpired) {
					status = http.StatusConflict
				}
				writeJSON(w, status, map[string]string{"error": err.Error()})
				return
			}
			if out == nil {
				out = map[string]bool{"ok": true}
			}
			writeJSON(w, http.StatusOK, out)
		}))
	}

	h("GET /_fake/calls", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		acct, action := r.URL.Query().Get("account_id"), r.URL.Query().Get("action")
		out := []Call{}
		for _, c := range s.Calls() {
			if (acct == "" || c.AccountID == acct) && (action == "" || c.Action == action) {
				out = append(out, c)
			}
		}
		return out, nil
	})
	h("DELETE /_fake/calls", func(http.ResponseWriter, *http.Request) (any, error) {
		s.ResetCalls()
		return nil, nil
	})
	h("GET /_fake/deliveries", func(http.ResponseWriter, *http.Request) (any, error) {
		return s.Deliveries(), nil
	})
	h("POST /_fake/wait_idle", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		timeout := 10 * time.Second
		if v := r.URL.Query().Get("timeout"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, errors.New("timeout must be a positive Go duration")
			}
			timeout = d
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := s.WaitIdle(ctx); err != nil {
			return nil, statusError{http.StatusGatewayTimeout, err}
		}
		return map[string]bool{"idle": true}, nil
	})
	h("GET /_fake/accounts", func(http.ResponseWriter, *http.Request) (any, error) {
		return s.Accounts(), nil
	})
	h("POST /_fake/accounts", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var spec AccountSpec
		if err := readJSON(r, &spec); err != nil {
			return nil, err
		}
		if spec.Status != "" && !validSourceStatus[strings.ToUpper(spec.Status)] {
			return nil, errors.New("status must be a source status (OK, CONNECTING, CREDENTIALS, PERMISSIONS, STOPPED, ERROR)")
		}
		return map[string]string{"id": s.AddAccount(spec)}, nil
	})
	h("DELETE /_fake/accounts/{id}", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		return nil, s.DeleteAccount(r.PathValue("id"))
	})
	h("POST /_fake/accounts/{id}/status", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var body struct {
			Status string `json:"status"`
		}
		if err := readJSON(r, &body); err != nil {
			return nil, err
		}
		return nil, s.SetAccountStatus(r.PathValue("id"), body.Status)
	})
	h("POST /_fake/accounts/{id}/restricted", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var body struct {
			Restricted bool `json:"restricted"`
		}
		if err := readJSON(r, &body); err != nil {
			return nil, err
		}
		return nil, s.SetRestricted(r.PathValue("id"), body.Restricted)
	})
	h("POST /_fake/accounts/{id}/inmail_credits", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var body struct {
			Credits int `json:"credits"`
		}
		if err := readJSON(r, &body); err != nil {
			return nil, err
		}
		return nil, s.SetInMailCredits(r.PathValue("id"), body.Credits)
	})
	h("POST /_fake/accounts/{id}/relations", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var body struct {
			ProviderID string `json:"provider_id"`
		}
		if err := readJSON(r, &body); err != nil {
			return nil, err
		}
		if body.ProviderID == "" {
			return nil, errors.New("provider_id is required")
		}
		id, err := s.AddRelation(r.PathValue("id"), body.ProviderID)
		if err != nil {
			return nil, err
		}
		return map[string]string{"provider_id": id}, nil
	})
	h("POST /_fake/people", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var p Person
		if err := readJSON(r, &p); err != nil {
			return nil, err
		}
		return map[string]string{"provider_id": s.AddPerson(p)}, nil
	})
	h("GET /_fake/invitations", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		out := s.Invitations(r.URL.Query().Get("account_id"))
		if out == nil {
			out = []Invitation{}
		}
		return out, nil
	})
	h("POST /_fake/invitations/{id}/accept", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		return nil, s.Accept(r.PathValue("id"))
	})
	h("GET /_fake/messages", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		out := s.Messages(r.URL.Query().Get("account_id"))
		if out == nil {
			out = []Message{}
		}
		return out, nil
	})
	h("POST /_fake/messages", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var body struct {
			AccountID string `json:"account_id"`
			From      string `json:"from"`
			Text      string `json:"text"`
		}
		if err := readJSON(r, &body); err != nil {
			return nil, err
		}
		if body.From == "" || body.Text == "" {
			return nil, errors.New("from and text are required")
		}
		chatID, msgID, err := s.IncomingMessage(body.AccountID, body.From, body.Text)
		if err != nil {
			return nil, err
		}
		return map[string]string{"chat_id": chatID, "message_id": msgID}, nil
	})
	h("GET /_fake/faults", func(http.ResponseWriter, *http.Request) (any, error) {
		return s.Faults(), nil
	})
	h("POST /_fake/faults", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var f Fault
		if err := readJSON(r, &f); err != nil {
			return nil, err
		}
		id, err := s.InjectFault(f)
		if err != nil {
			return nil, err
		}
		return map[string]string{"id": id}, nil
	})
	h("DELETE /_fake/faults", func(http.ResponseWriter, *http.Request) (any, error) {
		s.ClearFaults()
		return nil, nil
	})
	h("DELETE /_fake/faults/{id}", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		if !s.RemoveFault(r.PathValue("id")) {
			return nil, statusError{http.StatusNotFound, errors.New("no such fault")}
		}
		return nil, nil
	})
	h("POST /_fake/burst404", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var body struct {
			On bool `json:"on"`
		}
		if err := readJSON(r, &body); err != nil {
			return nil, err
		}
		s.SetBurst404(body.On)
		return nil, nil
	})
	h("POST /_fake/latency", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var body struct {
			Latency Duration `json:"latency"`
			Jitter  Duration `json:"jitter"`
		}
		if err := readJSON(r, &body); err != nil {
			return nil, err
		}
		s.SetLatencyJitter(time.Duration(body.Latency), time.Duration(body.Jitter))
		return nil, nil
	})
	h("GET /_fake/hosted", func(http.ResponseWriter, *http.Request) (any, error) {
		return s.HostedLinks(), nil
	})
	h("POST /_fake/hosted/{token}", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var body struct {
			Approve bool   `json:"approve"`
			Name    string `json:"name"`
		}
		if err := readJSON(r, &body); err != nil {
			return nil, err
		}
		return s.completeHosted(r.PathValue("token"), body.Approve, body.Name)
	})
}

// statusError carries an explicit admin status.
type statusError struct {
	status int
	err    error
}

func (e statusError) Error() string { return e.err.Error() }
func (e statusError) Unwrap() error { return e.err }

// readJSON decodes an admin request body; an empty body is an empty object.
func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("decoding JSON body: " + err.Error())
	}
	return nil
}
