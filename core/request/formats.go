package request

import (
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/spikard/spikard/core/problem"
)

// checkFormat validates s against a JSON Schema "format" other than the
// parsed ones (uuid, date, date-time), returning the human name used in
// the error message when s does not conform, or "" when it does or the
// format is not one Spikard checks (unknown formats are annotations).
func checkFormat(format, s string) string {
	var ok bool
	switch format {
	case "email":
		ok = isEmail(s)
	case "ipv4":
		a, err := netip.ParseAddr(s)
		ok = err == nil && a.Is4()
	case "ipv6":
		a, err := netip.ParseAddr(s)
		ok = err == nil && a.Is6() && a.Zone() == ""
	case "uri":
		u, err := url.Parse(s)
		ok = err == nil && u.Scheme != ""
	case "hostname":
		ok = isHostname(s)
	case "time":
		ok = isTime(s)
	case "duration":
		ok = isDuration(s)
	default:
		return ""
	}
	if ok {
		return ""
	}
	return formatNoun(format)
}

// formatNoun names a format in an error message ("Invalid IPv4 address
// format").
func formatNoun(format string) string {
	switch format {
	case "ipv4":
		return "IPv4 address"
	case "ipv6":
		return "IPv6 address"
	case "uri":
		return "URI"
	}
	return format
}

// formatCtx is the ctx of a format error: the format and the value.
func formatCtx(format, s string) []byte {
	out := append([]byte(`{"format":`), problem.AppendString(nil, format)...)
	out = append(out, `,"value":`...)
	out = problem.AppendString(out, s)
	return append(out, '}')
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
