package account

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// MaxTagLength is the longest tag (account_tags_tag_chk).
const MaxTagLength = 32

// MaxTagsPerAccount bounds how many tags one account carries, so a row of
// the overview stays one line (docs/accounts.md#tags).
const MaxTagsPerAccount = 10

// ErrBadTag is a tag that is not 1–32 characters of lowercase letters,
// digits, '-' and '_' starting with a letter or digit, even after
// NormalizeTag.
var ErrBadTag = errors.New("a tag is 1 to 32 characters: letters, digits, '-' and '_', starting with a letter or digit")

// ErrTooManyTags is an account that already has MaxTagsPerAccount tags.
var ErrTooManyTags = errors.New("an account has at most 10 tags")

var tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// NormalizeTag turns typed text into a tag: trimmed, lowercased, inner
// spaces as '-'. It returns ErrBadTag when the result is still not a tag
// (docs/accounts.md#tags).
func NormalizeTag(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.Join(strings.Fields(t), "-")
	if !tagPattern.MatchString(t) {
		return "", ErrBadTag
	}
	return t, nil
}

// TagError is one refused entry of a tag set: its field in API terms
// ("tags[2]", or "tags" for the set as a whole) and why.
type TagError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// TagsError refuses a tag set as a whole, naming every bad entry at once;
// nothing was changed (docs/accounts.md#tags).
type TagsError struct {
	Fields []TagError
}

// Error lists every refused entry.
func (e *TagsError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid tags: " + strings.Join(parts, "; ")
}

// NormalizeTags checks typed tags as one set: each is normalized by
// NormalizeTag, a tag typed twice counts once, and the set holds at most
// MaxTagsPerAccount. Every bad entry is named in one *TagsError (by its
// index in typed). The result is alphabetical.
func NormalizeTags(typed []string) ([]string, error) {
	var errs []TagError
	seen := map[string]bool{}
	var out []string
	for i, s := range typed {
		t, err := NormalizeTag(s)
		if err != nil {
			errs = append(errs, TagError{Field: fmt.Sprintf("tags[%d]", i), Message: fmt.Sprintf("%q is not a tag: %s", s, err)})
			continue
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > MaxTagsPerAccount {
		errs = append(errs, TagError{Field: "tags", Message: fmt.Sprintf("%s (has %d)", ErrTooManyTags, len(out))})
	}
	if errs != nil {
		return nil, &TagsError{Fields: errs}
	}
	slices.Sort(out)
	return out, nil
}
