package core

import (
	"bytes"
	"math"
)

// A request head is checked here, against RFC 9112 and the app's limits,
// before Hertz parses it (front.go says why). Hertz v0.10.4 takes any
// request line with two spaces in it, any byte in a field name, and waits
// forever for a colon a field line never gets; it has no limit on the
// request target or the number of fields, and it lacks the request
// smuggling checks of its PR #1490. Each rule below answers what Go's
// net/http would: a 4xx (or 505) and a closed connection.

// headLimits are an app's limits on a request head; 0 means no limit.
type headLimits struct {
	uri     int   // bytes of the request target (max_uri_length)
	fields  int   // bytes of the field lines, line ends included (max_header_size)
	count   int   // field lines (max_header_count)
	maxBody int64 // a larger Content-Length is refused at once (max_body_size)
}

// maxMethodLength bounds a method token: the longest registered method
// (UPDATEREDIRECTREF) has 17 bytes, and a request line that is still
// arriving must not grow without bound before its first space.
const maxMethodLength = 64

// headStep is what one scan of a head's bytes concluded.
type headStep uint8

const (
	headMore  headStep = iota // no fault so far; the head has not ended
	headDone                  // the head ended (at headScan.end) and broke no rule
	headFault                 // the head broke a rule (headScan.fault)
)

// headFaultKind says which rule a head broke. The front turns it into a
// problem document (front.go, faultProblem).
type headFaultKind uint8

const (
	faultNone headFaultKind = iota
	faultRequestLine
	faultMethod
	faultMethodLength
	faultTarget
	faultTargetByte
	faultVersion
	faultVersionUnsupported
	faultURILength
	faultFieldsSize
	faultFieldsCount
	faultNoColon
	faultEmptyName
	faultNameSpace
	faultNameByte
	faultValueByte
	faultFolding
	faultHosts
	faultHostUserinfo
	faultContentLength
	faultContentLengths
	faultTransferEncodings
	faultTransferEncoding
	faultTEAndCL
	faultTEInHTTP10
	faultNoHost
	faultExpect
	faultBodySize
)

// headScan is the state of one request head being checked. It resumes at
// the first line it has not seen, so a head that arrives in pieces is
// scanned once; it keeps offsets and values, never slices, because the
// bytes it is handed may move between calls. The zero value starts a head.
type headScan struct {
	pos    int // offset of the first line not scanned yet
	end    int // with headDone: the head's length, blank line included
	line   int // lines scanned, the request line first
	size   int // bytes of the field lines so far
	hosts  int
	tes    int
	cls    int
	cl     int64 // the first Content-Length
	http10 bool
	// absolute: the target is in absolute-form, whose authority stands in
	// for an empty Host field.
	absolute  bool
	emptyHost bool
	fault     headFaultKind
}

// next scans buf, the bytes of the head so far from its first byte, and
// says whether the head is complete, broke a rule, or needs more bytes. A
// rule that the bytes so far already break (a target past the limit, a
// method byte that is not a token) is reported without waiting for the
// line's end.
func (s *headScan) next(buf []byte, lim *headLimits) headStep {
	for {
		rest := buf[s.pos:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return s.partial(rest, lim)
		}
		line := rest[:i]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		s.pos += i + 1
		s.line++
		if s.line == 1 {
			if !s.requestLine(line, lim) {
				return headFault
			}
			continue
		}
		if len(line) == 0 {
			s.end = s.pos
			return s.finish(lim)
		}
		s.size += i + 1
		if lim.fields > 0 && s.size > lim.fields {
			return s.fail(faultFieldsSize)
		}
		if lim.count > 0 && s.line-1 > lim.count {
			return s.fail(faultFieldsCount)
		}
		if !s.field(line) {
			return headFault
		}
	}
}

func (s *headScan) fail(f headFaultKind) headStep {
	s.fault = f
	return headFault
}

// partial checks the line still arriving for what its bytes already break.
func (s *headScan) partial(rest []byte, lim *headLimits) headStep {
	if s.line > 0 {
		// Its line end will add one byte at least, unless all that came is
		// the CR of the blank line.
		if lim.fields > 0 && s.size+len(rest)+1 > lim.fields && !(len(rest) == 1 && rest[0] == '\r') {
			return s.fail(faultFieldsSize)
		}
		return headMore
	}
	sp := bytes.IndexByte(rest, ' ')
	method := rest
	if sp >= 0 {
		method = rest[:sp]
	}
	if !isToken(method) && (len(method) > 0 || sp >= 0) {
		return s.fail(faultMethod)
	}
	if len(method) > maxMethodLength {
		return s.fail(faultMethodLength)
	}
	if sp < 0 {
		return headMore
	}
	target := rest[sp+1:]
	sp = bytes.IndexByte(target, ' ')
	if sp < 0 {
		if lim.uri > 0 && len(target) > lim.uri {
			return s.fail(faultURILength)
		}
		return headMore
	}
	if lim.uri > 0 && sp > lim.uri {
		return s.fail(faultURILength)
	}
	if len(target)-sp-1 > len("HTTP/1.1\r") {
		return s.fail(faultVersion)
	}
	return headMore
}

