package unipile_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/unipile"
)

func TestFlexString(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`"abc"`:                "abc",
		`7224673722165518336`:  "7224673722165518336", // beyond float64 precision
		`-12.50`:               "-12.50",
		`true`:                 "true",
		`null`:                 "",
		`"with \"escape\""`:    `with "escape"`,
		`12345678901234567890`: "12345678901234567890",
	}
	for in, want := range cases {
		var v unipile.FlexString
		if err := json.Unmarshal([]byte(in), &v); err != nil || string(v) != want {
			t.Errorf("FlexString(%s) = %q, %v; want %q", in, v, err, want)
		}
	}
	for _, in := range []string{`{}`, `[1]`} {
		var v unipile.FlexString
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("FlexString(%s) accepted", in)
		}
	}
	// Missing field stays empty; marshal is a plain string.
	var s struct {
		ID unipile.FlexString `json:"id"`
	}
	if err := json.Unmarshal([]byte(`{}`), &s); err != nil || s.ID != "" {
		t.Errorf("missing field: %q %v", s.ID, err)
	}
	b, _ := json.Marshal(unipile.FlexString("x"))
	if string(b) != `"x"` {
		t.Errorf("marshal = %s", b)
	}
}

func TestFlexBool(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		`true`: true, `false`: false, `1`: true, `0`: false, `null`: false,
		`"true"`: true, `"FALSE"`: false, `"1"`: true, `"0"`: false, `""`: false, `2`: true,
	}
	for in, want := range cases {
		var v unipile.FlexBool
		if err := json.Unmarshal([]byte(in), &v); err != nil || bool(v) != want {
			t.Errorf("FlexBool(%s) = %v, %v; want %v", in, v, err, want)
		}
	}
	var v unipile.FlexBool
	if err := json.Unmarshal([]byte(`"maybe"`), &v); err == nil {
		t.Error(`FlexBool("maybe") accepted`)
	}
}

func TestFlexInt(t *testing.T) {
	t.Parallel()
	cases := map[string]int64{`42`: 42, `"42"`: 42, `3.0`: 3, `null`: 0, `""`: 0, `-7`: -7, `"150"`: 150}
	for in, want := range cases {
		var v unipile.FlexInt
		if err := json.Unmarshal([]byte(in), &v); err != nil || int64(v) != want {
			t.Errorf("FlexInt(%s) = %v, %v; want %v", in, v, err, want)
		}
	}
	for _, in := range []string{`3.5`, `"abc"`, `true`} {
		var v unipile.FlexInt
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("FlexInt(%s) accepted", in)
		}
	}
	// Pointer fields distinguish null from zero (InMail balance).
	var b unipile.InMailBalance
	if err := json.Unmarshal([]byte(`{"premium":"5","recruiter":null,"sales_navigator":0}`), &b); err != nil {
		t.Fatal(err)
	}
	if b.Premium == nil || *b.Premium != 5 || b.Recruiter != nil || b.SalesNavigator == nil || b.Total() != 5 {
		t.Errorf("balance = %+v", b)
	}
}

func TestFlexTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 7, 1, 12, 50, 22, 378e6, time.UTC)
	cases := map[string]time.Time{
		`"2026-07-01T12:50:22.378Z"`:      want,
		`"2026-07-01T14:50:22.378+02:00"`: want,
		`1782910222378`:                   want,
		`"1782910222378"`:                 want,
		`1782910222`:                      want.Truncate(time.Second),
		`"2026-07-01T12:50:22.378"`:       want,
		`null`:                            {},
		`""`:                              {},
	}
	for in, w := range cases {
		var v unipile.FlexTime
		if err := json.Unmarshal([]byte(in), &v); err != nil || !v.Equal(w) {
			t.Errorf("FlexTime(%s) = %v, %v; want %v", in, v.Time, err, w)
		}
	}
	var v unipile.FlexTime
	if err := json.Unmarshal([]byte(`"yesterday"`), &v); err == nil {
		t.Error("FlexTime(yesterday) accepted")
	}
	b, _ := json.Marshal(unipile.FlexTime{Time: want})
	if string(b) != `"2026-07-01T12:50:22.378Z"` {
		t.Errorf("marshal = %s", b)
	}
	b, _ = json.Marshal(unipile.FlexTime{})
	if string(b) != `null` {
		t.Errorf("marshal zero = %s", b)
	}
}

