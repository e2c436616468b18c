package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileAnswer: a host's ResponseFile goes through the file sender:
// its status and headers, the guessed or given type, validators and 304,
// ranges, the download name, WRITTEN, HEAD; a missing file is the
// standard 500 and a log line; a malformed answer is refused.
func TestFileAnswer(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(report, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	answers := map[string]Response{
		"/plain":   {Status: 200, Flags: ResponseFile, Body: []byte(report)},
		"/typed":   {Status: 200, Flags: ResponseFile, Body: []byte(report), Headers: []Header{{Name: []byte("content-type"), Value: []byte("text/plain")}, {Name: []byte("x-a"), Value: []byte("b")}}},
		"/created": {Status: 201, Flags: ResponseFile, Body: []byte(report)},
		"/named":   {Status: 200, Flags: ResponseFile, Body: []byte(report + "\x00Résumé \"2024\".csv")},
		"/ascii":   {Status: 200, Flags: ResponseFile, Body: []byte(report + "\x00data.csv")},
		"/written": {Status: 200, Flags: ResponseFile | ResponseWritten, Body: []byte(report)},
		"/missing": {Status: 200, Flags: ResponseFile, Body: []byte(filepath.Join(dir, "nope.csv"))},
		"/dir":     {Status: 200, Flags: ResponseFile, Body: []byte(dir)},
		"/badhdr":  {Status: 200, Flags: ResponseFile, Body: []byte(report), Headers: []Header{{Name: []byte("content-length"), Value: []byte("3")}}},
		"/stream":  {Status: 200, Flags: ResponseFile | ResponseStream, Body: []byte(report)},
		"/empty":   {Status: 200, Flags: ResponseFile},
	}
	var specs []RouteSpec
	var paths []string
	for p := range answers {
		specs = append(specs, RouteSpec{Method: "GET", Path: p})
		paths = append(paths, p)
	}
	logger := &testLogger{}
	a, base := startApp(t, func(c *Config) { c.Logger = logger }, specs...)
	errs := make(chan error, 64)
	written := make(chan uint64, 4)
	go hostEach(a, 0, func(r *Request) {
		if r.Kind == EventWritten {
			written <- r.Exchange
			return
		}
		errs <- a.Respond(r.Exchange, answers[paths[r.Route]])
	})
	check := func(path string, wantErr bool, hdr ...string) (int, map[string]string, string) {
		t.Helper()
		resp, body := rawGet(t, "GET", base+path, hdr...)
		if err := <-errs; (err != nil) != wantErr {
			t.Errorf("%s: Respond: %v", path, err)
		}
		h := map[string]string{}
		for k := range resp.Header {
			h[strings.ToLower(k)] = resp.Header.Get(k)
		}
		return resp.StatusCode, h, string(body)
	}
	st, h, body := check("/plain", false)
	if st != 200 || body != "a,b\n1,2\n" || h["content-type"] != "text/csv" || h["etag"] == "" || h["last-modified"] == "" || h["content-disposition"] != "" {
		t.Errorf("/plain: %d %v %q", st, h, body)
	}
	if st, _, body := check("/plain", false, "If-None-Match", h["etag"]); st != 304 || body != "" {
		t.Errorf("/plain conditional: %d", st)
	}
	if st, h, body := check("/plain", false, "Range", "bytes=4-"); st != 206 || body != "1,2\n" || h["content-range"] != "bytes 4-7/8" {
		t.Errorf("/plain range: %d %v %q", st, h, body)
	}
	if st, h, _ := check("/typed", false); st != 200 || h["content-type"] != "text/plain" || h["x-a"] != "b" {
		t.Errorf("/typed: %d %v", st, h)
	}
	if st, h, body := check("/created", false, "Range", "bytes=0-1"); st != 201 || body != "a,b\n1,2\n" || h["content-range"] != "" {
		t.Errorf("/created: a status of the host's own is sent whole: %d %v", st, h)
	}
	if _, h, _ := check("/named", false); h["content-disposition"] != `attachment; filename="R_sum_ _2024_.csv"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%222024%22.csv` {
		t.Errorf("/named: %q", h["content-disposition"])
	}
	if _, h, _ := check("/ascii", false); h["content-disposition"] != `attachment; filename="data.csv"` {
		t.Errorf("/ascii: %q", h["content-disposition"])
	}
	if st, _, body := check("/written", false); st != 200 || body != "a,b\n1,2\n" {
		t.Errorf("/written: %d", st)
	}
	<-written
	if st, _, body := check("/missing", false); st != 500 || !strings.Contains(body, `"status":500`) {
		t.Errorf("/missing: %d %s", st, body)
	}
	if !strings.Contains(strings.Join(logger.all(), "\n"), "nope.csv") {
		t.Errorf("the log does not name the missing file: %q", logger.all())
	}
	if st, _, _ := check("/dir", false); st != 500 {
		t.Errorf("/dir: %d", st)
	}
	for _, p := range []string{"/badhdr", "/stream", "/empty"} {
		if st, _, _ := check(p, true); st != 500 {
			t.Errorf("%s: %d", p, st)
		}
	}
	resp, headBody := rawGet(t, "HEAD", base+"/plain")
	<-errs
	if resp.StatusCode != 200 || resp.ContentLength != 8 || len(headBody) != 0 {
		t.Errorf("HEAD: %d %d", resp.StatusCode, resp.ContentLength)
	}
}
