package validate

import "unicode/utf8"

// The scanner primitives. Each takes the document and a position and
// returns the position just past what it read, or -1 when the bytes there
// are not JSON. The grammar is RFC 8259's, enforced as strictly as
// encoding/json enforces it (no leading zeros, no bare control characters
// in strings, no trailing commas), plus one rule encoding/json does not
// have: strings must be valid UTF-8, because RFC 8259 requires UTF-8 for
// JSON exchanged between systems and the host's decoder rejects anything
// else.

// maxDepth bounds nesting, as encoding/json does, so a hostile document
// cannot exhaust the stack; CheckDepth takes a smaller bound.
const maxDepth = 10000

// tooDeep is what skipValue returns for a value nested past its limit.
const tooDeep = -2

func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// strInfo describes a scanned string.
type strInfo struct {
	esc   bool // contains a backslash escape
	runes int  // code points, exact only when esc is false
}

// plain marks the bytes a string may hold as they are and that end no
// run: printable ASCII other than the quote and the backslash. It is
// read-only after package initialisation.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString reads the string whose opening quote is at i.
func scanString(d []byte, i int) (int, strInfo) {
	var si strInfo
	i++
	for {
		j := i
		for j < len(d) && plain[d[j]] {
			j++
		}
		si.runes += j - i
		i = j
		if i >= len(d) {
			return -1, si
		}
		c := d[i]
		if c == '"' {
			return i + 1, si
		}
		if c < 0x20 {
			return -1, si
		}
		if c == '\\' {
			si.esc = true
			if i+1 >= len(d) {
				return -1, si
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return -1, si
				}
				for _, h := range d[i+2 : i+6] {
					if hexVal(h) < 0 {
						return -1, si
					}
				}
				i += 6
			default:
				return -1, si
			}
			si.runes++
			continue
		}
		r, size := utf8.DecodeRune(d[i:])
		if r == utf8.RuneError && size == 1 {
			return -1, si
		}
		i += size
		si.runes++
	}
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// unescape appends the decoded contents of the string raw (the bytes
// between the quotes, already checked by scanString) to dst. Like
// encoding/json, a lone surrogate becomes U+FFFD.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if r >= 0xD800 && r < 0xDC00 {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := hex4(raw[i+2:]); r2 >= 0xDC00 && r2 < 0xE000 {
						dst = utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(r2-0xDC00))
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	return rune(hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3]))
}

// numInfo describes a scanned number.
type numInfo struct {
	frac bool // has a fraction part
	exp  bool // has an exponent
}

// scanNumber reads the number starting at i.
func scanNumber(d []byte, i int) (int, numInfo) {
	var ni numInfo
	if i < len(d) && d[i] == '-' {
		i++
	}
	if i >= len(d) {
		return -1, ni
	}
	switch {
	case d[i] == '0':
		i++
	case d[i] >= '1' && d[i] <= '9':
		i++
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return -1, ni
	}
	if i < len(d) && d[i] == '.' {
		ni.frac = true
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return -1, ni
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		ni.exp = true
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return -1, ni
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	return i, ni
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanLiteral reads true, false or null at i.
func scanLiteral(d []byte, i int, lit string) int {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// skipValue reads any value at i (whitespace already skipped) and checks
// its syntax; a container at depth limit or deeper is tooDeep.
func skipValue(d []byte, i, depth, limit int) int {
	if i >= len(d) {
		return -1
	}
	switch c := d[i]; c {
	case '"':
		i, _ = scanString(d, i)
		return i
	case '{', '[':
		if depth >= limit {
			return tooDeep
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == closer {
			return i + 1
		}
		for {
			if c == '{' {
				if i >= len(d) || d[i] != '"' {
					return -1
				}
				if i, _ = scanString(d, i); i < 0 {
					return -1
				}
				i = skipWS(d, i)
				if i >= len(d) || d[i] != ':' {
					return -1
				}
				i = skipWS(d, i+1)
			}
			if i = skipValue(d, i, depth+1, limit); i < 0 {
				return i
			}
			i = skipWS(d, i)
			if i >= len(d) {
				return -1
			}
			if d[i] == closer {
				return i + 1
			}
			if d[i] != ',' {
				return -1
			}
			i = skipWS(d, i+1)
		}
	case 't':
		return scanLiteral(d, i, "true")
	case 'f':
		return scanLiteral(d, i, "false")
	case 'n':
		return scanLiteral(d, i, "null")
	default:
		i, _ = scanNumber(d, i)
		return i
	}
}
