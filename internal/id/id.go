// Package id makes Keel's object identifiers: a short type prefix, then a
// time-ordered, random, URL-safe body (e.g. "acc_06f1k2...").
package id

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns prefix + "_" + 26 characters: 48 bits of milliseconds (so ids
// sort roughly by creation) and 80 random bits (so they cannot be guessed).
func New(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("id: reading random bytes: " + err.Error())
	}
	return prefix + "_" + encoding.EncodeToString(b[:])
}

// HasPrefix reports whether s looks like an id made with prefix.
func HasPrefix(s, prefix string) bool {
	return strings.HasPrefix(s, prefix+"_") && len(s) == len(prefix)+1+26
}
