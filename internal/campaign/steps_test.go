package campaign

import (
	"errors"
	"strings"
	"testing"
)

// contractSteps is the example of docs/surfaces.md#json-shapes: it must validate.
func contractSteps() []Step {
	return []Step{
		{ID: "s1", Type: StepInvite, Note: "Hi {{first_name}}"},
		{ID: "s2", Type: StepIfAccepted, Within: "168h", Then: "s3", Else: "end"},
		{ID: "s3", Type: StepMessage, Text: "Thanks for connecting, {{first_name}}"},
		{ID: "s4", Type: StepWait, Duration: "72h"},
		{ID: "s5", Type: StepInMail, Subject: "Quick question", Text: "…"},
		{ID: "s6", Type: StepViewProfile},
	}
}

func hasFieldError(errs []FieldError, field, contains string) bool {
	for _, e := range errs {
		if e.Field == field && strings.Contains(e.Message, contains) {
			return true
		}
	}
	return false
}

func TestValidateSteps(t *testing.T) {
	t.Parallel()
	edit := func(fn func(s []Step) []Step) []Step { return fn(contractSteps()) }
	cases := []struct {
		name     string
		steps    []Step
		known    func(string) bool
		field    string // "" means valid
		contains string
	}{
		{name: "ContractExampleIsValid", steps: contractSteps()},
		{name: "NoStepsIsRefused", steps: nil, field: "steps", contains: "at least one step"},
		{name: "MissingElseIsRefused", steps: edit(func(s []Step) []Step { s[1].Else = ""; return s }),
			field: "steps[1].else", contains: "required"},
		{name: "MissingThenIsRefused", steps: edit(func(s []Step) []Step { s[1].Then = ""; return s }),
			field: "steps[1].then", contains: "required"},
		{name: "UnknownTargetIsRefused", steps: edit(func(s []Step) []Step { s[1].Then = "s9"; return s }),
			field: "steps[1].then", contains: `unknown step "s9"`},
		{name: "CycleIsRefused", steps: []Step{
			{ID: "a", Type: StepInvite},
			{ID: "b", Type: StepMessage, Text: "hello"},
			{ID: "c", Type: StepIfReplied, Within: "24h", Then: "end", Else: "b"},
		}, field: "steps[2].else", contains: "loop: b → c → b"},
		{name: "SelfLoopIsRefused", steps: []Step{
			{ID: "a", Type: StepInvite},
			{ID: "b", Type: StepIfAccepted, Within: "24h", Then: "b", Else: "end"},
		}, field: "steps[1].then", contains: "loop"},
		{name: "NoteOver300IsRefused", steps: edit(func(s []Step) []Step { s[0].Note = strings.Repeat("é", 301); return s }),
			field: "steps[0].note", contains: "the note is 301 characters; LinkedIn allows 300"},
		{name: "NoteOf300IsAccepted", steps: edit(func(s []Step) []Step { s[0].Note = strings.Repeat("é", 300); return s })},
		{name: "UnknownVariableNamesStepAndVariable", steps: edit(func(s []Step) []Step { s[2].Text = "Hi {{job_title}}"; return s }),
			field: "steps[2].text", contains: "unknown variable {{job_title}} in step s3"},
		{name: "KnownCustomVariableIsAccepted",
			steps: edit(func(s []Step) []Step { s[2].Text = "Hi {{job_title}}"; return s }),
			known: func(n string) bool { return IsBuiltinVariable(n) || n == "job_title" }},
		{name: "VariableWithFallbackIsAccepted", steps: edit(func(s []Step) []Step { s[2].Text = "Hi {{ job_title | there }}"; return s })},
		{name: "UnclosedVariableIsRefused", steps: edit(func(s []Step) []Step { s[2].Text = "Hi {{first_name"; return s }),
			field: "steps[2].text", contains: "never closed"},
		{name: "DuplicateIDIsRefused", steps: edit(func(s []Step) []Step { s[3].ID = "s1"; return s }),
			field: "steps[3].id", contains: "duplicate"},
		{name: "EndAsIDIsRefused", steps: edit(func(s []Step) []Step { s[5].ID = "end"; return s }),
			field: "steps[5].id", contains: "reserved"},
		{name: "ZeroWaitIsRefused", steps: edit(func(s []Step) []Step { s[3].Duration = "0s"; return s }),
			field: "steps[3].duration", contains: "greater than zero"},
		{name: "BadWithinIsRefused", steps: edit(func(s []Step) []Step { s[1].Within = "7 weeks"; return s }),
			field: "steps[1].within", contains: "not a duration"},
		{name: "WithinInDaysIsFine", steps: edit(func(s []Step) []Step { s[1].Within = "7 days"; return s })},
		{name: "InMailNeedsSubject", steps: edit(func(s []Step) []Step { s[4].Subject = ""; return s }),
			field: "steps[4].subject", contains: "required"},
		{name: "FieldOfAnotherTypeIsRefused", steps: edit(func(s []Step) []Step { s[2].Note = "hi"; return s }),
			field: "steps[2].note", contains: "not used by a message step"},
		{name: "UnknownTypeIsRefused", steps: edit(func(s []Step) []Step { s[5].Type = "like_post"; return s }),
			field: "steps[5].type", contains: "unknown step type"},
		{name: "UnreachableStepIsRefused", steps: []Step{
			{ID: "a", Type: StepInvite},
			{ID: "b", Type: StepIfAccepted, Within: "24h", Then: "d", Else: "end"},
			{ID: "c", Type: StepMessage, Text: "never sent"},
			{ID: "d", Type: StepMessage, Text: "hello"},
		}, field: "steps[2]", contains: "unreachable"},
		{name: "IfAcceptedWithoutInviteIsRefused", steps: []Step{
			{ID: "a", Type: StepViewProfile},
			{ID: "b", Type: StepIfAccepted, Within: "24h", Then: "end", Else: "end"},
		}, field: "steps[1].type", contains: "without an invite"},
		{name: "IfAcceptedInviteOnOnlyOneBranchIsRefused", steps: []Step{
			{ID: "a", Type: StepMessage, Text: "hi"},
			{ID: "b", Type: StepIfReplied, Within: "24h", Then: "d", Else: "c"},
			{ID: "c", Type: StepInvite},
			{ID: "d", Type: StepIfAccepted, Within: "24h", Then: "end", Else: "end"},
		}, field: "steps[3].type", contains: "without an invite"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			errs := ValidateSteps(tc.steps, tc.known)
			if tc.field == "" {
				if len(errs) > 0 {
					t.Fatalf("expected valid, got %v", errs)
				}
				return
			}
			if !hasFieldError(errs, tc.field, tc.contains) {
				t.Fatalf("expected %s: …%s…, got %v", tc.field, tc.contains, errs)
			}
		})
	}
}

