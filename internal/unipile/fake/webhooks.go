package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Delivery kinds.
const (
	// DeliveryWebhook is a POST to a registered webhook's request_url.
	DeliveryWebhook = "webhook"
	// DeliveryNotify is a hosted-auth notify_url callback.
	DeliveryNotify = "notify"
)

// Delivery records one event sent (or being sent) to a receiver.
type Delivery struct {
	ID int64 `json:"id"`
	// Kind is DeliveryWebhook or DeliveryNotify.
	Kind string `json:"kind"`
	// WebhookID and Source identify the webhook (empty for notify).
	WebhookID string `json:"webhook_id,omitempty"`
	Source    string `json:"source,omitempty"`
	// Event is the account_status message, the event name, or the notify
	// status.
	Event     string          `json:"event"`
	AccountID string          `json:"account_id"`
	URL       string          `json:"url"`
	Body      json.RawMessage `json:"body"`
	// Headers are the custom headers sent (none for notify).
	Headers map[string]string `json:"headers,omitempty"`
	// Attempts counts HTTP attempts so far.
	Attempts int `json:"attempts"`
	// Status is the last HTTP status received (0 if none).
	Status int `json:"status"`
	// Err is the last transport error, if any.
	Err string `json:"error,omitempty"`
	// Delivered is true once a receiver answered exactly 200.
	Delivered bool `json:"delivered"`
	// Done is true once the fake stopped trying.
	Done     bool      `json:"done"`
	QueuedAt time.Time `json:"queued_at"`
}

// webhook is a registered webhook.
type webhook struct {
	id         string
	name       string
	source     string
	requestURL string
	format     string
	accountIDs []string
	enabled    bool
	headers    []headerKV
	events     []string
	data       json.RawMessage
}

// headerKV is one custom header, in Unipile's {key, value} shape.
type headerKV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// wants reports whether w receives an event of source for accountID.
func (w *webhook) wants(source, accountID, event string) bool {
	if !w.enabled || w.source != source {
		return false
	}
	if len(w.accountIDs) > 0 {
		found := false
		for _, id := range w.accountIDs {
			found = found || id == accountID
		}
		if !found {
			return false
		}
	}
	if source == "messaging" && event != "" {
		events := w.events
		if len(events) == 0 {
			events = []string{"message_received"}
		}
		found := false
		for _, e := range events {
			found = found || e == event
		}
		return found
	}
	return true
}

// json renders the webhook as listed by GET /webhooks.
func (w *webhook) json() map[string]any {
	headers := w.headers
	if headers == nil {
		headers = []headerKV{}
	}
	ids := w.accountIDs
	if ids == nil {
		ids = []string{}
	}
	m := map[string]any{
		"object":      "Webhook",
		"id":          w.id,
		"name":        w.name,
		"source":      w.source,
		"request_url": w.requestURL,
		"format":      w.format,
		"account_ids": ids,
		"enabled":     w.enabled,
		"headers":     headers,
	}
	if w.events != nil {
		m["events"] = w.events
	}
	if len(w.data) > 0 {
		m["data"] = w.data
	}
	return m
}

// Deliveries returns a copy of every delivery so far, in queueing order.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = *d
		out[i].Body = append(json.RawMessage(nil), d.Body...)
	}
	return out
}

// WaitIdle blocks until no delivery is queued, delayed, retrying or in
// flight, or ctx ends. Anything that queues a delivery (a state helper or an
// API call) has queued it before it returns, so WaitIdle right after it sees
// the work.
func (s *Server) WaitIdle(ctx context.Context) error {
	if err := s.pending.wait(ctx); err != nil {
		return fmt.Errorf("waiting for webhook deliveries: %w", err)
	}
	return nil
}

// tracker counts pending deliveries and signals when there are none.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n == 0
}

func (t *tracker) init() {
	t.idle = make(chan struct{})
	close(t.idle)
}

func (t *tracker) add() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 {
		close(t.idle)
	}
}

func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	ch := t.idle
	t.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deliveryQueue sends one receiver's deliveries one at a time, in order, so
// a webhook sees CREDENTIALS before RECONNECTED and an echo before the
// reply, retries included.
type deliveryQueue struct {
	items   []*Delivery
	running bool
}

