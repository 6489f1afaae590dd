package fake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Actions name what a logged call did. An outside checker counts sends by
// these (ActionInvite, ActionStartChat, ActionInMail, ActionSendMessage,
// ActionViewProfile) together with Call.Applied.
const (
	ActionListAccounts        = "list_accounts"         // GET /accounts
	ActionGetAccount          = "get_account"           // GET /accounts/{id}
	ActionDeleteAccount       = "delete_account"        // DELETE /accounts/{id}
	ActionRestartAccount      = "restart_account"       // POST /accounts/{id}/restart
	ActionHostedLink          = "hosted_link"           // POST /hosted/accounts/link
	ActionCreateWebhook       = "create_webhook"        // POST /webhooks
	ActionListWebhooks        = "list_webhooks"         // GET /webhooks
	ActionDeleteWebhook       = "delete_webhook"        // DELETE /webhooks/{id}
	ActionOwnProfile          = "own_profile"           // GET /users/me
	ActionViewProfile         = "view_profile"          // GET /users/{identifier}, a profile visit
	ActionInvite              = "invite"                // POST /users/invite
	ActionListSentInvitations = "list_sent_invitations" // GET /users/invite/sent
	ActionCancelInvitation    = "cancel_invitation"     // DELETE /users/invite/sent/{id}
	ActionListRelations       = "list_relations"        // GET /users/relations
	ActionStartChat           = "start_chat"            // POST /chats without InMail
	ActionInMail              = "inmail"                // POST /chats with linkedin[inmail]=true
	ActionListChats           = "list_chats"            // GET /chats
	ActionSendMessage         = "send_message"          // POST /chats/{id}/messages
	ActionListMessages        = "list_messages"         // GET /chats/{id}/messages
	ActionInMailBalance       = "inmail_balance"        // GET /linkedin/inmail_balance
	ActionUnknown             = "unknown"               // any other /api/ route
)

// Call is one logged API request.
type Call struct {
	// Seq orders calls by arrival.
	Seq int64 `json:"seq"`
	// Time is the Clock's time at arrival.
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// Action is one of the Action constants; a start-chat with
	// linkedin[inmail]=true is ActionInMail.
	Action string `json:"action"`
	// AccountID is the account the call concerned ("" for tenant-wide calls).
	AccountID string `json:"account_id,omitempty"`
	// Recipient is the targeted person (provider id or identifier), if any.
	Recipient string `json:"recipient,omitempty"`
	// Status is the HTTP status answered; 0 when the connection was dropped
	// or the request hung until the client left.
	Status int `json:"status"`
	// Applied is true when the call changed state or performed a LinkedIn
	// action (an invitation sent, a message sent, a profile viewed…), even
	// if its answer was then lost.
	Applied bool `json:"applied"`
	// Fault names the injected fault that affected the call, if any.
	Fault string `json:"fault,omitempty"`
}

// AccountSpec describes an account for AddAccount. Empty fields get
// plausible generated values.
type AccountSpec struct {
	ID               string `json:"id,omitempty"`
	Name             string `json:"name,omitempty"`
	Status           string `json:"status,omitempty"` // source status, default OK
	MemberID         string `json:"member_id,omitempty"`
	PublicIdentifier string `json:"public_identifier,omitempty"`
	// InMailCredits, when set, gives the account a Premium seat with that
	// many credits; nil means no seat (InMails fail with
	// errors/insufficient_credits).
	InMailCredits *int `json:"inmail_credits,omitempty"`
}

// AccountState is a snapshot of an account.
type AccountState struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Status           string    `json:"status"`
	Restricted       bool      `json:"restricted"`
	MemberID         string    `json:"member_id"`
	PublicIdentifier string    `json:"public_identifier"`
	InMailCredits    *int      `json:"inmail_credits"`
	CreatedAt        time.Time `json:"created_at"`
}

// Person is a LinkedIn member the fake knows. Unknown identifiers are
// turned into people on first use, so any slug works in sandbox mode.
type Person struct {
	ProviderID       string `json:"provider_id,omitempty"`
	PublicIdentifier string `json:"public_identifier,omitempty"`
	FirstName        string `json:"first_name,omitempty"`
	LastName         string `json:"last_name,omitempty"`
	Headline         string `json:"headline,omitempty"`
	// OpenProfile members accept InMails without using credits.
	OpenProfile bool `json:"open_profile,omitempty"`
	// SalesNavID is the member's Sales Navigator lead id (ACw…): looking
	// the member up by it answers their member id, which differs, as on
	// LinkedIn. Generated when the member is first looked up by one.
	SalesNavID string `json:"sales_nav_id,omitempty"`
}

