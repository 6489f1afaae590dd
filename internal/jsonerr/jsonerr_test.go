package jsonerr

import (
	"bytes"
	"encoding/json"
	"testing"
)

type prospects struct {
	Prospects []map[string]json.RawMessage `json:"prospects"`
}

type settings struct {
	Tier string `json:"tier"`
	Caps *struct {
		InviteDaily *int `json:"invite_daily"`
	} `json:"caps"`
	Steps []struct {
		Text string `json:"text"`
	} `json:"steps"`
}

func TestDescribeSpeaksInJSONPaths(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body string
		into       any
		want       string
	}{
		{"AnArrayForTheBodyObject", `[{"first_name": "Ada"}]`, &prospects{}, "body: must be an object, not an array"},
		{"AnObjectForTheProspectsArray", `{"prospects": {"a": 1}}`, &prospects{}, "prospects: must be an array, not an object"},
		{"ANumberForAProspect", `{"prospects": [{}, 7]}`, &prospects{}, "prospects[1]: must be an object, not number"},
		{"ANumberForAString", `{"tier": 5}`, &settings{}, "tier: must be a string, not number"},
		{"AStringForANestedNumber", `{"tier": "free", "caps": {"invite_daily": "ten"}}`, &settings{}, "caps.invite_daily: must be a whole number in range, not a string"},
		{"AFractionForAWholeNumber", `{"caps": {"invite_daily": 1.5}}`, &settings{}, "caps.invite_daily: must be a whole number in range, not number 1.5"},
		{"AnArrayElementField", `{"steps": [{"text": "a"}, {"text": false}]}`, &settings{}, "steps[1].text: must be a string, not a boolean"},
		{"AnUnknownNestedField", `{"caps": {"invite_dayly": 3}}`, &settings{}, "caps.invite_dayly: is not a field of this body"},
		{"Empty", `  `, &settings{}, "body: is empty; send a JSON value"},
		{"Truncated", `{"tier": "fr`, &settings{}, "body: ends before its JSON value is complete"},
		{"Syntax", "{\n  \"tier\": free\n}", &settings{}, `body: is not valid JSON at line 2, column 12 (byte 14): unexpected character 'r'`},
		{"Garbage", `not json`, &settings{}, `body: is not valid JSON at line 1, column 2 (byte 2): unexpected character 'o'`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dec := json.NewDecoder(bytes.NewReader([]byte(c.body)))
			dec.DisallowUnknownFields()
			err := dec.Decode(c.into)
			if err == nil {
				t.Fatal("decoded without error")
			}
			if got := Describe([]byte(c.body), err).Error(); got != c.want {
				t.Fatalf("got  %s\nwant %s\n(from %v)", got, c.want, err)
			}
		})
	}
}
