package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resolver looks up the addresses of a host name. *net.Resolver satisfies
// it; tests inject a fake so a name can resolve to loopback.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Refusal texts: what a tenant is told when a destination is refused, at
// registration (422 on url) and in the delivery log. They name the class
// of address, never anything learnt from the network.
const (
	RefusedPrivate     = "refused: private address"
	RefusedLoopback    = "refused: loopback address"
	RefusedLinkLocal   = "refused: link-local address"
	RefusedMulticast   = "refused: multicast address"
	RefusedUnspecified = "refused: unspecified address"
	RefusedReserved    = "refused: reserved address"
	RefusedSelf        = "refused: Keel's own address"
)

// RefusedError is a destination the policy refuses. Reason is one of the
// Refused* texts.
type RefusedError struct{ Reason string }

// Error implements error.
func (e *RefusedError) Error() string { return e.Reason }

var (
	// 100.64.0.0/10 is carrier-grade NAT space: not routable on the
	// internet, often an internal network. netip's IsPrivate misses it.
	cgnat = netip.MustParsePrefix("100.64.0.0/10")
	// 0.0.0.0/8 is "this network"; connecting to 0.x reaches the host.
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	// 240.0.0.0/4 (with the broadcast address) is reserved.
	reserved4 = netip.MustParsePrefix("240.0.0.0/4")
	// fec0::/10 is the deprecated IPv6 site-local range, private in effect.
	siteLocal6 = netip.MustParsePrefix("fec0::/10")
)

// classify returns why a is not a public unicast address, or "" when it is.
// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
func classify(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid() || a.IsUnspecified() || thisNetwork.Contains(a):
		return RefusedUnspecified
	case a.IsLoopback():
		return RefusedLoopback
	case a.IsLinkLocalUnicast():
		return RefusedLinkLocal
	case a.IsMulticast() || a.IsInterfaceLocalMulticast() || a.IsLinkLocalMulticast():
		return RefusedMulticast
	case a.IsPrivate() || cgnat.Contains(a) || siteLocal6.Contains(a):
		return RefusedPrivate
	case reserved4.Contains(a):
		return RefusedReserved
	}
	return ""
}

// ParseAllowList parses a comma-separated list of CIDRs (a bare address
// stands for itself). Blank items are ignored.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if a, err := netip.ParseAddr(item); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", item)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// URLHostPort returns the host and port a URL connects to: its port, or
// the scheme's default (80, 443). The host is lower-case, without brackets
// or a trailing dot.
func URLHostPort(raw string) (string, uint16, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", 0, fmt.Errorf("parsing URL: %w", err)
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return "", 0, fmt.Errorf("URL scheme %q has no default port", u.Scheme)
		}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("URL port %q: %w", port, err)
	}
	return normalizeHost(u.Hostname()), uint16(p), nil
}

func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// ownAddr is one address Keel itself listens on or is reached at.
type ownAddr struct {
	host string // normalized name or address text
	port uint16
	// ip is set when host is an address; any is set when it is
	// unspecified (listening on every interface).
	ip  netip.Addr
	any bool
}

// policy decides which addresses deliveries may reach.
type policy struct {
	allow    []netip.Prefix
	own      []ownAddr
	localIPs []netip.Addr // this machine's interface addresses, for an unspecified listen address
	resolver Resolver
}

// newPolicy builds the policy. An own address that is not host:port is
// skipped with a warning: the configuration validated them already, and
// the loopback/private refusal still stands.
func newPolicy(allow []netip.Prefix, own []string, resolver Resolver, log *slog.Logger) *policy {
	p := &policy{allow: allow, resolver: resolver}
	if p.resolver == nil {
		p.resolver = net.DefaultResolver
	}
	needLocal := false
	for _, hp := range own {
		host, port, err := net.SplitHostPort(hp)
		var n uint64
		if err == nil {
			n, err = strconv.ParseUint(port, 10, 16)
		}
		if err != nil {
			log.Warn("outbound webhooks: ignoring an own address that is not host:port", "address", hp)
			continue
		}
		o := ownAddr{host: normalizeHost(host), port: uint16(n)}
		if o.host == "" {
			o.any = true
		} else if a, err := netip.ParseAddr(o.host); err == nil {
			o.ip = a.Unmap()
			o.any = o.ip.IsUnspecified()
		}
		needLocal = needLocal || o.any
		p.own = append(p.own, o)
	}
	if needLocal {
		// Listening on every interface: any of this machine's addresses at
		// that port is Keel. An unreadable interface list leaves loopback,
		// which the check covers anyway.
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if pn, ok := a.(*net.IPNet); ok {
					if ip, ok := netip.AddrFromSlice(pn.IP); ok {
						p.localIPs = append(p.localIPs, ip.Unmap())
					}
				}
			}
		}
	}
	return p
}

// isOwnName reports whether host:port names one of Keel's own addresses
// literally (the public URL's host, a listen address such as localhost).
func (p *policy) isOwnName(host string, port uint16) bool {
	host = normalizeHost(host)
	for _, o := range p.own {
		if o.port == port && o.host == host {
			return true
		}
	}
	return false
}

// isOwnIP reports whether ip:port is where Keel listens.
func (p *policy) isOwnIP(ip netip.Addr, port uint16) bool {
	ip = ip.Unmap()
	for _, o := range p.own {
		if o.port != port {
			continue
		}
		switch {
		case o.ip.IsValid() && !o.any && o.ip == ip:
			return true
		case o.host == "localhost" && ip.IsLoopback():
			return true
		case o.any:
			if ip.IsLoopback() || ip.IsUnspecified() {
				return true
			}
			for _, l := range p.localIPs {
				if l == ip {
					return true
				}
			}
		}
	}
	return false
}

// check returns the refusal of connecting to ip:port, or nil.
func (p *policy) check(ip netip.Addr, port uint16) error {
	ip = ip.Unmap()
	if p.isOwnIP(ip, port) {
		return &RefusedError{Reason: RefusedSelf}
	}
	reason := classify(ip)
	if reason == "" {
		return nil
	}
	for _, pre := range p.allow {
		if pre.Contains(ip) {
			return nil
		}
	}
	return &RefusedError{Reason: reason}
}

// resolve returns host's addresses: the address itself for a literal, else
// a lookup through the policy's resolver.
func (p *policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(normalizeHost(host)); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := p.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// checkHost resolves host and refuses it when it names Keel or when any of
// its addresses is refused: a name that answers with one public and one
// private address is not let through on luck.
func (p *policy) checkHost(ctx context.Context, host string, port uint16) ([]netip.Addr, error) {
	if p.isOwnName(host, port) {
		return nil, &RefusedError{Reason: RefusedSelf}
	}
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if err := p.check(a, port); err != nil {
			return nil, err
		}
	}
	return addrs, nil
}

// dialContext is the transport's only way out: it resolves the host
// itself, checks every address, and connects to the checked address, so
// an answer that changes between registration and delivery (DNS
// rebinding) is judged as it is when the connection is made.
func (p *policy) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dialing %q: bad port", addr)
	}
	addrs, err := p.checkHost(ctx, host, uint16(port))
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: defaultHTTPTimeout, KeepAlive: 30 * time.Second, Control: p.control}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// control checks the address the socket is about to connect to: a second
// lock on the same door, should anything ever dial a name through this
// dialer.
func (p *policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("connecting to %q: not an address", address)
	}
	return p.check(ap.Addr(), ap.Port())
}

// transport is the HTTP transport of deliveries: every connection goes
// through the policy's dialer, and no proxy from the environment is used
// (a proxy would connect on Keel's behalf, past the check).
func (p *policy) transport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           p.dialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