func TestOneOrMany(t *testing.T) {
	t.Parallel()
	var m unipile.OneOrMany[unipile.Attachment]
	if err := json.Unmarshal([]byte(`{"id":"a","size":{"height":"150","width":"150"},"sticker":"false","mimetype":"image/jpeg"}`), &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || m[0].ID != "a" || m[0].Size == nil || m[0].Size.Height != 150 || m[0].Sticker {
		t.Errorf("object form = %+v", m)
	}
	if err := json.Unmarshal([]byte(`[{"id":1},{"id":"2"}]`), &m); err != nil || len(m) != 2 || m[0].ID != "1" {
		t.Errorf("array form = %+v, %v", m, err)
	}
	if err := json.Unmarshal([]byte(`null`), &m); err != nil || m != nil {
		t.Errorf("null form = %+v, %v", m, err)
	}
}

func TestAccountDecoding(t *testing.T) {
	t.Parallel()
	body := `{"object":"Account","id":"fFl27we2Rqa0eSbwIKX9hw","name":"N","type":"LINKEDIN",
	 "created_at":"2026-07-01T12:50:22.378Z",
	 "connection_params":{"im":{"id":"ACoAAAcdhtIB","publicIdentifier":"slug","username":"N",
	   "connection_method":"credentials","premiumId":null,"premiumFeatures":[],"premiumContractId":null,
	   "organizations":[{"name":"o","messaging_enabled":true}],"proxy":{"country":"ES"}}},
	 "sources":[{"id":"fFl27we2Rqa0eSbwIKX9hw_MESSAGING","status":"OK"}],"groups":[],"extra":{"x":1}}`
	var a unipile.Account
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if a.SourceStatus() != unipile.StatusOK || a.MemberID() != "ACoAAAcdhtIB" || a.CreatedAt.IsZero() {
		t.Errorf("account = %+v", a)
	}
	a.Sources = append(a.Sources, unipile.AccountSource{Status: "credentials"})
	if a.SourceStatus() != unipile.StatusCredentials {
		t.Errorf("mixed sources status = %q", a.SourceStatus())
	}
	if (unipile.Account{}).SourceStatus() != "" || (unipile.Account{}).MemberID() != "" {
		t.Error("empty account should have no status or member id")
	}
}

func TestUserProfileDegree(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"FIRST_DEGREE": 1, "DISTANCE_2": 2, "third_degree": 3, "OUT_OF_NETWORK": 0, "": 0} {
		if got := (unipile.UserProfile{NetworkDistance: in}).Degree(); got != want {
			t.Errorf("Degree(%q) = %d, want %d", in, got, want)
		}
	}
	var p unipile.UserProfile
	if err := json.Unmarshal([]byte(`{"provider_id":"ACoAAx","member_urn":123456,"is_relationship":"true","connections_count":"500","invitation":{"type":"SENT","status":"PENDING"}}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.MemberURN != "123456" || !bool(p.IsRelationship) || p.ConnectionsCount != 500 || p.Invitation.Status != "PENDING" {
		t.Errorf("profile = %+v", p)
	}
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	// Account status.
	ev, err := unipile.ParseWebhook([]byte(`{"AccountStatus":{"account_id":"h_EKCy2lRLef5NzHp0iw4A","account_type":"LINKEDIN","message":"CREDENTIALS"}}`))
	if err != nil || ev.Name != unipile.EventAccountStatus || ev.AccountStatus.Message != unipile.StatusCredentials || ev.AccountStatus.AccountID != "h_EKCy2lRLef5NzHp0iw4A" {
		t.Errorf("account status = %+v, %v", ev, err)
	}
	// New relation (doc shape).
	ev, err = unipile.ParseWebhook([]byte(`{"event":"new_relation","account_id":"SDF4","account_type":"LINKEDIN","webhook_name":"",
	  "user_full_name":"Julien","user_provider_id":"ACoAAAh_F","user_public_identifier":"julien","user_profile_url":"https://www.linkedin.com/in/julien/","user_picture_url":"u"}`))
	if err != nil || ev.NewRelation == nil || ev.NewRelation.UserProviderID != "ACoAAAh_F" {
		t.Errorf("new relation = %+v, %v", ev, err)
	}
	// Message, doc shape: attachments as an object, no is_sender.
	ev, err = unipile.ParseWebhook([]byte(`{"account_id":"dfX","account_type":"LINKEDIN","event":"message_received","chat_id":"R8J",
	  "timestamp":"2023-09-24T13:49:07.965Z","webhook_name":"w","message_id":"ykm","message":"Hello World !",
	  "sender":{"attendee_id":"1","attendee_name":"Kim","attendee_provider_id":"ACoAAA","attendee_profile_url":"u"},
	  "attendees":[{"attendee_id":"1","attendee_name":"Kim","attendee_provider_id":"ACoAAA","attendee_profile_url":"u"}],
	  "attachments":{"id":"a","size":{"height":"150","width":"150"},"sticker":"false","unavailable":"false","mimetype":"image/jpeg","type":"img","url":"att://x"}}`))
	if err != nil || ev.Message == nil || len(ev.Message.Attachments) != 1 || ev.Message.FromSelf() || ev.Message.Timestamp.IsZero() {
		t.Errorf("doc message = %+v, %v", ev.Message, err)
	}
	// Message, live shape: attachments array, booleans, account_info.
	live := `{"event":"message_received","account_id":"acc","account_type":"LINKEDIN",
	  "account_info":{"type":"LINKEDIN","feature":"classic","user_id":"ACoAAself"},"webhook_name":"n","chat_id":"c",
	  "attendees":[{"attendee_id":"x","attendee_provider_id":"ACoAAsender","attendee_name":"S","attendee_profile_url":"u",
	    "attendee_specifics":{"provider":"LINKEDIN","member_urn":"urn:li:member:1","occupation":"o","is_company":false,"network_distance":"DISTANCE_1"},
	    "attendee_public_identifier":null}],
	  "sender":{"attendee_id":"x","attendee_provider_id":"ACoAAself","attendee_name":"Me"},
	  "subject":null,"message":"body","message_id":"m","timestamp":"2026-07-06T09:43:27.002Z",
	  "attachments":[],"is_sender":true,"provider_chat_id":"2-a","provider_message_id":"2-b",
	  "is_event":0,"chat_pinned":0,"quoted":null,"reply_to":null,"is_forwarded":null,"chat_content_type":null,
	  "message_type":"INMAIL","is_group":false,"folder":["INBOX","INBOX_LINKEDIN_CLASSIC"],"event_type":null}`
	ev, err = unipile.ParseWebhook([]byte(live))
	if err != nil || ev.Message == nil || !ev.Message.FromSelf() || ev.Message.MessageType != "INMAIL" || len(ev.Message.Folder) != 2 {
		t.Errorf("live message = %+v, %v", ev.Message, err)
	}
	if ev.Message.Attendees[0].AttendeeSpecifics.NetworkDistance != "DISTANCE_1" {
		t.Errorf("attendee specifics lost")
	}
	// Direction by member id when is_sender is absent.
	var m unipile.MessageEvent
	_ = json.Unmarshal([]byte(`{"account_info":{"user_id":"ACoAAself"},"sender":{"attendee_provider_id":"ACoAAself"}}`), &m)
	if !m.FromSelf() {
		t.Error("FromSelf by member id failed")
	}
	// Unknown event: no error, nothing decoded, name kept.
	ev, err = unipile.ParseWebhook([]byte(`{"event":"message_reaction_v9","account_id":"a"}`))
	if err != nil || ev.Name != "message_reaction_v9" || ev.Message != nil || len(ev.Raw) == 0 {
		t.Errorf("unknown event = %+v, %v", ev, err)
	}
	// Malformed bodies.
	for _, bad := range []string{`not json`, `[]`, `null`, `{"AccountStatus":{"account_id":"a"}}`, `{"event":"new_relation","account_id":"a"}`} {
		if _, err := unipile.ParseWebhook([]byte(bad)); err == nil {
			t.Errorf("ParseWebhook(%s) accepted", bad)
		}
	}
}

func TestParseHostedAuthNotification(t *testing.T) {
	t.Parallel()
	n, err := unipile.ParseHostedAuthNotification([]byte(`{"status":"CREATION_SUCCESS","account_id":"e54m8LR22bA7G5qsAc8w","name":"myuser1234"}`))
	if err != nil || n.Status != unipile.StatusCreationSuccess || n.AccountID != "e54m8LR22bA7G5qsAc8w" || n.Name != "myuser1234" {
		t.Errorf("notification = %+v, %v", n, err)
	}
	if _, err := unipile.ParseHostedAuthNotification([]byte(`{"status":"RECONNECTED"}`)); err == nil {
		t.Error("notification without account accepted")
	}
}