// Invitation states.
const (
	InvitationPending   = "pending"   // sent, awaiting an answer
	InvitationAccepted  = "accepted"  // accepted through Accept
	InvitationWithdrawn = "withdrawn" // canceled through the API
)

// Invitation is a snapshot of an invitation the fake has recorded.
type Invitation struct {
	ID         string    `json:"id"`
	AccountID  string    `json:"account_id"`
	ProviderID string    `json:"provider_id"`
	Message    string    `json:"message,omitempty"`
	SentAt     time.Time `json:"sent_at"`
	State      string    `json:"state"`
	// ChangedAt is when it was accepted or withdrawn.
	ChangedAt time.Time `json:"changed_at,omitzero"`
}

// Message is a snapshot of a chat message.
type Message struct {
	ID        string    `json:"id"`
	ChatID    string    `json:"chat_id"`
	AccountID string    `json:"account_id"`
	SenderID  string    `json:"sender_id"` // provider id of the sender
	Text      string    `json:"text"`
	Subject   string    `json:"subject,omitempty"`
	IsSender  bool      `json:"is_sender"`
	InMail    bool      `json:"inmail"`
	Time      time.Time `json:"time"`
}

// account is the fake's account record.
type account struct {
	id, name, memberID, publicID string
	status                       string
	restricted                   bool
	credits                      *int
	createdAt                    time.Time
}

func (a *account) snapshot() AccountState {
	st := AccountState{
		ID: a.id, Name: a.name, Status: a.status, Restricted: a.restricted,
		MemberID: a.memberID, PublicIdentifier: a.publicID, CreatedAt: a.createdAt,
	}
	if a.credits != nil {
		n := *a.credits
		st.InMailCredits = &n
	}
	return st
}

// person is the fake's member record.
type person struct {
	Person
}

