package campaign

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseCSV feeds arbitrary bytes to the CSV reader and each row to
// the identity parser. Whatever the input: no panic, every row numbered in
// order, and every accepted identity is in canonical form (it parses back
// to itself from its canonical URL), so two spellings of one person can
// never be stored as two prospects. Without -fuzz it runs the seeds only.
func FuzzParseCSV(f *testing.F) {
	for _, seed := range []string{
		"linkedin_url,first_name,last_name,company,role\nhttps://www.linkedin.com/in/ada,Ada,L,X,CTO\n",
		"provider_id\nACoAAAh_Ffqss54sqAGQOD8u7sl5of04y9_3AwyM\n",
		"linkedin_url\nhttps://www.linkedin.com/sales/lead/ACwAAAkRj2wBnv8JZ7W0Q,NAME_SEARCH,x\n",
		"linkedin_url\nlinkedin.com/in/JOS%C3%89\n\"https://www.linkedin.com/in/a,b\"\n",
		"linkedin_url,x\n\"unterminated\n",
		"\xef\xbb\xbflinkedin_url\nhttps://fr.linkedin.com/in/%E2%80%AE\n",
		"linkedin_url,first_name\nhttps://www.linkedin.com/in/a\n,,\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, r := range rows {
			if r.Row != i+1 {
				t.Fatalf("row %d numbered %d", i+1, r.Row)
			}
			if r.Problem != "" {
				continue
			}
			checkIdentity(t, r.LinkedInURL)
			if _, msg := cleanRow(r); msg == "" && !utf8.ValidString(r.FirstName+r.LastName+r.Company) {
				t.Fatalf("row %d accepted with invalid text", r.Row)
			}
		}
	})
}

// FuzzParseProfileURL checks the URL parser alone.
func FuzzParseProfileURL(f *testing.F) {
	for _, seed := range []string{
		"https://www.linkedin.com/in/ada-lovelace", "linkedin.com/in/Ada/", "https://www.linkedin.com/in/jos%C3%A9",
		"https://www.linkedin.com/sales/people/ACwAAAkRj2wBnv8JZ7W0Q%2Cx", "https://www.linkedin.com/in/ACoAAAh_Ffqss54sqAGQOD8u7",
		"https://linkedin.com.evil.com/in/x", "https://www.linkedin.com/in/%ZZ", "http://[::1]/in/x", "https://www.linkedin.com/in/İstanbul",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		checkIdentity(t, raw)
	})
}

func checkIdentity(t *testing.T, raw string) {
	t.Helper()
	id, err := ParseProfileURL(raw)
	if err != nil {
		return
	}
	n := 0
	for _, v := range []string{id.PublicSlug, id.SalesNavID, id.ProviderID} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("ParseProfileURL(%q) = %+v: exactly one identifier expected", raw, id)
	}
	switch {
	case id.PublicSlug != "":
		if id.PublicSlug != strings.ToLower(id.PublicSlug) || !utf8.ValidString(id.PublicSlug) {
			t.Fatalf("slug %q of %q is not canonical", id.PublicSlug, raw)
		}
		again, err := ParseProfileURL(ProfileURLFor(id.PublicSlug))
		if err != nil || again != id {
			t.Fatalf("slug %q of %q does not survive its canonical URL: %+v %v", id.PublicSlug, raw, again, err)
		}
		if again, err := NormalizeSlug(id.PublicSlug); err != nil || again != id.PublicSlug {
			t.Fatalf("NormalizeSlug(%q) = %q, %v: not idempotent", id.PublicSlug, again, err)
		}
	case id.SalesNavID != "":
		again, err := ParseProfileURL(SalesNavURL(id.SalesNavID))
		if err != nil || again != id {
			t.Fatalf("lead %q of %q does not survive its canonical URL: %+v %v", id.SalesNavID, raw, again, err)
		}
	case id.ProviderID != "":
		if !ValidProviderID(id.ProviderID) {
			t.Fatalf("provider id %q of %q is not valid", id.ProviderID, raw)
		}
	}
}
