package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// contentSecurityPolicy is the policy every page is served with: scripts
// only from Keel's own static files (no inline script: the pages work
// without any, the inbox's refresh is an enhancement), and forms lead only
// to Keel itself and to the given origins (the provider's hosted-auth
// wizard), each an exact scheme://host[:port].
func contentSecurityPolicy(formActionOrigins []string) (string, error) {
	formAction := "'self'"
	for _, o := range formActionOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || strings.ContainsAny(o, " ;,*'") {
			return "", fmt.Errorf("web: form-action origin %q is not a scheme://host[:port] origin", o)
		}
		formAction += " " + o
	}
	return "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action " + formAction +
		"; frame-ancestors 'none'; base-uri 'none'", nil
}

// setSecurityHeaders sets the headers every UI response carries.
func setSecurityHeaders(h http.Header, csp string) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", csp)
}