// queueLocked records deliveries for the receiver named key and sends them
// in order after delay, on that receiver's queue. Callers hold s.mu.
func (s *Server) queueLocked(key string, delay time.Duration, ds ...*Delivery) {
	if len(ds) == 0 {
		return
	}
	now := s.clock.Now()
	closed := s.ctx.Err() != nil // Close cancels under s.mu
	for _, d := range ds {
		s.seq++
		d.ID = s.seq
		d.QueuedAt = now
		if closed {
			d.Done, d.Err = true, "fake closed before delivery"
		}
		s.deliveries = append(s.deliveries, d)
	}
	if closed {
		// Start nothing that Close would have to wait for.
		return
	}
	if delay <= 0 {
		s.enqueueLocked(key, ds)
		return
	}
	s.pending.add() // the delay itself counts as pending work
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer s.pending.done()
		ok := s.sleep(delay)
		s.mu.Lock()
		defer s.mu.Unlock()
		if !ok || s.ctx.Err() != nil {
			for _, d := range ds {
				d.Done, d.Err = true, "fake closed before delivery"
			}
			return
		}
		s.enqueueLocked(key, ds)
	}()
}

// enqueueLocked appends to the receiver's queue and starts its worker if
// idle. Callers hold s.mu.
func (s *Server) enqueueLocked(key string, ds []*Delivery) {
	q := s.queues[key]
	if q == nil {
		q = &deliveryQueue{}
		s.queues[key] = q
	}
	for range ds {
		s.pending.add()
	}
	q.items = append(q.items, ds...)
	if q.running {
		return
	}
	q.running = true
	s.bg.Add(1)
	go s.drain(q)
}

// drain delivers a queue's items until it is empty.
func (s *Server) drain(q *deliveryQueue) {
	defer s.bg.Done()
	for {
		s.mu.Lock()
		if len(q.items) == 0 {
			q.running = false
			s.mu.Unlock()
			return
		}
		d := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		s.mu.Unlock()
		s.deliver(d)
		s.pending.done()
	}
}

// sleep waits d, or returns false when the fake closes first.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// finish marks a delivery as no longer being tried.
func (s *Server) finish(d *Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.Done = true
	if d.Attempts == 0 && d.Err == "" {
		d.Err = "fake closed before delivery"
	}
}

// retries returns how many retries follow a failed first attempt.
func (s *Server) retries() int {
	switch n := s.opts.WebhookRetries; {
	case n < 0:
		return 0
	case n == 0:
		return DefaultWebhookRetries
	default:
		return n
	}
}

// deliver sends one delivery, retrying with an incremental delay until a
// receiver answers exactly 200 (Unipile treats anything else, even 201 or
// 204, as a failure).
func (s *Server) deliver(d *Delivery) {
	backoff := s.opts.RetryBackoff
	if backoff <= 0 {
		backoff = DefaultRetryBackoff
	}
	retries := s.retries()
	if s.ctx.Err() != nil {
		s.finish(d)
		return
	}
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 && !s.sleep(time.Duration(attempt)*backoff) {
			break
		}
		status, err := s.post(d)
		s.mu.Lock()
		d.Attempts++
		d.Status = status
		d.Err = ""
		if err != nil {
			d.Err = err.Error()
		}
		d.Delivered = status == http.StatusOK
		s.mu.Unlock()
		if status == http.StatusOK || s.ctx.Err() != nil {
			break
		}
	}
	s.finish(d)
}

// post makes one HTTP attempt and returns the status.
func (s *Server) post(d *Delivery) (int, error) {
	timeout := s.opts.WebhookTimeout
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, fmt.Errorf("building delivery request: %w", err)
	}
	if d.Kind == DeliveryNotify {
		// The notify callback is plain JSON and carries no custom headers.
		req.Header.Set("Content-Type", "application/json")
	} else {
		// Webhooks created by API have no JSON content type unless the
		// creator listed one; live deliveries were labelled form-encoded.
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range d.Headers {
			req.Header.Set(k, v)
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "axios/1.7.7")
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting delivery: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// webhookDelivery builds a delivery of body to w.
func webhookDelivery(w *webhook, event, accountID string, body []byte) *Delivery {
	h := map[string]string{}
	for _, kv := range w.headers {
		if kv.Key != "" {
			h[kv.Key] = kv.Value
		}
	}
	return &Delivery{
		Kind: DeliveryWebhook, WebhookID: w.id, Source: w.source, Event: event,
		AccountID: accountID, URL: w.requestURL, Body: body, Headers: h,
	}
}

// mustJSON marshals payloads built from maps of plain values.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fake unipile: encoding payload: %v", err))
	}
	return b
}

// emitAccountStatusLocked sends {"AccountStatus":{…}} to account_status
// webhooks. Callers hold s.mu.
func (s *Server) emitAccountStatusLocked(accountID string, messages ...string) {
	for _, w := range s.webhooks {
		if !w.wants("account_status", accountID, "") {
			continue
		}
		var ds []*Delivery
		for _, msg := range messages {
			body := mustJSON(map[string]any{"AccountStatus": map[string]any{
				"account_id":   accountID,
				"account_type": "LINKEDIN",
				"message":      msg,
			}})
			ds = append(ds, webhookDelivery(w, msg, accountID, body))
		}
		s.queueLocked("webhook:"+w.id, 0, ds...)
	}
}