func (p *person) fullName() string {
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

func (p *person) profileURL() string {
	return "https://www.linkedin.com/in/" + p.PublicIdentifier + "/"
}

// invitation is the fake's invitation record.
type invitation struct {
	Invitation
}

// relation is a first-degree connection of an account.
type relation struct {
	providerID string
	createdAt  time.Time
	connURN    string
}

// chat is a conversation of one account.
type chat struct {
	id, accountID string
	providerID    string
	attendees     []string // provider ids, excluding the account itself
	inmail        bool
	messages      []*Message
	updatedAt     time.Time
	// activity orders chats whose updatedAt ties (a frozen fake clock).
	activity int64
}

// Sentinel errors of the state helpers.
var (
	// ErrNoAccount means the account id is unknown.
	ErrNoAccount = errors.New("fake unipile: no such account")
	// ErrNoInvitation means the invitation id is unknown.
	ErrNoInvitation = errors.New("fake unipile: no such invitation")
	// ErrNotPending means the invitation was already accepted or withdrawn.
	ErrNotPending = errors.New("fake unipile: invitation is not pending")
	// ErrNoLink means the hosted-auth token is unknown.
	ErrNoLink = errors.New("fake unipile: no such hosted-auth link")
	// ErrLinkUsed means the hosted-auth link was already completed.
	ErrLinkUsed = errors.New("fake unipile: hosted-auth link already used")
	// ErrLinkExpired means the hosted-auth link's expiresOn has passed.
	ErrLinkExpired = errors.New("fake unipile: hosted-auth link expired")
)

// validSourceStatus lists the REST source statuses.
var validSourceStatus = map[string]bool{
	"OK": true, "CONNECTING": true, "CREDENTIALS": true, "PERMISSIONS": true, "STOPPED": true, "ERROR": true,
}

// randomID returns a 22-character URL-safe id like Unipile's.
func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("fake unipile: reading random bytes: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// memberIDFor derives a stable ACoAA… member id from a seed.
func memberIDFor(seed string) string {
	sum := sha256.Sum256([]byte("member:" + seed))
	enc := base64.RawURLEncoding.EncodeToString(sum[:])
	enc = strings.NewReplacer("-", "A", "_", "B").Replace(enc)
	return "ACoAA" + enc[:34]
}

// looksLikeProviderID reports whether s is a LinkedIn provider id rather
// than a public slug.
func looksLikeProviderID(s string) bool {
	return len(s) >= 10 && (strings.HasPrefix(s, "ACo") || strings.HasPrefix(s, "ACw") || strings.HasPrefix(s, "AE"))
}

// namesFromSlug turns "jane-doe-42" into ("Jane", "Doe").
func namesFromSlug(slug string) (string, string) {
	var words []string
	for _, w := range strings.FieldsFunc(slug, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		if w == "" || unicode.IsDigit(rune(w[0])) {
			continue
		}
		words = append(words, strings.ToUpper(w[:1])+w[1:])
	}
	switch len(words) {
	case 0:
		return "Sandbox", "Member"
	case 1:
		return words[0], ""
	default:
		return words[0], strings.Join(words[1:], " ")
	}
}

// resolvePerson finds or invents the member behind a slug or provider id.
// Callers hold s.mu.
func (s *Server) resolvePerson(identifier string) *person {
	identifier = strings.TrimSpace(identifier)
	if p, ok := s.people[identifier]; ok {
		return p
	}
	slug := strings.ToLower(identifier)
	if id, ok := s.slugs[slug]; ok {
		return s.people[id]
	}
	if id, ok := s.salesNav[identifier]; ok {
		return s.people[id]
	}
	p := &person{}
	if strings.HasPrefix(identifier, "ACw") && len(identifier) >= 10 {
		// A Sales Navigator lead id names a member whose member id is
		// another string (field failure P13).
		p.SalesNavID = identifier
		p.ProviderID = memberIDFor("salesnav:" + identifier)
		sum := sha256.Sum256([]byte(identifier))
		p.PublicIdentifier = "lead-" + strconv.FormatUint(binary.BigEndian.Uint64(sum[:8])%1_000_000_000, 36)
	} else if looksLikeProviderID(identifier) {
		p.ProviderID = identifier
		sum := sha256.Sum256([]byte(identifier))
		p.PublicIdentifier = "member-" + strconv.FormatUint(binary.BigEndian.Uint64(sum[:8])%1_000_000_000, 36)
	} else {
		p.PublicIdentifier = slug
		p.ProviderID = memberIDFor(slug)
	}
	p.FirstName, p.LastName = namesFromSlug(p.PublicIdentifier)
	p.Headline = "Sandbox member"
	s.storePerson(p)
	return p
}

// storePerson indexes p. Callers hold s.mu.
func (s *Server) storePerson(p *person) {
	s.people[p.ProviderID] = p
	s.slugs[strings.ToLower(p.PublicIdentifier)] = p.ProviderID
	if p.SalesNavID != "" {
		s.salesNav[p.SalesNavID] = p.ProviderID
	}
}

// AddPerson registers a member with chosen details and returns its provider
// id (generated from the slug when empty).
func (s *Server) AddPerson(p Person) string {
	if p.PublicIdentifier == "" {
		p.PublicIdentifier = "member-" + strings.ToLower(randomID()[:8])
	}
	if p.ProviderID == "" {
		p.ProviderID = memberIDFor(strings.ToLower(p.PublicIdentifier))
	}
	if p.FirstName == "" && p.LastName == "" {
		p.FirstName, p.LastName = namesFromSlug(p.PublicIdentifier)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.storePerson(&person{Person: p})
	return p.ProviderID
}

// AddAccount adds a connected LinkedIn account and returns its id. No
// webhook is sent: the account simply exists, as after an earlier connect.
func (s *Server) AddAccount(spec AccountSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addAccountLocked(spec).id
}

// addAccountLocked creates an account. Callers hold s.mu.
func (s *Server) addAccountLocked(spec AccountSpec) *account {
	a := &account{
		id:        spec.ID,
		name:      spec.Name,
		memberID:  spec.MemberID,
		publicID:  spec.PublicIdentifier,
		status:    strings.ToUpper(spec.Status),
		createdAt: s.clock.Now(),
	}
	if a.id == "" {
		a.id = randomID()
	}
	if a.name == "" {
		a.name = fmt.Sprintf("Sandbox User %d", len(s.acctOrder)+1)
	}
	if a.memberID == "" {
		a.memberID = memberIDFor("account:" + a.id)
	}
	if a.publicID == "" {
		a.publicID = "sandbox-" + strings.ToLower(a.id[:min(8, len(a.id))])
	}
	if !validSourceStatus[a.status] {
		a.status = "OK"
	}
	if spec.InMailCredits != nil {
		n := *spec.InMailCredits
		a.credits = &n
	}
	if old, ok := s.accounts[a.id]; ok {
		*old = *a
		return old
	}
	s.accounts[a.id] = a
	s.acctOrder = append(s.acctOrder, a.id)
	return a
}

// Accounts returns snapshots of all accounts in creation order.
func (s *Server) Accounts() []AccountState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AccountState, 0, len(s.acctOrder))
	for _, id := range s.acctOrder {
		out = append(out, s.accounts[id].snapshot())
	}
	return out
}

// Account returns a snapshot of one account.
func (s *Server) Account(id string) (AccountState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return AccountState{}, false
	}
	return a.snapshot(), true
}

