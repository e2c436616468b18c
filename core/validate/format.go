package validate

import (
	"net/netip"
	"net/url"
	"strings"
)

// Format checks. Each reports whether s is valid for the format, with the
// same acceptance rules as the general validator's format assertions, and
// none allocates for the common formats (uuid, date, date-time, time,
// ipv4, ipv6).

// formatCheckers names the formats the compiled validator asserts. Other
// formats the general validator knows make a schema unsupported; formats
// nobody knows are annotations and ignored.
var formatCheckers = map[string]func(string) bool{
	"uuid":      isUUID,
	"date":      isDate,
	"date-time": isDateTime,
	"time":      isTime,
	"duration":  isDuration,
	"email":     isEmail,
	"uri":       isURI,
	"iri":       isURI,
	"ipv4":      isIPv4,
	"ipv6":      isIPv6,
}

// generalFormats are the other formats the general validator asserts.
var generalFormats = map[string]bool{
	"json-pointer": true, "relative-json-pointer": true, "period": true, "hostname": true,
	"uri-reference": true, "iri-reference": true, "uri-template": true, "semver": true, "regex": true,
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if hexVal(s[i]) < 0 {
				return false
			}
		}
	}
	return true
}

func atoiFixed(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, len(s) > 0
}

// isDate accepts full-date (YYYY-MM-DD) with a real day of the month.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := atoiFixed(s[:4])
	m, ok2 := atoiFixed(s[5:7])
	d, ok3 := atoiFixed(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// isTime accepts RFC 3339 full-time, with a leap second only at 23:59:60
// UTC.
func isTime(s string) bool {
	if len(s) < 9 || s[2] != ':' || s[5] != ':' {
		return false
	}
	h, ok1 := atoiFixed(s[:2])
	m, ok2 := atoiFixed(s[3:5])
	sec, ok3 := atoiFixed(s[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 {
		return false
	}
	s = s[8:]
	if len(s) > 0 && s[0] == '.' {
		n := 1
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == 1 {
			return false
		}
		s = s[n:]
	}
	if s != "z" && s != "Z" {
		if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
			return false
		}
		zh, ok1 := atoiFixed(s[1:3])
		zm, ok2 := atoiFixed(s[4:])
		if !ok1 || !ok2 || zh > 23 || zm > 59 {
			return false
		}
		sign := 1
		if s[0] == '+' {
			sign = -1
		}
		hm := h*60 + m + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	return sec < 60 || (h == 23 && m == 59)
}

func isDateTime(s string) bool {
	return len(s) >= 20 && (s[10] == 'T' || s[10] == 't') && isDate(s[:10]) && isTime(s[11:])
}

// isDuration accepts ISO 8601 durations as RFC 3339 appendix A defines
// them: PnW, or PnYnMnD with an optional TnHnMnS part, units in order.
func isDuration(s string) bool {
	if len(s) < 2 || s[0] != 'P' {
		return false
	}
	s = s[1:]
	if w, ok := strings.CutSuffix(s, "W"); ok {
		_, ok := atoiFixed(w)
		return ok
	}
	date, tm, hasT := strings.Cut(s, "T")
	if hasT && (tm == "" || strings.IndexByte(tm, 'T') >= 0) {
		return false
	}
	return durationPart(date, "YMD") && durationPart(tm, "HMS")
}

func durationPart(s, units string) bool {
	for s != "" {
		n := 0
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == 0 || n == len(s) {
			return false
		}
		j := strings.IndexByte(units, s[n])
		if j < 0 {
			return false
		}
		units = units[j+1:]
		s = s[n+1:]
	}
	return true
}

func isIPv4(s string) bool {
	groups := 0
	for s != "" || groups == 0 {
		g, rest, found := strings.Cut(s, ".")
		if len(g) == 0 || len(g) > 3 || (len(g) > 1 && g[0] == '0') {
			return false
		}
		n, ok := atoiFixed(g)
		if !ok || n > 255 {
			return false
		}
		groups++
		s = rest
		if !found {
			break
		}
		if s == "" {
			return false
		}
	}
	return groups == 4
}

func isIPv6(s string) bool {
	if strings.IndexByte(s, ':') < 0 {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// isEmail accepts an RFC 5321 mailbox: a dot-atom or quoted local part of
// at most 64 bytes, and a hostname or bracketed address literal domain.
func isEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 {
		return false
	}
	if len(local) > 1 && local[0] == '"' && local[len(local)-1] == '"' {
		if strings.ContainsAny(local[1:len(local)-1], `\"`) {
			return false
		}
	} else {
		if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
			return false
		}
		for i := 0; i < len(local); i++ {
			c := local[i]
			if !isAlnum(c) && strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) < 0 {
				return false
			}
		}
	}
	if len(domain) > 1 && domain[0] == '[' && domain[len(domain)-1] == ']' {
		ip := domain[1 : len(domain)-1]
		if v6, ok := strings.CutPrefix(ip, "IPv6:"); ok {
			return isIPv6(v6)
		}
		return isIPv4(ip)
	}
	return isHostname(domain)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c)
}

// isHostname accepts RFC 1123 names: labels of letters, digits and
// hyphens, 1 to 63 bytes, not starting or ending with a hyphen, at most
// 253 bytes in all (a trailing dot allowed).
func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for s != "" {
		label, rest, found := strings.Cut(s, ".")
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
		s = rest
		if found && s == "" {
			return false
		}
	}
	return true
}

func isURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs()
}
