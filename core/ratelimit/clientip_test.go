package ratelimit

import (
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	ps, err := ParseProxies("rate_limit.trusted_proxies", []string{"10.0.0.0/8", "::1", "192.168.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr
	for _, c := range []struct {
		peer     string
		fwd, xff string
		want     string
		ps       Proxies
	}{
		{"203.0.113.9", "", "1.2.3.4", "203.0.113.9", ps},                            // untrusted peer: header ignored
		{"203.0.113.9", "for=1.2.3.4", "", "203.0.113.9", ps},                        // same for Forwarded
		{"10.1.2.3", "", "1.2.3.4", "1.2.3.4", ps},                                   // trusted peer
		{"10.1.2.3", "", "6.6.6.6, 1.2.3.4, 10.9.9.9", "1.2.3.4", ps},                // nearest untrusted hop, not the forged leftmost
		{"10.1.2.3", "", "10.2.2.2, 10.3.3.3", "10.2.2.2", ps},                       // all trusted: the farthest
		{"10.1.2.3", "", "garbage, 1.2.3.4", "1.2.3.4", ps},                          // walk stops before garbage
		{"10.1.2.3", "", "1.2.3.4, garbage", "10.1.2.3", ps},                         // nearest hop garbage: the peer
		{"::1", `for="[2001:db8::1]:4711";proto=http`, "9.9.9.9", "2001:db8::1", ps}, // Forwarded wins
		{"::ffff:10.0.0.1", "For=192.0.2.60, for=198.51.100.17", "", "198.51.100.17", ps},
		{"10.1.2.3", "for=unknown", "1.2.3.4", "10.1.2.3", ps},
		{"10.1.2.3", "", "1.2.3.4", "10.1.2.3", nil}, // no proxies configured
	} {
		got := c.ps.ClientIP(ip(c.peer), []byte(c.fwd), []byte(c.xff))
		if got != c.want {
			t.Errorf("peer %s fwd %q xff %q: %s, want %s", c.peer, c.fwd, c.xff, got, c.want)
		}
	}
	if _, err := ParseProxies("rate_limit.trusted_proxies", []string{"10.0.0.0/8", "nope"}); err == nil ||
		!strings.Contains(err.Error(), `rate_limit.trusted_proxies[1] "nope"`) {
		t.Fatal(err)
	}
}
