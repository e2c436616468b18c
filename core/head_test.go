package core

import (
	"strings"
	"testing"
)

var testLimits = headLimits{uri: 64, fields: 256, count: 8, maxBody: 1000}

// scanHead scans raw whole, as the front does when a head arrived at once.
func scanHead(raw string, lim *headLimits) (headStep, headFaultKind, int) {
	var s headScan
	step := s.next([]byte(raw), lim)
	return step, s.fault, s.end
}

// TestHeadRules: each rule of head.go on a head that breaks only it.
func TestHeadRules(t *testing.T) {
	const ok = faultNone
	get := func(target string, fields ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + strings.Join(fields, "\r\n") + "\r\n"
	}
	with := func(fields ...string) string { return get("/", append(fields, "")...) }
	cases := []struct {
		name string
		raw  string
		want headFaultKind
	}{
		{"plain", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", ok},
		{"bare LF line ends", "GET / HTTP/1.1\nHost: x\n\n", ok},
		{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", ok},
		{"query", get("/a/b?c=d&e=%20", ""), ok},
		{"absolute-form", "GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", ok},
		{"absolute-form, empty Host", "GET http://x/a HTTP/1.1\r\nHost:\r\n\r\n", ok},
		{"asterisk for OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", ok},
		{"unknown method token", "BREW / HTTP/1.1\r\nHost: x\r\n\r\n", ok},
		{"non-ASCII in target", get("/caf\xc3\xa9", ""), ok},
		{"obs-text in value", with("X-A: \xff\xfe"), ok},
		{"tab in value", with("X-A: a\tb"), ok},
		{"empty value", with("X-A:"), ok},
		{"Expect 100-continue", with("Expect: 100-Continue"), ok},
		{"equal Content-Lengths", with("Content-Length: 5", "Content-Length: 5"), ok},
		{"chunked", with("Transfer-Encoding:  Chunked "), ok},
		{"Content-Length at the limit", with("Content-Length: 1000"), ok},

		{"leading blank line", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", faultRequestLine},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", faultRequestLine},
		{"no version", "GET /\r\nHost: x\r\n\r\n", faultRequestLine},
		{"extra token", "GET / HTTP/1.1 x\r\nHost: x\r\n\r\n", faultRequestLine},
		{"trailing space", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", faultRequestLine},
		{"method not a token", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", faultMethod},
		{"method too long", strings.Repeat("M", 65) + " / HTTP/1.1\r\nHost: x\r\n\r\n", faultMethodLength},
		{"garbage version", "GET / HTTX/1.1\r\nHost: x\r\n\r\n", faultVersion},
		{"lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", faultVersion},
		{"three-digit version", "GET / HTTP/1.10\r\nHost: x\r\n\r\n", faultVersion},
		{"bare CR after version", "GET / HTTP/1.1\rX\r\nHost: x\r\n\r\n", faultVersion},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", faultVersionUnsupported},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", faultVersionUnsupported},
		{"HTTP/0.9", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", faultVersionUnsupported},
		{"relative target", get("a/b", ""), faultTarget},
		{"asterisk for GET", get("*", ""), faultTarget},
		{"authority-form", get("x:80", ""), faultTarget},
		{"scheme without //", get("http:x", ""), faultTarget},
		{"absolute-form without a host", "GET http:///a HTTP/1.1\r\nHost: x\r\n\r\n", faultTarget},
		{"absolute-form with userinfo only", "GET http://u@/a HTTP/1.1\r\nHost: x\r\n\r\n", faultTarget},
		{"absolute-form with a query for a path", "GET http://x?a=b HTTP/1.1\r\nHost: x\r\n\r\n", ok},
		{"control byte in target", get("/a\x01b", ""), faultTargetByte},
		{"DEL in target", get("/a\x7fb", ""), faultTargetByte},
		{"target past max_uri_length", get("/"+strings.Repeat("a", 64), ""), faultURILength},
		{"target at max_uri_length", get("/"+strings.Repeat("a", 63), ""), ok},
		{"no colon", with("NoColon"), faultNoColon},
		{"no colon, then a colon", with("NoColon", "X: y"), faultNoColon},
		{"empty name", with(": v"), faultEmptyName},
		{"space before colon", with("X-A : v"), faultNameSpace},
		{"tab before colon", with("Content-Length\t: 5"), faultNameSpace},
		{"space in name", with("X A: v"), faultNameByte},
		{"non-ASCII name", with("X-\xc3\xa9: v"), faultNameByte},
		{"control byte in name", with("X-\x01: v"), faultNameByte},
		{"NUL in name", with("X\x00: v"), faultNameByte},
		{"NUL in value", with("X: a\x00b"), faultValueByte},
		{"bare CR in value", with("X: a\rb"), faultValueByte},
		{"DEL in value", with("X: a\x7f"), faultValueByte},
		{"obs-fold", with("X: a", " b"), faultFolding},
		{"two Hosts", with("Host: y"), faultHosts},
		{"two Hosts, any case", with("hOST: x"), faultHosts},
		{"userinfo in Host", "GET / HTTP/1.1\r\nHost: u@x\r\n\r\n", faultHostUserinfo},
		{"only userinfo in Host", "GET / HTTP/1.0\r\nHost: @\r\n\r\n", faultHostUserinfo},
		{"no Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", faultNoHost},
		{"empty Host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", faultNoHost},
		{"Content-Length not a number", with("Content-Length: 5x"), faultContentLength},
		{"negative Content-Length", with("Content-Length: -1"), faultContentLength},
		{"empty Content-Length", with("Content-Length:"), faultContentLength},
		{"Content-Length list", with("Content-Length: 5, 5"), faultContentLength},
		{"Content-Length past int64", with("Content-Length: 99999999999999999999"), faultContentLength},
		{"conflicting Content-Lengths", with("Content-Length: 5", "Content-Length: 6"), faultContentLengths},
		{"two Transfer-Encodings", with("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), faultTransferEncodings},
		{"gzip, chunked", with("Transfer-Encoding: gzip, chunked"), faultTransferEncoding},
		{"xchunked", with("Transfer-Encoding: xchunked"), faultTransferEncoding},
		{"TE and CL", with("Transfer-Encoding: chunked", "Content-Length: 5"), faultTEAndCL},
		{"CL and TE", with("content-length: 5", "transfer-encoding: chunked"), faultTEAndCL},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", faultTEInHTTP10},
		{"Expect other than 100-continue", with("Expect: 200-ok"), faultExpect},
		{"Content-Length past max_body_size", with("Content-Length: 1001"), faultBodySize},
		{"Content-Length past max_body_size, Expect", with("Expect: 100-continue", "Content-Length: 1001"), faultBodySize},
		{"fields at max_header_count", with("A: 1", "B: 2", "C: 3", "D: 4", "E: 5", "F: 6", "G: 7"), ok},
		{"fields past max_header_count", with("A: 1", "B: 2", "C: 3", "D: 4", "E: 5", "F: 6", "G: 7", "H: 8"), faultFieldsCount},
		{"fields past max_header_size", with("X: " + strings.Repeat("v", 256)), faultFieldsSize},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			step, fault, end := scanHead(c.raw, &testLimits)
			switch {
			case c.want == ok && (step != headDone || end != len(c.raw)):
				t.Fatalf("step %d fault %d end %d, want the head accepted whole (%d bytes)", step, fault, end, len(c.raw))
			case c.want != ok && (step != headFault || fault != c.want):
				t.Fatalf("step %d fault %d, want fault %d", step, fault, c.want)
			}
			// Byte by byte, a head comes to the same end, and a faulty one
			// is refused no later than its last byte.
			var s headScan
			for n := 0; n <= len(c.raw); n++ {
				got := s.next([]byte(c.raw[:n]), &testLimits)
				if got == headMore {
					continue
				}
				if got != step || (got == headDone && s.end != end) {
					t.Fatalf("fed %d of %d bytes: step %d fault %d end %d; whole: step %d fault %d end %d",
						n, len(c.raw), got, s.fault, s.end, step, fault, end)
				}
				return
			}
			t.Fatalf("fed byte by byte, the head never ended")
		})
	}
}

// TestHeadRefusedEarly: what the bytes so far already break is refused
// before the line ends, so a client cannot make the server buffer more
// than the limits (or wait on a line that can only fail).
func TestHeadRefusedEarly(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want headFaultKind
	}{
		{"TLS handshake", "\x16\x03\x01\x02\x00\x01", faultMethod},
		{"space first", " GET", faultMethod},
		{"endless method", strings.Repeat("G", 65), faultMethodLength},
		{"endless target", "GET /" + strings.Repeat("a", 64), faultURILength},
		{"endless version", "GET / HTTP/1.1.1.1", faultVersion},
		{"endless field line", "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 254), faultFieldsSize},
	}
	for _, c := range cases {
		var s headScan
		if got := s.next([]byte(c.raw), &testLimits); got != headFault || s.fault != c.want {
			t.Errorf("%s: step %d fault %d, want fault %d", c.name, got, s.fault, c.want)
		}
	}
	var s headScan
	if got := s.next([]byte("GET / HTTP/1.1\r\nX: "+strings.Repeat("v", 200)), &testLimits); got != headMore {
		t.Errorf("a field line within the limits, still arriving: step %d fault %d", got, s.fault)
	}
}

// TestHeadNoLimits: a zero limit is no limit.
func TestHeadNoLimits(t *testing.T) {
	raw := "GET /" + strings.Repeat("a", 100<<10) + " HTTP/1.1\r\nHost: x\r\n" +
		strings.Repeat("X: y\r\n", 10000) + "Content-Length: 99999999999\r\n\r\n"
	if step, fault, _ := scanHead(raw, &headLimits{}); step != headDone {
		t.Fatalf("step %d fault %d", step, fault)
	}
}

// typicalHead is what wrk sends in the benchmarks, plus what a browser
// adds.
const typicalHead = "GET /users/42?q=hello HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n" +
	"Accept: application/json\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n" +
	"Connection: keep-alive\r\nCookie: session=abcdef0123456789; theme=dark\r\n\r\n"

func TestHeadScanAllocatesNothing(t *testing.T) {
	b := []byte(typicalHead)
	lim := DefaultConfig()
	limits := headLimits{uri: lim.MaxURILength, fields: lim.MaxHeaderSize, count: lim.MaxHeaderCount, maxBody: lim.MaxBodySize}
	if n := testing.AllocsPerRun(100, func() {
		var s headScan
		if s.next(b, &limits) != headDone {
			t.Fatal("refused")
		}
	}); n != 0 {
		t.Fatalf("a head scan allocates %v times", n)
	}
}

func BenchmarkHeadScan(b *testing.B) {
	buf := []byte(typicalHead)
	lim := headLimits{uri: 8 << 10, fields: 16 << 10, count: 100, maxBody: 10 << 20}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var s headScan
		if s.next(buf, &lim) != headDone {
			b.Fatal("refused")
		}
	}
}
