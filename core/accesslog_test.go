package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// accessLineShape is the documented format (spikard.h, SPIKARD_EVENT_LOG).
var accessLineShape = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ "([A-Z]+) (\S+) HTTP/1\.1" (\d{3}) \d+\.\d{3}ms (\S+)$`)

func TestAccessLineFormat(t *testing.T) {
	start := time.Date(2026, 12, 3, 12, 46, 55, 123456789, time.FixedZone("CET", 3600))
	addr := &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 54321}
	cases := []struct {
		took   time.Duration
		target string
		id     string
		want   string
	}{
		{412 * time.Microsecond, "/items/7?q=1", "",
			`2026-12-03T11:46:55.123Z 10.1.2.3:54321 "GET /items/7?q=1 HTTP/1.1" 200 0.412ms -` + "\n"},
		{1234567 * time.Microsecond, "/a", "4bf92f35",
			`2026-12-03T11:46:55.123Z 10.1.2.3:54321 "GET /a HTTP/1.1" 200 1234.567ms 4bf92f35` + "\n"},
		{5 * time.Microsecond, `/q?"x"\y` + "\xc3\xa9", "",
			`2026-12-03T11:46:55.123Z 10.1.2.3:54321 "GET /q?\x22x\x22\x5cy\xc3\xa9 HTTP/1.1" 200 0.005ms -` + "\n"},
	}
	for _, c := range cases {
		got := string(appendAccessLine(nil, start, c.took, addr, []byte("GET"), []byte(c.target), "HTTP/1.1", 200, []byte(c.id)))
		if got != c.want {
			t.Errorf("line\n got %q\nwant %q", got, c.want)
		}
	}
	v6 := &net.TCPAddr{IP: net.ParseIP("::1"), Port: 8}
	got := string(appendAccessLine(nil, start, 0, v6, []byte("PUT"), []byte("/"), "HTTP/1.0", 503, nil))
	if want := `2026-12-03T11:46:55.123Z [::1]:8 "PUT / HTTP/1.0" 503 0.000ms -` + "\n"; got != want {
		t.Errorf("IPv6 line %q, want %q", got, want)
	}
}

func TestAccessLogOffHasNone(t *testing.T) {
	log := &testLogger{}
	a, base := startApp(t, func(c *Config) { c.Logger = log },
		RouteSpec{Method: "GET", Path: "/", Handler: func(*Request) Response { return Response{Status: 204} }})
	if a.alog != nil {
		t.Fatal("an access log exists while off")
	}
	get(t, base+"/")
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if lines := log.all(); len(lines) != 0 {
		t.Fatalf("lines while off: %q", lines)
	}
}

// logHost serves lane 0 of a: it answers requests with status 200 and
// collects the lines of EventLog batches until the lane closes, then
// sends them on done.
func logHost(a *App, done chan<- []string) {
	var lines []string
	l := a.Lane(0)
	var batch [16]*Request
	for {
		n, err := l.Poll(batch[:], -1)
		if errors.Is(err, ErrClosed) {
			done <- lines
			return
		}
		for _, r := range batch[:n] {
			if r.Kind == EventLog {
				if r.Exchange != 0 || len(r.Body) == 0 || r.Body[len(r.Body)-1] != '\n' {
					lines = append(lines, fmt.Sprintf("BAD EVENT %d %q", r.Exchange, r.Body))
				}
				lines = append(lines, strings.Split(strings.TrimSuffix(string(r.Body), "\n"), "\n")...)
				continue
			}
			_ = a.Respond(r.Exchange, Response{Status: 200, Body: []byte("ok")})
		}
	}
}

func TestAccessLogEventsFlushAtStop(t *testing.T) {
	// Without request ids a line ends in "-" (TestAccessLogNamesTheRequestID
	// has them).
	a, base := startApp(t, func(c *Config) { c.AccessLog, c.AccessLogEvents, c.RequestID.Enabled = true, true, false },
		RouteSpec{Method: "GET", Path: "/items/{id:int}"})
	done := make(chan []string, 1)
	go logHost(a, done)
	for i := range 20 {
		if r := get(t, fmt.Sprintf("%s/items/%d?x=%d", base, i, i)); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
	}
	get(t, base+"/nothing") // core's own 404 is logged too
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := <-done
	if len(lines) != 21 {
		t.Fatalf("%d lines, want 21: %q", len(lines), lines)
	}
	for i, line := range lines[:20] {
		m := accessLineShape.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %q has not the documented shape", line)
		}
		if want := fmt.Sprintf("/items/%d?x=%d", i, i); m[1] != "GET" || m[2] != want || m[3] != "200" || m[4] != "-" {
			t.Errorf("line %q: want GET %s 200 -, in request order", line, want)
		}
	}
	if m := accessLineShape.FindStringSubmatch(lines[20]); m == nil || m[2] != "/nothing" || m[3] != "404" {
		t.Errorf("404 line %q", lines[20])
	}
}

func TestAccessLogBatchComesWithoutStop(t *testing.T) {
	a, base := startApp(t, func(c *Config) { c.AccessLog, c.AccessLogEvents, c.AccessLogLane = true, true, 3 },
		RouteSpec{Method: "GET", Path: "/", Handler: func(*Request) Response { return Response{Status: 201} }})
	began := time.Now()
	get(t, base+"/")
	var batch [4]*Request
	n, err := a.Lane(3).Poll(batch[:], 5*time.Second)
	if err != nil || n != 1 || batch[0].Kind != EventLog {
		t.Fatalf("poll: %d %v", n, err)
	}
	if waited := time.Since(began); waited > accessLogInterval+time.Second {
		t.Errorf("the batch came after %v, more than the interval %v allows", waited, accessLogInterval)
	}
	if m := accessLineShape.FindStringSubmatch(strings.TrimSuffix(string(batch[0].Body), "\n")); m == nil || m[3] != "201" {
		t.Fatalf("batch %q", batch[0].Body)
	}
}

// TestAccessLogNoLineLost: concurrent clients, lines on the Logger; after
// the stop every request has exactly one line. Run with -race.
func TestAccessLogNoLineLost(t *testing.T) {
	log := &testLogger{}
	a, base := startApp(t, func(c *Config) { c.AccessLog, c.Logger = true, log },
		RouteSpec{Method: "GET", Path: "/n/{i:int}", Handler: func(*Request) Response { return Response{Status: 200} }})
	const clients, each = 16, 40
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				resp, err := cl.Get(fmt.Sprintf("%s/n/%d", base, c*each+i))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range log.all() {
		m := accessLineShape.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %q", line)
		}
		if seen[m[2]] {
			t.Fatalf("%s logged twice", m[2])
		}
		seen[m[2]] = true
	}
	if len(seen) != clients*each {
		t.Fatalf("%d lines for %d requests", len(seen), clients*each)
	}
}

// TestAccessLogBatchesBySize: once accessLogBatchBytes of lines are
// pending a batch goes out, without waiting for the interval (here an
// hour); the stop ships the rest, in order.
func TestAccessLogBatchesBySize(t *testing.T) {
	got := make(chan []byte, 16)
	l := newAccessLog(func(b []byte) { got <- b })
	l.every = time.Hour
	l.start()
	line := func(i int) *accessLine {
		return &accessLine{buf: fmt.Appendf(nil, "line %04d %s\n", i, strings.Repeat("x", 90))}
	}
	const full = accessLogBatchBytes/100 + 1 // lines of 100 bytes
	for i := range full {
		l.push(line(i))
	}
	var batches [][]byte
	select {
	case b := <-got:
		batches = append(batches, b)
	case <-time.After(5 * time.Second):
		t.Fatal("no batch once a batch's bytes were pending")
	}
	for i := full; i < full+10; i++ {
		l.push(line(i))
	}
	l.stop()
	close(got)
	for b := range got {
		batches = append(batches, b)
	}
	var all strings.Builder
	for _, b := range batches {
		all.Write(b)
	}
	lines := strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n")
	if len(lines) != full+10 {
		t.Fatalf("%d lines, want %d", len(lines), full+10)
	}
	for i, s := range lines {
		if !strings.HasPrefix(s, fmt.Sprintf("line %04d ", i)) {
			t.Fatalf("line %d is %q: order lost", i, s)
		}
	}
}

// BenchmarkAccessLogRecord is the per-request cost of the access log when
// on: formatting the line and pushing it (the flusher runs meanwhile).
func BenchmarkAccessLogRecord(b *testing.B) {
	l := newAccessLog(func([]byte) {})
	l.start()
	defer l.stop()
	c := app.NewContext(0)
	c.Request.Header.SetMethod("GET")
	c.Request.Header.SetRequestURI("/items/42?q=abc")
	c.Response.SetStatusCode(200)
	ex := &exchange{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		l.record(c, ex, time.Now())
	}
}

func TestAppendStampMatchesTimeFormat(t *testing.T) {
	base := time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)
	for _, d := range []time.Duration{0, 1, 999 * time.Millisecond, time.Second + 5*time.Millisecond,
		2*time.Second + 123456789, 0, 36 * time.Hour} {
		at := base.Add(d).In(time.FixedZone("X", -7*3600))
		got := string(appendStamp(nil, at))
		if want := at.UTC().Format("2006-01-02T15:04:05.000Z"); got != want {
			t.Errorf("appendStamp(%v) = %q, want %q", at, got, want)
		}
	}
}

func TestAccessLineEscapesTheRequestID(t *testing.T) {
	got := string(appendAccessLine(nil, time.Unix(0, 0), 0, nil, []byte("GET"), []byte("/"), "HTTP/1.1", 200, []byte("a b\t\"é")))
	if want := `1970-01-01T00:00:00.000Z - "GET / HTTP/1.1" 200 0.000ms a\x20b\x09\x22\xc3\xa9` + "\n"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
}

// TestAccessLogNamesTheRequestID: with request ids on (the default), each
// line ends in the id the answer carried: the client's own when sane, else
// the one core made.
func TestAccessLogNamesTheRequestID(t *testing.T) {
	a, base := startApp(t, func(c *Config) { c.AccessLog, c.AccessLogEvents = true, true },
		RouteSpec{Method: "GET", Path: "/items/{id:int}"})
	done := make(chan []string, 1)
	go logHost(a, done)
	mine := getWith(t, base+"/items/1", "X-Request-ID", "req-1")
	made := getWith(t, base+"/items/2", "X-Request-ID", "not sane!")
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := <-done
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(lines), lines)
	}
	if mine != "req-1" || made == "" || made == "not sane!" {
		t.Fatalf("answers carried ids %q and %q", mine, made)
	}
	for i, want := range []string{mine, made} {
		if m := accessLineShape.FindStringSubmatch(lines[i]); m == nil || m[4] != want {
			t.Errorf("line %q: want it to end in the answer's id %q", lines[i], want)
		}
	}
}

// getWith GETs url with one header and returns the answer's X-Request-ID.
func getWith(t *testing.T, url, name, value string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(name, value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("X-Request-ID")
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// BenchmarkServeHTTPAccessLog is BenchmarkServeHTTP with the access log
// on (lines to a Logger that drops them): the difference is the log's
// cost per request inside the core.
func BenchmarkServeHTTPAccessLog(b *testing.B) {
	cfg := DefaultConfig()
	cfg.AccessLog, cfg.Logger = true, discardLogger{}
	a := NewApp(cfg)
	a.alog.start()
	defer a.alog.stop()
	benchServeHTTP(b, a)
}