// SetAccountStatus changes an account's source status and, when it really
// changes, sends an account_status webhook with that status as message.
// "DELETED" deletes the account (see DeleteAccount).
func (s *Server) SetAccountStatus(id, status string) error {
	status = strings.ToUpper(strings.TrimSpace(status))
	if status == "DELETED" {
		return s.DeleteAccount(id)
	}
	if !validSourceStatus[status] {
		return fmt.Errorf("fake unipile: setting status: unknown source status %q", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return fmt.Errorf("setting status of %s: %w", id, ErrNoAccount)
	}
	if a.status == status {
		return nil
	}
	a.status = status
	s.emitAccountStatusLocked(a.id, status)
	return nil
}

// SetRestricted marks an account as restricted by LinkedIn: its actions then
// answer 403 errors/account_restricted. No webhook exists for this.
func (s *Server) SetRestricted(id string, restricted bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return fmt.Errorf("setting restriction of %s: %w", id, ErrNoAccount)
	}
	a.restricted = restricted
	return nil
}

// DeleteAccount removes an account, as a deletion in the dashboard would,
// and sends an account_status webhook with message DELETED.
func (s *Server) DeleteAccount(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.deleteAccountLocked(id) {
		return fmt.Errorf("deleting %s: %w", id, ErrNoAccount)
	}
	return nil
}

// deleteAccountLocked removes the account and emits DELETED. Callers hold
// s.mu.
func (s *Server) deleteAccountLocked(id string) bool {
	if _, ok := s.accounts[id]; !ok {
		return false
	}
	delete(s.accounts, id)
	for i, v := range s.acctOrder {
		if v == id {
			s.acctOrder = append(s.acctOrder[:i], s.acctOrder[i+1:]...)
			break
		}
	}
	s.emitAccountStatusLocked(id, "DELETED")
	return true
}

// SetInMailCredits sets an account's Premium InMail credits (giving it a
// seat if it had none). Zero credits make InMails fail with
// errors/insufficient_credits.
func (s *Server) SetInMailCredits(id string, credits int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return fmt.Errorf("setting InMail credits of %s: %w", id, ErrNoAccount)
	}
	n := max(credits, 0)
	a.credits = &n
	return nil
}

// InMailCredits returns an account's credits and whether it has a seat.
func (s *Server) InMailCredits(id string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok || a.credits == nil {
		return 0, false
	}
	return *a.credits, true
}

// AddRelation makes providerID (or a slug) a first-degree connection of the
// account without any webhook, as an existing connection would be.
func (s *Server) AddRelation(accountID, identifier string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[accountID]; !ok {
		return "", fmt.Errorf("adding relation to %s: %w", accountID, ErrNoAccount)
	}
	p := s.resolvePerson(identifier)
	s.addRelationLocked(accountID, p.ProviderID)
	return p.ProviderID, nil
}

// addRelationLocked records a relation once. Callers hold s.mu.
func (s *Server) addRelationLocked(accountID, providerID string) {
	if s.isRelationLocked(accountID, providerID) {
		return
	}
	s.relations[accountID] = append(s.relations[accountID], &relation{
		providerID: providerID,
		createdAt:  s.clock.Now(),
		connURN:    "urn:li:fsd_connection:" + strings.ToLower(randomID()[:12]),
	})
}

// isRelationLocked reports a first-degree connection. Callers hold s.mu.
func (s *Server) isRelationLocked(accountID, providerID string) bool {
	for _, r := range s.relations[accountID] {
		if r.providerID == providerID {
			return true
		}
	}
	return false
}

// Invitations returns every invitation of the account (all accounts when
// empty), in sending order, whatever its state.
func (s *Server) Invitations(accountID string) []Invitation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invitation
	for _, id := range s.invOrder {
		inv := s.invitations[id]
		if accountID == "" || inv.AccountID == accountID {
			out = append(out, inv.Invitation)
		}
	}
	return out
}

