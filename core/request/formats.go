package request

import (
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// checkFormat reports whether s conforms to a JSON Schema "format" other
// than the parsed ones (uuid, date, date-time). Formats Spikard does not
// check are annotations: s conforms.
func checkFormat(format, s string) bool {
	switch format {
	case "email":
		return isEmail(s)
	case "ipv4":
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is4()
	case "ipv6":
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is6() && a.Zone() == ""
	case "uri":
		u, err := url.Parse(s)
		return err == nil && u.Scheme != ""
	case "hostname":
		return isHostname(s)
	case "time":
		return isTime(s)
	case "duration":
		return isDuration(s)
	}
	return true
}

// isEmail accepts a bare addr-spec (no display name) with a dotted domain.
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && isHostname(s[at+1:]) && strings.Contains(s[at+1:], ".")
}

// isHostname applies RFC 1123: dot-separated labels of letters, digits and
// inner hyphens, each 1–63 bytes, 253 bytes in all.
func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// isTime accepts HH:MM[:SS[.frac]] with an optional Z or ±HH:MM offset.
func isTime(s string) bool {
	for _, layout := range [...]string{"15:04:05.999999999Z07:00", "15:04:05.999999999", "15:04Z07:00", "15:04"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// isDuration accepts ISO 8601 durations (P1DT2H, PT0.5S, P2W).
func isDuration(s string) bool {
	if len(s) < 2 || s[0] != 'P' {
		return false
	}
	s = s[1:]
	inTime, any := false, false
	units := "YMWD"
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return false
			}
			inTime, units = true, "HMS"
			s = s[1:]
			if s == "" {
				return false
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
			i++
		}
		if i == 0 || i == len(s) {
			return false
		}
		u := strings.IndexByte(units, s[i])
		if u < 0 {
			return false
		}
		units = units[u+1:]
		any = true
		s = s[i+1:]
	}
	return any
}
