package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestAccountTagsOverHTTP: PUT /api/v1/accounts/{id}/tags replaces the set
// and answers the account with its tags; a bad set is 422 naming every
// bad tags[i] and changes nothing; another workspace's account is 404; the
// account JSON always carries tags and the list filters by ?tag=
// (docs/accounts.md#tags).
func TestAccountTagsOverHTTP(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)
		put := func(id, secret, body string) (int, map[string]any) {
			req, _ := http.NewRequest("PUT", b.srv.URL+"/api/v1/accounts/"+id+"/tags", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		stored := func(id string) string {
			tags, err := account.TagsOf(context.Background(), d.SQL, id)
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(tags, ",")
		}
		id := b.a.account.ID

		t.Run("AccountJSONCarriesTagsEvenWhenNone", func(t *testing.T) {
			_, body, _ := b.do(t, "GET", "/api/v1/accounts/"+id, b.a.secret)
			if tags, ok := body["tags"].([]any); !ok || len(tags) != 0 {
				t.Fatalf("tags of an untagged account: %v", body["tags"])
			}
		})

		t.Run("PutReplacesTheSet", func(t *testing.T) {
			status, body := put(id, b.a.secret, `{"tags": ["EMEA Team", "client-a"]}`)
			if status != 200 || body["id"] != id || !sameTags(body["tags"], "client-a", "emea-team") || stored(id) != "client-a,emea-team" {
				t.Fatalf("put: %d %v", status, body)
			}
			if status, body = put(id, b.a.secret, `{"tags": ["client-b"]}`); status != 200 || stored(id) != "client-b" {
				t.Fatalf("second put: %d %v", status, body)
			}
			_, body, _ = b.do(t, "GET", "/api/v1/accounts/"+id, b.a.secret)
			if !sameTags(body["tags"], "client-b") {
				t.Fatalf("get after put: %v", body["tags"])
			}
		})

		t.Run("BadTagsAreNamedAtOnceAndNothingChanges", func(t *testing.T) {
			status, body := put(id, b.a.secret, `{"tags": ["ok", "no/slash", "", "fine"]}`)
			errs, _ := body["errors"].([]any)
			if status != 422 || len(errs) != 2 || errs[0].(map[string]any)["field"] != "tags[1]" || errs[1].(map[string]any)["field"] != "tags[2]" {
				t.Fatalf("bad tags: %d %v", status, body)
			}
			status, body = put(id, b.a.secret, `{"tags": ["a","b","c","d","e","f","g","h","i","j","k"]}`)
			if errs, _ := body["errors"].([]any); status != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "tags" {
				t.Fatalf("eleven tags: %d %v", status, body)
			}
			if status, body = put(id, b.a.secret, `{}`); status != 422 {
				t.Fatalf("no tags member: %d %v", status, body)
			}
			if status, _ = put(id, b.a.secret, `{"tags": "x"}`); status != 400 {
				t.Fatalf("tags not an array: %d", status)
			}
			if got := stored(id); got != "client-b" {
				t.Fatalf("a refused put changed the tags: %s", got)
			}
		})

		t.Run("AnotherWorkspacesAccountIsNotFound", func(t *testing.T) {
			if status, body := put(b.b.account.ID, b.a.secret, `{"tags": ["mine"]}`); status != 404 {
				t.Fatalf("put on another workspace's account: %d %v", status, body)
			}
			if got := stored(b.b.account.ID); got != "" {
				t.Fatalf("another workspace's account was tagged: %s", got)
			}
		})

		t.Run("ListFiltersByTag", func(t *testing.T) {
			if status, body := put(b.b.account.ID, b.b.secret, `{"tags": ["client-b"]}`); status != 200 {
				t.Fatalf("tagging workspace b's account: %d %v", status, body)
			}
			_, body, _ := b.do(t, "GET", "/api/v1/accounts?tag=client-b", b.a.secret)
			items := body["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["id"] != id || !sameTags(items[0].(map[string]any)["tags"], "client-b") {
				t.Fatalf("list by tag: %v", body)
			}
			if status, _, _ := b.do(t, "GET", "/api/v1/accounts?tag=no/slash", b.a.secret); status != 400 {
				t.Fatalf("list by a tag that is not one: %d", status)
			}
			_, body, _ = b.do(t, "GET", "/api/v1/accounts?tag=Client%20B", b.a.secret)
			if items := body["items"].([]any); len(items) != 1 {
				t.Fatalf("list by a tag as typed (normalized): %v", body)
			}
			_, body, _ = b.do(t, "GET", "/api/v1/accounts?tag=nobody", b.a.secret)
			if items := body["items"].([]any); len(items) != 0 {
				t.Fatalf("list by an unused tag: %v", body)
			}
		})
	})
}

func sameTags(v any, want ...string) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(want) {
		return false
	}
	for i, w := range want {
		if list[i] != w {
			return false
		}
	}
	return true
}