func TestNextStepID(t *testing.T) {
	t.Parallel()
	steps := contractSteps()
	for _, tc := range []struct {
		from string
		met  bool
		want string
	}{
		{"s1", false, "s2"}, {"s2", true, "s3"}, {"s2", false, "end"}, {"s5", false, "s6"}, {"s6", false, End},
	} {
		got, err := NextStepID(steps, tc.from, tc.met)
		if err != nil || got != tc.want {
			t.Errorf("NextStepID(%s, %v) = %q, %v; want %q", tc.from, tc.met, got, err, tc.want)
		}
	}
	if _, err := NextStepID(steps, "nope", true); err == nil {
		t.Error("unknown step: expected an error")
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	p := Prospect{ID: "prs_1", FirstName: "Ada", LastName: "Lovelace", Company: "Analytical",
		Custom: map[string]string{"role": "CTO"}}
	t.Run("FillsBuiltinsAndCustomFields", func(t *testing.T) {
		got, err := Render("Hi {{first_name}} ({{ Full_Name }}), {{role}} at {{company}}", p)
		if err != nil || got != "Hi Ada (Ada Lovelace), CTO at Analytical" {
			t.Fatalf("%q %v", got, err)
		}
	})
	t.Run("UsesFallbackWhenEmpty", func(t *testing.T) {
		got, err := Render("Hi {{first_name|there}}, {{team|your team}}", Prospect{})
		if err != nil || got != "Hi there, your team" {
			t.Fatalf("%q %v", got, err)
		}
	})
	t.Run("MissingCustomFieldIsAnError", func(t *testing.T) {
		if _, err := Render("About {{team}}", p); !errors.Is(err, ErrMissingVariable) {
			t.Fatalf("expected ErrMissingVariable, got %v", err)
		}
	})
	t.Run("EmptyBuiltinWithoutFallbackIsMissing", func(t *testing.T) {
		// Never "Hi , …" (docs/campaigns.md#holds).
		got, err := Render("Hi {{first_name}}, [{{company}}]", Prospect{ID: "p1", Company: "Acme"})
		var miss *MissingVariableError
		if !errors.As(err, &miss) || miss.Name != "first_name" || !errors.Is(err, ErrMissingVariable) {
			t.Fatalf("%q %v", got, err)
		}
		if _, err := Render("Hi {{first_name}}", Prospect{FirstName: "   "}); !errors.Is(err, ErrMissingVariable) {
			t.Fatalf("a blank first name renders: %v", err)
		}
	})
	t.Run("FallbackFillsEmptyBuiltin", func(t *testing.T) {
		got, err := Render("Hi {{first_name|there}}, {{ company | your company }}!", Prospect{})
		if err != nil || got != "Hi there, your company!" {
			t.Fatalf("%q %v", got, err)
		}
		got, err = Render("Hi {{first_name|there}}", Prospect{FirstName: "Ada"})
		if err != nil || got != "Hi Ada" {
			t.Fatalf("%q %v", got, err)
		}
	})
	t.Run("TextWithoutVariablesIsUnchanged", func(t *testing.T) {
		got, err := Render("a } b }} c {", p)
		if err != nil || got != "a } b }} c {" {
			t.Fatalf("%q %v", got, err)
		}
	})
}

func TestParseProfileURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Identity
		bad  string
	}{
		{in: "https://www.linkedin.com/in/ada-lovelace", want: Identity{PublicSlug: "ada-lovelace"}},
		{in: "linkedin.com/in/Ada-Lovelace/", want: Identity{PublicSlug: "ada-lovelace"}},
		{in: "http://fr.linkedin.com/in/ada-lovelace/details/experience/?trk=x#top", want: Identity{PublicSlug: "ada-lovelace"}},
		{in: "https://www.linkedin.com/in/jos%C3%A9-garc%C3%ADa", want: Identity{PublicSlug: "josé-garcía"}},
		{in: "https://www.linkedin.com/in/ACoAAAh_Ffqss54sqAGQOD8u7sl5of04y9_3AwyM/", want: Identity{ProviderID: "ACoAAAh_Ffqss54sqAGQOD8u7sl5of04y9_3AwyM"}},
		{in: "https://www.linkedin.com/sales/lead/ACwAAAkRj2wBnv8JZ7W0Q,NAME_SEARCH,Xy1z", want: Identity{SalesNavID: "ACwAAAkRj2wBnv8JZ7W0Q"}},
		{in: "https://www.linkedin.com/sales/people/ACwAAAkRj2wBnv8JZ7W0Q%2CNAME_SEARCH%2CXy1z", want: Identity{SalesNavID: "ACwAAAkRj2wBnv8JZ7W0Q"}},
		{in: "https://www.linkedin.com/company/keel", bad: "not a profile URL"},
		{in: "https://www.linkedin.com/pub/ada/1/2/3", bad: "old /pub/ URL"},
		{in: "https://example.com/in/ada", bad: "not a linkedin.com URL"},
		{in: "https://www.linkedin.com/in/", bad: "not a profile URL"},
		{in: "https://www.linkedin.com/in/a%2Fb", bad: "not a LinkedIn profile handle"},
		{in: "https://www.linkedin.com/sales/lead/short", bad: "lead id"},
		{in: "ftp://linkedin.com/in/ada", bad: "http(s)"},
		{in: "", bad: "empty"},
	}
	for _, tc := range cases {
		got, err := ParseProfileURL(tc.in)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("ParseProfileURL(%q) = %+v, %v; want error containing %q", tc.in, got, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseProfileURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	if got := ProfileURLFor("josé-garcía"); got != "https://www.linkedin.com/in/jos%C3%A9-garc%C3%ADa" {
		t.Errorf("ProfileURLFor: %s", got)
	}
}

func TestParseCSV(t *testing.T) {
	t.Parallel()
	t.Run("ReadsKnownAndCustomColumns", func(t *testing.T) {
		rows, err := ParseCSV(strings.NewReader("\xef\xbb\xbfLinkedIn URL,First Name,last_name,company,Job Title\n" +
			"https://www.linkedin.com/in/ada,Ada,Lovelace,Analytical,CTO\n" +
			"https://www.linkedin.com/in/bob,Bob,,, \n"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].FirstName != "Ada" || rows[0].Custom["job_title"] != "CTO" || rows[1].Custom != nil {
			t.Fatalf("%+v", rows)
		}
	})
	t.Run("ShortRowIsReportedNotFatal", func(t *testing.T) {
		rows, err := ParseCSV(strings.NewReader("linkedin_url,first_name\nhttps://www.linkedin.com/in/ada\nhttps://www.linkedin.com/in/bob,Bob\n"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || !strings.Contains(rows[0].Problem, "1 cells but the header has 2") || rows[1].Problem != "" {
			t.Fatalf("%+v", rows)
		}
	})
	for name, body := range map[string]string{
		"EmptyFileIsMalformed":        "",
		"BareQuoteIsMalformed":        "linkedin_url,first_name\nhttps://x,\"Ada\nBob\n",
		"HeaderWithoutIdentifier":     "first_name,company\nAda,X\n",
		"DuplicateColumnIsMalformed":  "linkedin_url,first_name,First Name\n",
		"UnusableColumnName":          "linkedin_url,1st\n",
		"FullNameColumnIsMalformed":   "linkedin_url,full_name\n",
		"NotUTF8IsMalformed":          "linkedin_url,first_name\nhttps://www.linkedin.com/in/a,\xff\n",
		"EmptyColumnNameIsMalformed":  "linkedin_url,,first_name\n",
		"QuoteInBareFieldIsMalformed": "linkedin_url\nab\"c\n",
	} {
		t.Run(name, func(t *testing.T) {
			var pe *ParseError
			if _, err := ParseCSV(strings.NewReader(body)); !errors.As(err, &pe) {
				t.Fatalf("expected a ParseError, got %v", err)
			}
		})
	}
	t.Run("TooManyRowsIsTooLarge", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("provider_id\n")
		for i := 0; i <= MaxImportRows; i++ {
			b.WriteString("ACoAAx\n")
		}
		if _, err := ParseCSV(strings.NewReader(b.String())); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("expected ErrTooLarge, got %v", err)
		}
	})
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	rows, err := ParseJSON(strings.NewReader(`{"prospects": [
		{"linkedin_url": "https://www.linkedin.com/in/ada", "first_name": "Ada", "seats": 12, "vip": true, "note": null},
		{"provider_id": "ACoAAB", "tags": ["x"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Custom["seats"] != "12" || rows[0].Custom["vip"] != "true" || rows[0].Custom["note"] != "" ||
		!strings.Contains(rows[1].Problem, "tags must be text") {
		t.Fatalf("%+v", rows)
	}
	for _, body := range []string{`{"prospects": [`, `[]`, `{}`, `{"prospects": []} {}`} {
		var pe *ParseError
		if _, err := ParseJSON(strings.NewReader(body)); !errors.As(err, &pe) {
			t.Errorf("%s: expected a ParseError, got %v", body, err)
		}
	}
}
