package core

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHostileInputs sends malformed and abusive requests over a real
// connection and checks that each one gets a complete answer, never a
// 5xx, a reset or a hang: a success whose echoed params are valid JSON,
// or a 4xx whose body is a problem document or one of the documented
// bare shapes ({"detail"} for an unreadable body, {"error"} for framing).
func TestHostileInputs(t *testing.T) {
	echo := func(r *Request) Response {
		return Response{Status: 200, Body: append([]byte(nil), r.Params...)}
	}
	_, base := startApp(t, func(c *Config) { c.MaxBodySize = 64 << 10 },
		RouteSpec{Method: "GET", Path: "/p/{id:int}", Handler: echo},
		RouteSpec{Method: "GET", Path: "/s/{name}", Handler: echo,
			ParameterSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","source":"path","maxLength":8}},"required":["name"]}`)},
		RouteSpec{Method: "GET", Path: "/q", Handler: echo,
			ParameterSchema: json.RawMessage(`{"type":"object","properties":{
				"s":{"type":"string","source":"query","pattern":"^[a-z]*$"},
				"n":{"type":"integer","source":"query"},
				"t":{"type":"array","source":"query","items":{"type":"integer"},"maxItems":3},
				"x_tok":{"type":"string","source":"header","minLength":2},
				"sid":{"type":"string","source":"cookie","minLength":2}}}`)},
		RouteSpec{Method: "POST", Path: "/j", Handler: echo,
			BodySchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"array","items":{"type":"integer"}}},"required":["a"]}`)},
		RouteSpec{Method: "POST", Path: "/f", Handler: echo,
			BodySchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}`)},
	)
	addr := strings.TrimPrefix(base, "http://")
	manyKeys := strings.Repeat("n=1&", 20000) + "n=2"
	deep := strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000)
	deepArr := `{"a":"x","b":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	mp := func(body string) string {
		return "POST /f HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	post := func(path, ctype, body string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype + "\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	get := func(target string, extra ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + strings.Join(extra, "") + "\r\n"
	}
	cases := []struct {
		name  string
		raw   string
		want4 bool // must be a 4xx (else any non-5xx)
	}{
		{"bad percent in path", get("/s/%zz"), false},
		{"truncated percent in path", get("/s/ab%"), false},
		{"text for int placeholder", get("/p/abc"), true},
		{"overflowing int placeholder", get("/p/99999999999999999999999"), true},
		{"invalid utf-8 in path", get("/s/%ff%fe"), false},
		{"bad percent in query", get("/q?s=%zz&n=%"), false},
		{"invalid utf-8 in query", get("/q?s=%ff%fe"), true},
		{"NUL in query", get("/q?s=a%00b"), true},
		{"int overflow in query", get("/q?n=99999999999999999999"), true},
		{"huge query count", get("/q?" + manyKeys), false},
		{"huge list over maxItems", get("/q?" + strings.Repeat("t=1&", 5000)), true},
		{"invalid utf-8 in header", get("/q", "X-Tok: \xff\xfe\r\n"), false},
		{"invalid utf-8 in cookie", get("/q", "Cookie: sid=\xff\xfe\r\n"), false},
		{"malformed cookie header", get("/q", "Cookie: ;;;=;sid\r\n"), false},
		{"malformed JSON", post("/j", "application/json", `{"a":`), true},
		{"invalid utf-8 in JSON", post("/j", "application/json", "{\"a\":\"\xff\"}"), true},
		{"JSON with trailing garbage", post("/j", "application/json", `{"a":"x"} x`), true},
		{"empty JSON body", post("/j", "application/json", ""), true},
		{"JSON wrong content type", post("/j", "text/plain", `{"a":"x"}`), true},
		{"JSON bad charset", post("/j", "application/json; charset=latin1", `{"a":"x"}`), true},
		{"deeply nested object", post("/j", "application/json", deep), true},
		{"deeply nested array", post("/j", "application/json", deepArr), true},
		{"oversize body", post("/j", "application/json", `{"a":"`+strings.Repeat("x", 70<<10)+`"}`), true},
		{"oversize declared length", "POST /j HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n" + strings.Repeat(" ", 9<<10), true},
		{"chunked JSON", "POST /j HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n0\r\n\r\n", true},
		{"chunked bad size", "POST /j HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", true},
		{"form bad percent", post("/f", "application/x-www-form-urlencoded", "a=%zz"), true},
		{"form invalid utf-8", post("/f", "application/x-www-form-urlencoded", "a=%ff"), true},
		{"multipart no boundary", post("/f", "multipart/form-data", "--XX--"), true},
		{"multipart unterminated", mp("--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1"), true},
		{"multipart no headers end", mp("--XX\r\nContent-Disposition: form-data; name=\"a\"1\r\n--XX--"), true},
		{"multipart garbage", mp("hello"), true},
		{"multipart empty", mp(""), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, ctype, body := rawExchange(t, addr, c.raw)
			if status >= 500 || status < 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			if c.want4 && (status < 400 || status >= 500) {
				t.Fatalf("status %d, want a 4xx: %s", status, body)
			}
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("status %d: body is not JSON (%v): %q", status, err, body)
			}
			if status < 400 {
				return
			}
			_, hasType := doc["type"]
			_, hasDetail := doc["detail"]
			_, hasError := doc["error"]
			switch {
			case hasType:
				if ctype != "application/problem+json" || doc["status"] != float64(status) {
					t.Errorf("problem document with content type %q, status %v: %s", ctype, doc["status"], body)
				}
			case hasDetail && len(doc) == 1, hasError && len(doc) == 1:
			default:
				t.Errorf("4xx body is neither a problem document nor a bare shape: %s", body)
			}
		})
	}
}

// rawExchange writes raw on a fresh connection and reads one response,
// failing the test on a reset, a hang (5s deadline) or a malformed answer.
func rawExchange(t *testing.T, addr, raw string) (int, string, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), bytes.TrimSpace(body)
}
