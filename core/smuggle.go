package core

import "bytes"

// checkFraming guards against request smuggling (Hertz v0.10.4 lacks the
// checks of its PR #1490). It scans the raw header block once, without
// allocating, and returns why the request's framing is ambiguous, or "".
// Rejected: Transfer-Encoding together with Content-Length, more than one
// Transfer-Encoding line, a Transfer-Encoding other than exactly
// "chunked", Content-Length lines that disagree, whitespace between a
// framing header's name and its colon, and obsolete line folding. A front
// proxy and this server could otherwise disagree on where the body ends,
// and the remainder would be read as a second request.
func checkFraming(raw []byte) string {
	var te, cls int
	var firstCL []byte
	for len(raw) > 0 {
		var line []byte
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			line, raw = raw, nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return "Obsolete header line folding is not allowed"
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := line[:colon]
		trimmed := bytes.TrimRight(name, " \t")
		isTE := bytes.EqualFold(trimmed, []byte("transfer-encoding"))
		isCL := bytes.EqualFold(trimmed, []byte("content-length"))
		if !isTE && !isCL {
			continue
		}
		if len(trimmed) != len(name) {
			return "Whitespace before a header's colon is not allowed"
		}
		value := bytes.TrimSpace(line[colon+1:])
		if isTE {
			te++
			if te > 1 {
				return "Multiple Transfer-Encoding headers are not allowed"
			}
			if !bytes.EqualFold(value, []byte("chunked")) {
				return "Unsupported Transfer-Encoding"
			}
			continue
		}
		cls++
		if cls == 1 {
			firstCL = value
		} else if !bytes.Equal(firstCL, value) {
			return "Conflicting Content-Length headers"
		}
	}
	if te > 0 && cls > 0 {
		return "Transfer-Encoding and Content-Length together are not allowed"
	}
	return ""
}