// emitNewRelationLocked sends new_relation to users webhooks. Callers hold
// s.mu.
func (s *Server) emitNewRelationLocked(a *account, p *person) {
	for _, w := range s.webhooks {
		if !w.wants("users", a.id, "") {
			continue
		}
		body := mustJSON(map[string]any{
			"event":                  "new_relation",
			"account_id":             a.id,
			"account_type":           "LINKEDIN",
			"webhook_name":           w.name,
			"user_full_name":         p.fullName(),
			"user_provider_id":       p.ProviderID,
			"user_public_identifier": p.PublicIdentifier,
			"user_profile_url":       p.profileURL(),
			"user_picture_url":       "https://media.licdn.com/dms/image/sandbox/" + p.PublicIdentifier,
		})
		s.queueLocked("webhook:"+w.id, s.opts.RelationWebhookDelay, webhookDelivery(w, "new_relation", a.id, body))
	}
}

// attendeeJSON renders a chat attendee in the live webhook shape.
func (s *Server) attendeeJSON(a *account, providerID string) map[string]any {
	name := a.name
	slug := any(a.publicID)
	distance := "SELF"
	if providerID != a.memberID {
		p := s.resolvePerson(providerID)
		name = p.fullName()
		slug = nil // live captures carry null here
		distance = "DISTANCE_1"
		if !s.isRelationLocked(a.id, providerID) {
			distance = "DISTANCE_2"
		}
	}
	return map[string]any{
		"attendee_id":                "att_" + providerID,
		"attendee_provider_id":       providerID,
		"attendee_name":              name,
		"attendee_profile_url":       "https://www.linkedin.com/in/" + providerID,
		"attendee_public_identifier": slug,
		"attendee_specifics": map[string]any{
			"provider":         "LINKEDIN",
			"member_urn":       "urn:li:member:" + fmt.Sprint(len(providerID)*7919),
			"occupation":       "Sandbox member",
			"is_company":       false,
			"network_distance": distance,
		},
	}
}

// emitMessageLocked sends message_received (with boolean is_sender) to
// messaging webhooks; own sends echo back too. Callers hold s.mu.
func (s *Server) emitMessageLocked(a *account, c *chat, m *Message) {
	var attendees []any
	for _, id := range c.attendees {
		attendees = append(attendees, s.attendeeJSON(a, id))
	}
	sender := s.attendeeJSON(a, m.SenderID)
	msgType := "MESSAGE"
	if m.InMail {
		msgType = "INMAIL"
	}
	var subject any
	if m.Subject != "" {
		subject = m.Subject
	}
	for _, w := range s.webhooks {
		if !w.wants("messaging", a.id, "message_received") {
			continue
		}
		body := mustJSON(map[string]any{
			"event":        "message_received",
			"account_id":   a.id,
			"account_type": "LINKEDIN",
			"account_info": map[string]any{
				"type":    "LINKEDIN",
				"feature": "classic",
				"user_id": a.memberID,
			},
			"webhook_name":        w.name,
			"chat_id":             c.id,
			"attendees":           attendees,
			"sender":              sender,
			"subject":             subject,
			"message":             m.Text,
			"message_id":          m.ID,
			"timestamp":           isoMillis(m.Time),
			"attachments":         []any{},
			"is_sender":           m.IsSender,
			"provider_chat_id":    c.providerID,
			"provider_message_id": "2-" + m.ID,
			"is_event":            0,
			"chat_pinned":         0,
			"quoted":              nil,
			"reply_to":            nil,
			"is_forwarded":        nil,
			"chat_content_type":   nil,
			"message_type":        msgType,
			"is_group":            len(c.attendees) > 1,
			"folder":              []string{"INBOX", "INBOX_LINKEDIN_CLASSIC"},
			"event_type":          nil,
		})
		s.queueLocked("webhook:"+w.id, 0, webhookDelivery(w, "message_received", a.id, body))
	}
}

// emitNotifyLocked posts the hosted-auth callback. Callers hold s.mu.
func (s *Server) emitNotifyLocked(notifyURL, status, accountID, name string) *Delivery {
	if strings.TrimSpace(notifyURL) == "" {
		return nil
	}
	d := &Delivery{
		Kind: DeliveryNotify, Event: status, AccountID: accountID, URL: notifyURL,
		Body: mustJSON(map[string]any{"status": status, "account_id": accountID, "name": name}),
	}
	s.queueLocked("notify:"+notifyURL, 0, d)
	return d
}

// isoMillis formats t like Unipile: UTC with milliseconds.
func isoMillis(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