// requestLine checks request-line = method SP request-target SP
// HTTP-version: single spaces, a token for the method, HTTP/1.0 or
// HTTP/1.1 (another well-formed version is a 505), and a target in
// origin-form, absolute-form, or "*" for OPTIONS.
func (s *headScan) requestLine(line []byte, lim *headLimits) bool {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		s.fault = faultRequestLine
		return false
	}
	method := line[:sp]
	if !isToken(method) {
		s.fault = faultMethod
		return false
	}
	if len(method) > maxMethodLength {
		s.fault = faultMethodLength
		return false
	}
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		s.fault = faultRequestLine
		return false
	}
	target, version := rest[:sp], rest[sp+1:]
	if bytes.IndexByte(version, ' ') >= 0 {
		s.fault = faultRequestLine // an extra token
		return false
	}
	switch {
	case len(version) != 8 || string(version[:5]) != "HTTP/" || !isDigit(version[5]) || version[6] != '.' || !isDigit(version[7]):
		s.fault = faultVersion
		return false
	case version[5] != '1' || (version[7] != '0' && version[7] != '1'):
		s.fault = faultVersionUnsupported
		return false
	}
	s.http10 = version[7] == '0'
	if lim.uri > 0 && len(target) > lim.uri {
		s.fault = faultURILength
		return false
	}
	if !targetForm(method, target) {
		s.fault = faultTarget
		return false
	}
	s.absolute = target[0] != '/' && target[0] != '*'
	for _, c := range target {
		if c < 0x21 || c == 0x7f {
			s.fault = faultTargetByte
			return false
		}
	}
	return true
}

// targetForm: origin-form ("/..."), absolute-form (scheme "://" host
// ...), or asterisk-form for OPTIONS. Authority-form is CONNECT's, which
// the core does not serve. An absolute-form target's host stands in for
// the Host field, so it must not be empty.
func targetForm(method, target []byte) bool {
	if target[0] == '/' {
		return true
	}
	if len(target) == 1 && target[0] == '*' {
		return string(method) == "OPTIONS"
	}
	// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
	i := bytes.Index(target, []byte("://"))
	if i <= 0 || !isAlpha(target[0]) {
		return false
	}
	for _, c := range target[1:i] {
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	authority := target[i+3:]
	if j := bytes.IndexAny(authority, "/?"); j >= 0 {
		authority = authority[:j]
	}
	if j := bytes.IndexByte(authority, '@'); j >= 0 {
		authority = authority[j+1:] // userinfo
	}
	return len(authority) > 0
}

// field checks one field line and records what the framing rules need.
func (s *headScan) field(line []byte) bool {
	if line[0] == ' ' || line[0] == '\t' {
		s.fault = faultFolding
		return false
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		s.fault = faultNoColon
		return false
	}
	name, value := line[:colon], line[colon+1:]
	if colon == 0 {
		s.fault = faultEmptyName
		return false
	}
	if c := name[colon-1]; c == ' ' || c == '\t' {
		s.fault = faultNameSpace
		return false
	}
	if !isToken(name) {
		s.fault = faultNameByte
		return false
	}
	for _, c := range value {
		if !fieldValueByte[c] {
			s.fault = faultValueByte
			return false
		}
	}
	switch len(name) {
	case 4:
		if bytes.EqualFold(name, []byte("host")) {
			if s.hosts++; s.hosts > 1 {
				s.fault = faultHosts
				return false
			}
			v := trimOWS(value)
			if bytes.IndexByte(v, '@') >= 0 {
				// Host = uri-host [":" port]; Hertz would take what
				// follows the "@" for the host.
				s.fault = faultHostUserinfo
				return false
			}
			s.emptyHost = len(v) == 0
		}
	case 6:
		if bytes.EqualFold(name, []byte("expect")) && !bytes.EqualFold(trimOWS(value), []byte("100-continue")) {
			s.fault = faultExpect
			return false
		}
	case 14:
		if bytes.EqualFold(name, []byte("content-length")) {
			n, ok := contentLength(trimOWS(value))
			switch {
			case !ok:
				s.fault = faultContentLength
				return false
			case s.cls > 0 && n != s.cl:
				s.fault = faultContentLengths
				return false
			}
			s.cls++
			s.cl = n
		}
	case 17:
		if bytes.EqualFold(name, []byte("transfer-encoding")) {
			if s.tes++; s.tes > 1 {
				s.fault = faultTransferEncodings
				return false
			}
			if !bytes.EqualFold(trimOWS(value), []byte("chunked")) {
				s.fault = faultTransferEncoding
				return false
			}
		}
	}
	return true
}

// finish applies the rules that need the whole head.
func (s *headScan) finish(lim *headLimits) headStep {
	switch {
	case s.tes > 0 && s.cls > 0:
		return s.fail(faultTEAndCL)
	case s.tes > 0 && s.http10:
		return s.fail(faultTEInHTTP10)
	case !s.http10 && (s.hosts == 0 || s.emptyHost && !s.absolute):
		return s.fail(faultNoHost)
	case s.cls > 0 && lim.maxBody > 0 && s.cl > lim.maxBody:
		return s.fail(faultBodySize)
	}
	return headDone
}

// contentLength reads Content-Length = 1*DIGIT; a value past int64 is
// refused like any other malformed one.
func contentLength(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) || n > (math.MaxInt64-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenByte[c] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// tokenByte: tchar of RFC 9110 §5.6.2. fieldValueByte: field-vchar, SP,
// HTAB and obs-text; every other control byte (NUL, CR, LF, DEL) is refused.
var tokenByte, fieldValueByte = func() (t, v [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		t[c] = isAlpha(b) || isDigit(b) || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), b) >= 0
		v[c] = (c >= 0x20 && c != 0x7f) || c == '\t'
	}
	return t, v
}()
