package account

import (
	"errors"
	"regexp"
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