// Accept makes the invitee accept a pending invitation: the invitation
// leaves the sent list, a relation appears, and a new_relation webhook
// (source users) is sent, after Options.RelationWebhookDelay. When the
// invitation carried a note, LinkedIn opens a chat holding only that note,
// so the fake does too and echoes it on the messaging webhook.
func (s *Server) Accept(invitationID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invitations[invitationID]
	if !ok {
		return fmt.Errorf("accepting %s: %w", invitationID, ErrNoInvitation)
	}
	if inv.State != InvitationPending {
		return fmt.Errorf("accepting %s (%s): %w", invitationID, inv.State, ErrNotPending)
	}
	a, ok := s.accounts[inv.AccountID]
	if !ok {
		return fmt.Errorf("accepting %s: %w", invitationID, ErrNoAccount)
	}
	now := s.clock.Now()
	inv.State = InvitationAccepted
	inv.ChangedAt = now
	s.addRelationLocked(a.id, inv.ProviderID)
	p := s.resolvePerson(inv.ProviderID)
	s.emitNewRelationLocked(a, p)
	if inv.Message != "" {
		c := s.chatWithLocked(a.id, []string{p.ProviderID}, false)
		m := s.appendMessageLocked(c, a.memberID, inv.Message, "", true)
		s.emitMessageLocked(a, c, m)
	}
	return nil
}

// AcceptFrom accepts the account's pending invitation to identifier.
func (s *Server) AcceptFrom(accountID, identifier string) error {
	s.mu.Lock()
	p := s.resolvePerson(identifier)
	id := ""
	for _, invID := range s.invOrder {
		inv := s.invitations[invID]
		if inv.AccountID == accountID && inv.ProviderID == p.ProviderID && inv.State == InvitationPending {
			id = invID
		}
	}
	s.mu.Unlock()
	if id == "" {
		return fmt.Errorf("accepting invitation from %s to %s: %w", accountID, identifier, ErrNoInvitation)
	}
	return s.Accept(id)
}

// IncomingMessage delivers a message from a member to the account: it is
// added to their chat (created if needed) and a message_received webhook
// (source messaging) is sent. It returns the chat and message ids.
func (s *Server) IncomingMessage(accountID, from, text string) (chatID, messageID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return "", "", fmt.Errorf("incoming message for %s: %w", accountID, ErrNoAccount)
	}
	p := s.resolvePerson(from)
	c := s.chatWithLocked(a.id, []string{p.ProviderID}, false)
	m := s.appendMessageLocked(c, p.ProviderID, text, "", false)
	s.emitMessageLocked(a, c, m)
	return c.id, m.ID, nil
}

// chatWithLocked finds the account's chat with exactly these attendees, or
// starts one. InMails always open a new thread. Callers hold s.mu.
func (s *Server) chatWithLocked(accountID string, attendees []string, inmail bool) *chat {
	if !inmail {
		for _, id := range s.chatOrder {
			c := s.chats[id]
			if c.accountID == accountID && !c.inmail && sameSet(c.attendees, attendees) {
				return c
			}
		}
	}
	c := &chat{
		id:         randomID(),
		accountID:  accountID,
		providerID: "2-" + randomID(),
		attendees:  append([]string(nil), attendees...),
		inmail:     inmail,
		updatedAt:  s.clock.Now(),
	}
	s.chats[c.id] = c
	s.chatOrder = append(s.chatOrder, c.id)
	return c
}

// appendMessageLocked adds a message to c. Callers hold s.mu.
func (s *Server) appendMessageLocked(c *chat, senderID, text, subject string, isSender bool) *Message {
	now := s.clock.Now()
	m := &Message{
		ID:        randomID(),
		ChatID:    c.id,
		AccountID: c.accountID,
		SenderID:  senderID,
		Text:      text,
		Subject:   subject,
		IsSender:  isSender,
		InMail:    c.inmail && len(c.messages) == 0,
		Time:      now,
	}
	c.messages = append(c.messages, m)
	c.updatedAt = now
	s.seq++
	c.activity = s.seq
	return m
}

// Messages returns every message of the account (all accounts when empty),
// oldest first per chat, chats in creation order.
func (s *Server) Messages(accountID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.chatOrder {
		c := s.chats[id]
		if accountID != "" && c.accountID != accountID {
			continue
		}
		for _, m := range c.messages {
			out = append(out, *m)
		}
	}
	return out
}

// Calls returns a copy of the call log in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
	}
	return out
}

// ResetCalls empties the call log.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// sameSet compares two small id lists ignoring order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, v := range a {
		seen[v]++
	}
	for _, v := range b {
		if seen[v] == 0 {
			return false
		}
		seen[v]--
	}
	return true
}
