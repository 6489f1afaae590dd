package outbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the delivery signature; EventIDHeader the event id.
const (
	SignatureHeader = "Keel-Signature"
	EventIDHeader   = "Keel-Event-Id"
)

// ErrSignature: the signature header is missing, malformed, stale or does
// not match the body.
var ErrSignature = errors.New("invalid webhook signature")

// SigningKey is the HMAC key derived from an endpoint secret:
// hex(SHA-256(secret)). Keel stores only this derived key, never the
// secret; a receiver holding the secret derives the same key (Verify does).
func SigningKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func mac(key string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(strconv.FormatInt(unix, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the Keel-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by
// SigningKey(secret)>".
func Sign(secret string, t time.Time, body []byte) string {
	return signWithKey(SigningKey(secret), t, body)
}

// signWithKey signs with a stored key (what Keel keeps instead of the secret).
func signWithKey(key string, t time.Time, body []byte) string {
	unix := t.Unix()
	return "t=" + strconv.FormatInt(unix, 10) + ",v1=" + hex.EncodeToString(mac(key, unix, body))
}

// Verify checks a Keel-Signature header against body, for receivers: the
// timestamp must be within tolerance of now (either side) and one v1
// signature must match, compared in constant time. Errors wrap
// ErrSignature.
func Verify(secret string, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var (
		unix    int64
		haveT   bool
		candSig [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%w: bad timestamp", ErrSignature)
			}
			unix, haveT = n, true
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				candSig = append(candSig, b)
			}
		}
	}
	if !haveT || len(candSig) == 0 {
		return fmt.Errorf("%w: header must carry t= and v1=", ErrSignature)
	}
	age := now.Sub(time.Unix(unix, 0))
	if age < 0 {
		age = -age
	}
	if age > tolerance {
		return fmt.Errorf("%w: timestamp outside the %s tolerance", ErrSignature, tolerance)
	}
	want := mac(SigningKey(secret), unix, body)
	for _, sig := range candSig {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no signature matches", ErrSignature)
}
