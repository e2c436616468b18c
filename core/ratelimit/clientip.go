package ratelimit

import (
	"fmt"
	"net/netip"
	"strings"
)

// Proxies is the set of addresses whose forwarding headers are believed.
// Anyone can send X-Forwarded-For, so it says who the client is only when
// the peer that sent it is a proxy the operator named; otherwise the peer's
// own address is the client, and a client cannot pick its own bucket.
type Proxies []netip.Prefix

// ParseProxies reads addresses and CIDR prefixes; field names the config
// key in errors.
func ParseProxies(field string, list []string) (Proxies, error) {
	var ps Proxies
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			ps = append(ps, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d] %q is neither an IP address nor a CIDR prefix", field, i, s)
		}
		ps = append(ps, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return ps, nil
}

func (ps Proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address as text. peer is the TCP peer.
// When it is a trusted proxy, the hops it reports (Forwarded's for=, RFC
// 7239, when present; X-Forwarded-For otherwise) are walked from the
// nearest: the first hop that is not itself a trusted proxy is the client.
// A hop that does not parse stops the walk at the last trusted address, as
// nothing beyond a forged or obfuscated hop can be believed.
func (ps Proxies) ClientIP(peer netip.Addr, forwarded, xff []byte) string {
	peer = peer.Unmap()
	if len(ps) == 0 || !ps.trusted(peer) {
		return peer.String()
	}
	var hops []string
	if len(forwarded) > 0 {
		hops = forwardedFor(string(forwarded))
	} else if len(xff) > 0 {
		for _, h := range strings.Split(string(xff), ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := hopAddr(hops[i])
		if !ok {
			break
		}
		client = a
		if !ps.trusted(a) {
			break
		}
	}
	return client.String()
}

// forwardedFor lists the for= values of a Forwarded header, nearest last.
func forwardedFor(h string) []string {
	var out []string
	for _, elem := range strings.Split(h, ",") {
		found := ""
		for _, pair := range strings.Split(elem, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if ok && strings.EqualFold(k, "for") {
				found = strings.Trim(v, `"`)
			}
		}
		out = append(out, found) // "" keeps the position, and stops the walk
	}
	return out
}

// hopAddr reads "1.2.3.4", "1.2.3.4:80", "[::1]" or "[::1]:80".
func hopAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
