package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"
)

// WebSockets over real TCP, with gorilla/websocket as the client and the
// test as the host: it polls the lane and answers as a binding would. A
// few frames are written raw (fragments, interleaved pings, protocol
// errors), since no client library sends those on purpose.

// wsEvent is a copy of one polled event.
type wsEvent struct {
	id                uint64
	kind, code, flags uint32
	body              string
	headers           map[string]string
}

// wsNext polls p for its next event, waiting up to wireWait.
func wsNext(t *testing.T, p *Poller) wsEvent {
	t.Helper()
	var ev wsEvent
	n, err := p.PollEach(1, wireWait, func(r *Request) {
		ev = wsEvent{id: r.Exchange, kind: r.Kind, code: r.Code, flags: r.Flags, body: string(r.Body)}
		if len(r.Headers) > 0 {
			ev.headers = map[string]string{}
			for _, h := range r.Headers {
				ev.headers[string(h.Name)] = string(h.Value)
			}
		}
	})
	if err != nil || n != 1 {
		t.Fatalf("no event: %d %v", n, err)
	}
	return ev
}

// wantWS checks an event's kind, code and body.
func wantWS(t *testing.T, ev wsEvent, kind, code uint32, body string) {
	t.Helper()
	if ev.kind != kind || ev.code != code || ev.body != body {
		t.Fatalf("event %s code %d body %q, want %s code %d body %q",
			wsKindName(ev.kind), ev.code, ev.body, wsKindName(kind), code, body)
	}
}

func wsKindName(k uint32) string {
	switch k {
	case EventWSOpen:
		return "WS_OPEN"
	case EventWSMessage:
		return "WS_MESSAGE"
	case EventWSClose:
		return "WS_CLOSE"
	}
	return kindName(k)
}

// wsRoute is GET /ws, a WebSocket route on lane 0 with the meta fact.
func wsSpec(ws *WebSocketRoute) RouteSpec {
	if ws == nil {
		ws = &WebSocketRoute{}
	}
	return RouteSpec{Method: "GET", Path: "/ws", Facts: []string{"meta"}, Events: []string{"disconnect"}, WebSocket: ws}
}

// startWS serves wsSpec(ws) and returns the app, a poller of lane 0 and the
// ws:// URL of /ws.
func startWS(t *testing.T, mod func(*Config), ws *WebSocketRoute) (*App, *Poller, string) {
	t.Helper()
	a, base := startApp(t, mod, wsSpec(ws))
	p := a.Lane(0).NewPoller()
	t.Cleanup(p.Close)
	return a, p, "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}

// dialResult is what a dial in the background ended with.
type dialResult struct {
	conn *gws.Conn
	resp *http.Response
	err  error
}

func dialAsync(url string, hdr http.Header, d *gws.Dialer) <-chan dialResult {
	if d == nil {
		d = &gws.Dialer{HandshakeTimeout: wireWait}
	}
	out := make(chan dialResult, 1)
	go func() {
		c, resp, err := d.Dial(url, hdr)
		out <- dialResult{c, resp, err}
	}()
	return out
}

// nextOpen polls p until a WS_OPEN, passing over the closes of WebSockets
// a test has left.
func nextOpen(t *testing.T, p *Poller) wsEvent {
	t.Helper()
	for {
		ev := wsNext(t, p)
		if ev.kind != EventWSClose {
			return ev
		}
	}
}

// connect dials url, accepts the handshake as the host and returns the
// client and the exchange.
func connect(t *testing.T, a *App, p *Poller, url string, d *gws.Dialer) (*gws.Conn, uint64) {
	t.Helper()
	dialed := dialAsync(url, nil, d)
	open := nextOpen(t, p)
	wantWS(t, open, EventWSOpen, 0, "")
	if err := a.Respond(open.id, Response{Flags: ResponseWSAccept}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	r := <-dialed
	if r.err != nil {
		t.Fatalf("dial: %v", r.err)
	}
	t.Cleanup(func() { r.conn.Close() })
	return r.conn, open.id
}

// send writes one message as the host.
func send(t *testing.T, a *App, id uint64, flags uint32, data string) {
	t.Helper()
	if err := a.StreamWrite([]Chunk{{Exchange: id, Flags: flags, Data: []byte(data)}}, nil, 0); err != nil {
		t.Fatalf("StreamWrite(%q): %v", data, err)
	}
}

// readMsg reads one message as the client.
func readMsg(t *testing.T, c *gws.Conn) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wireWait))
	kind, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	return kind, string(data)
}

// readClose reads until the server's close, and returns its code and text.
func readClose(t *testing.T, c *gws.Conn) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wireWait))
	for {
		_, _, err := c.ReadMessage()
		var ce *gws.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		if err != nil {
			t.Fatalf("client read: %v, want a close", err)
		}
	}
}

// frame is one client frame, masked unless raw says otherwise.
func frame(fin bool, op byte, payload []byte, unmasked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	mask := byte(0x80)
	if unmasked {
		mask = 0
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mask|byte(n))
	case n < 1<<16:
		out = append(out, mask|126, byte(n>>8), byte(n))
	default:
		out = append(out, mask|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	if unmasked {
		return append(out, payload...)
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	out = append(out, key[:]...)
	for i, b := range payload {
		out = append(out, b^key[i%4])
	}
	return out
}

// raw writes frames straight to the client's connection.
func raw(t *testing.T, c *gws.Conn, frames ...[]byte) {
	t.Helper()
	if _, err := c.UnderlyingConn().Write(bytes.Join(frames, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketEchoTextAndBinary(t *testing.T) {
	a, p, url := startWS(t, nil, nil)
	c, id := connect(t, a, p, url, nil)
	if err := c.WriteMessage(gws.TextMessage, []byte("héllo")); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMessage(gws.BinaryMessage, []byte{0, 1, 2, 0xff}); err != nil {
		t.Fatal(err)
	}
	ev := wsNext(t, p)
	wantWS(t, ev, EventWSMessage, 0, "héllo")
	if ev.flags != 0 || ev.id != id {
		t.Fatalf("text message flags %d exchange %d, want 0 and %d", ev.flags, ev.id, id)
	}
	ev = wsNext(t, p)
	wantWS(t, ev, EventWSMessage, 0, "\x00\x01\x02\xff")
	if ev.flags != EventFBinary {
		t.Fatalf("binary message flags %d, want EventFBinary", ev.flags)
	}
	send(t, a, id, 0, "text back")
	send(t, a, id, ChunkWSBinary, "\x00bin")
	if k, s := readMsg(t, c); k != gws.TextMessage || s != "text back" {
		t.Fatalf("client got %d %q", k, s)
	}
	if k, s := readMsg(t, c); k != gws.BinaryMessage || s != "\x00bin" {
		t.Fatalf("client got %d %q", k, s)
	}
	// The client closes: its close is answered, and the host's terminal
	// event carries its code and reason.
	_ = c.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(1000, "bye"))
	wantWS(t, wsNext(t, p), EventWSClose, 1000, "bye")
	if code, _ := readClose(t, c); code != 1000 {
		t.Fatalf("the server answered the close with %d, want 1000", code)
	}
	// Over for the host: writes find no exchange.
	if err := a.StreamWrite([]Chunk{{Exchange: id, Data: []byte("late")}}, nil, 0); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("a write after the close: %v, want ErrUnknownExchange", err)
	}
	waitFor(t, "the exchange's release", func() bool { return a.ex.socket(id) == nil })
}

func TestWebSocketFragmentsAndInterleavedPing(t *testing.T) {
	a, p, url := startWS(t, nil, nil)
	c, id := connect(t, a, p, url, nil)
	pongs := make(chan string, 4)
	c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	// "hello" in three fragments with a ping between two of them; then a
	// binary message in two.
	raw(t, c,
		frame(false, 0x1, []byte("he"), false),
		frame(true, 0x9, []byte("are you there"), false),
		frame(false, 0x0, []byte("ll"), false),
		frame(true, 0x0, []byte("o"), false),
		frame(false, 0x2, []byte{1, 2}, false),
		frame(true, 0x0, []byte{3}, false),
	)
	wantWS(t, wsNext(t, p), EventWSMessage, 0, "hello")
	ev := wsNext(t, p)
	wantWS(t, ev, EventWSMessage, 0, "\x01\x02\x03")
	if ev.flags != EventFBinary {
		t.Fatalf("flags %d, want binary", ev.flags)
	}
	send(t, a, id, 0, "after")
	if _, s := readMsg(t, c); s != "after" { // reading runs the pong handler
		t.Fatalf("client got %q", s)
	}
	select {
	case s := <-pongs:
		if s != "are you there" {
			t.Fatalf("pong %q, want the ping's payload", s)
		}
	case <-time.After(wireWait):
		t.Fatal("core answered no ping")
	}
	// A fragment of a UTF-8 character split across frames is fine: the
	// whole message is what must be valid.
	e := []byte("é")
	raw(t, c, frame(false, 0x1, e[:1], false), frame(true, 0x0, e[1:], false))
	wantWS(t, wsNext(t, p), EventWSMessage, 0, "é")
}

func TestWebSocketCloseCodes(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 700)
	cases := []struct {
		name   string
		frames [][]byte
		code   int
	}{
		{"oversize in one frame", [][]byte{frame(true, 0x1, bytes.Repeat([]byte("x"), 1500), false)}, 1009},
		{"oversize across fragments", [][]byte{frame(false, 0x2, big, false), frame(true, 0x0, big, false)}, 1009},
		{"text not UTF-8", [][]byte{frame(true, 0x1, []byte{'a', 0xff, 'b'}, false)}, 1007},
		{"text not UTF-8 across fragments", [][]byte{frame(false, 0x1, []byte{0xc3}, false), frame(true, 0x0, []byte{'('}, false)}, 1007},
		{"unmasked frame", [][]byte{frame(true, 0x1, []byte("hi"), true)}, 1002},
		{"reserved opcode", [][]byte{frame(true, 0x3, []byte("hi"), false)}, 1002},
		{"RSV1 without an extension", [][]byte{func() []byte { f := frame(true, 0x1, []byte("hi"), false); f[0] |= 0x40; return f }()}, 1002},
		{"fragmented ping", [][]byte{frame(false, 0x9, []byte("p"), false)}, 1002},
		{"control frame over 125 bytes", [][]byte{frame(true, 0x9, bytes.Repeat([]byte("p"), 126), false)}, 1002},
		{"continuation without a start", [][]byte{frame(true, 0x0, []byte("x"), false)}, 1002},
		{"new message inside a fragmented one", [][]byte{frame(false, 0x1, []byte("a"), false), frame(true, 0x1, []byte("b"), false)}, 1002},
		{"close code 1005 on the wire", [][]byte{frame(true, 0x8, []byte{0x03, 0xed}, false)}, 1002},
		{"close without a code", [][]byte{frame(true, 0x8, nil, false)}, 1005},
		{"close 4321 with a reason", [][]byte{frame(true, 0x8, append([]byte{0x10, 0xe1}, "gone"...), false)}, 4321},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, p, url := startWS(t, func(c *Config) { c.WSMaxMessageSize = 1024 }, nil)
			c, _ := connect(t, a, p, url, nil)
			raw(t, c, tc.frames...)
			ev := wsNext(t, p)
			if ev.kind != EventWSClose || ev.code != uint32(tc.code) {
				t.Fatalf("host got %s code %d (%q), want WS_CLOSE %d", wsKindName(ev.kind), ev.code, ev.body, tc.code)
			}
			// The client sees the close core sent (1005 has no code on the
			// wire: gorilla reports it as 1005 too).
			if code, _ := readCloseOrEOF(t, c); code != tc.code {
				t.Fatalf("client saw close %d, want %d", code, tc.code)
			}
		})
	}
}

// readCloseOrEOF is readClose that accepts the end of the connection right
// after the close frame.
func readCloseOrEOF(t *testing.T, c *gws.Conn) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wireWait))
	for {
		_, _, err := c.ReadMessage()
		var ce *gws.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		if err != nil {
			return -1, err.Error()
		}
	}
}

func TestWebSocketHostCloses(t *testing.T) {
	a, p, url := startWS(t, nil, nil)
	c, id := connect(t, a, p, url, nil)
	send(t, a, id, 0, "last words")
	if err := a.StreamWrite([]Chunk{{Exchange: id, Flags: ChunkWSClose, Code: 4000, Data: []byte("done")}}, nil, 0); err != nil {
		t.Fatal(err)
	}
	// The host's terminal event comes at once, with its own code.
	wantWS(t, wsNext(t, p), EventWSClose, 4000, "done")
	if _, s := readMsg(t, c); s != "last words" {
		t.Fatalf("client got %q before the close", s)
	}
	if code, text := readClose(t, c); code != 4000 || text != "done" {
		t.Fatalf("client saw close %d %q, want 4000 \"done\"", code, text)
	}
	waitFor(t, "the exchange's release", func() bool { return a.ex.socket(id) == nil })
}

func TestWebSocketChunkRefusals(t *testing.T) {
	a, p, url := startWS(t, nil, nil)
	_, id := connect(t, a, p, url, nil)
	cases := []struct {
		ch   Chunk
		want error
	}{
		{Chunk{Flags: ChunkEnd}, ErrInvalid},
		{Chunk{Data: []byte{0xff}}, ErrInvalid},
		{Chunk{Flags: ChunkWSClose, Code: 1006}, ErrInvalid},
		{Chunk{Flags: ChunkWSClose, Code: 999}, ErrInvalid},
		{Chunk{Flags: ChunkWSClose, Code: 0, Data: []byte("reason")}, ErrInvalid},
		{Chunk{Flags: ChunkWSClose, Code: 1000, Data: bytes.Repeat([]byte("r"), 124)}, ErrInvalid},
		{Chunk{Code: 1000, Data: []byte("x")}, ErrInvalid},
		{Chunk{Event: []byte("e")}, ErrInvalid},
		{Chunk{Flags: ChunkWSBinary | ChunkWSClose}, ErrUnsupported},
		{Chunk{Flags: ChunkWSBinary | ChunkEnd}, ErrUnsupported},
	}
	for _, tc := range cases {
		tc.ch.Exchange = id
		if err := a.StreamWrite([]Chunk{tc.ch}, nil, 0); !errors.Is(err, tc.want) {
			t.Errorf("StreamWrite(%+v) = %v, want %v", tc.ch, err, tc.want)
		}
	}
	// A stream's chunks keep their own rules: a code is refused there.
	if err := checkClose(1000, []byte("ok")); err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketHandshakeRefusals(t *testing.T) {
	cases := []struct {
		name   string
		ws     *WebSocketRoute
		mod    func(*Config)
		header string
		status int
		want   string // in the problem's detail
	}{
		{"plain GET", nil, nil, "", 426, "Upgrade: websocket"},
		{"no Connection: Upgrade", nil, nil, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 426, "Connection: Upgrade"},
		{"version 12", nil, nil, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 426, "version 13"},
		{"short key", nil, nil, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n", 400, "16 bytes"},
		{"foreign origin", nil, nil, upgradeHeaders + "Origin: https://evil.example\r\n", 403, "evil.example"},
		{"origin outside the config's list", nil, func(c *Config) { c.WSOrigins = []string{"https://app.example"} }, upgradeHeaders + "Origin: https://other.example\r\n", 403, "other.example"},
		{"origin outside the route's list", &WebSocketRoute{Origins: []string{"https://route.example"}}, func(c *Config) { c.WSOrigins = []string{"https://app.example"} }, upgradeHeaders + "Origin: https://app.example\r\n", 403, "app.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, url := startWS(t, tc.mod, tc.ws)
			c := dialRaw(t, "http://"+strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws"), 0)
			c.send("GET /ws HTTP/1.1\r\nHost: test\r\n" + tc.header + "\r\n")
			c.deadline()
			status, hdr := c.head()
			if !strings.Contains(status, " "+itoa(tc.status)+" ") {
				t.Fatalf("status %q, want %d", status, tc.status)
			}
			body := c.readN(atoi(hdr["content-length"]))
			var doc map[string]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil || !strings.Contains(doc["detail"].(string), tc.want) {
				t.Fatalf("body %s, want a problem whose detail has %q", body, tc.want)
			}
			if tc.status == 426 && hdr["upgrade"] != "websocket" {
				t.Fatalf("a 426 without Upgrade: websocket: %v", hdr)
			}
		})
	}
}

const upgradeHeaders = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

func TestWebSocketOrigins(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(*Config)
		origin string
		ok     bool
	}{
		{"same host by default", nil, "http://HOST", true},
		{"listed", func(c *Config) { c.WSOrigins = []string{"https://app.example"} }, "https://APP.example", true},
		{"any", func(c *Config) { c.WSOrigins = []string{"*"} }, "https://whoever.example", true},
		{"null needs *", nil, "null", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, p, url := startWS(t, tc.mod, nil)
			host := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws")
			hdr := http.Header{"Origin": {strings.Replace(tc.origin, "HOST", host, 1)}}
			dialed := dialAsync(url, hdr, nil)
			if tc.ok {
				open := wsNext(t, p)
				_ = a.Respond(open.id, Response{Flags: ResponseWSAccept})
			}
			r := <-dialed
			if tc.ok && r.err != nil {
				t.Fatalf("dial: %v", r.err)
			}
			if !tc.ok && (r.err == nil || r.resp == nil || r.resp.StatusCode != 403) {
				t.Fatalf("dial from %s: %v, want a 403", tc.origin, r.err)
			}
			if r.conn != nil {
				r.conn.Close()
			}
		})
	}
}

func TestWebSocketHostRefusesAndSubprotocols(t *testing.T) {
	a, p, url := startWS(t, nil, &WebSocketRoute{Subprotocols: []string{"chat", "superchat"}})
	// A plain answer refuses the upgrade: the client gets it.
	dialed := dialAsync(url, nil, nil)
	open := wsNext(t, p)
	if err := a.RespondProblem(open.id, 403, []byte(`{"detail":"no"}`), nil); err != nil {
		t.Fatal(err)
	}
	if r := <-dialed; r.err == nil || r.resp == nil || r.resp.StatusCode != 403 {
		t.Fatalf("a refused handshake: %v, want the host's 403", r.err)
	}
	// Core picks the route's first subprotocol the client offered.
	d := &gws.Dialer{HandshakeTimeout: wireWait, Subprotocols: []string{"superchat", "chat"}}
	c, _ := connect(t, a, p, url, d)
	if c.Subprotocol() != "chat" {
		t.Fatalf("subprotocol %q, want chat (the route's preference)", c.Subprotocol())
	}
	// The host may choose another one the client offered, and WS_OPEN's
	// headers say what was offered.
	dialed = dialAsync(url, nil, d)
	open = nextOpen(t, p)
	if open.headers["sec-websocket-protocol"] != "superchat, chat" {
		t.Fatalf("WS_OPEN headers %v", open.headers)
	}
	hs := []Header{{Name: []byte("sec-websocket-protocol"), Value: []byte("superchat")}, {Name: []byte("x-room"), Value: []byte("7")}}
	if err := a.Respond(open.id, Response{Flags: ResponseWSAccept, Headers: hs}); err != nil {
		t.Fatal(err)
	}
	r := <-dialed
	if r.err != nil || r.conn.Subprotocol() != "superchat" || r.resp.Header.Get("X-Room") != "7" {
		t.Fatalf("dial: %v, subprotocol %q, header %q", r.err, r.conn.Subprotocol(), r.resp.Header.Get("X-Room"))
	}
	r.conn.Close()
	// A choice the client did not offer is refused: the client gets the 500.
	dialed = dialAsync(url, nil, d)
	open = nextOpen(t, p)
	bad := []Header{{Name: []byte("sec-websocket-protocol"), Value: []byte("other")}}
	if err := a.Respond(open.id, Response{Flags: ResponseWSAccept, Headers: bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("accept with an unoffered subprotocol: %v, want ErrInvalid", err)
	}
	if r := <-dialed; r.err == nil || r.resp == nil || r.resp.StatusCode != 500 {
		t.Fatalf("dial: %v, want the standard 500", r.err)
	}
}

func TestWebSocketAcceptOnlyAnswersWSOpen(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/plain"})
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/plain")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	p := a.Lane(0).NewPoller()
	defer p.Close()
	id := takeRequest(t, p).Exchange
	if err := a.Respond(id, Response{Flags: ResponseWSAccept}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WS_ACCEPT on a request: %v, want ErrInvalid", err)
	}
	if s := <-done; s != 500 {
		t.Fatalf("status %d, want 500", s)
	}
}

func TestWebSocketBackPressure(t *testing.T) {
	const piece = 16 << 10
	a, p, url := startWS(t, func(c *Config) { c.StreamQueueBytes = 64 << 10 }, nil)
	d := &gws.Dialer{HandshakeTimeout: wireWait, NetDial: smallRcvbufDial}
	c, id := connect(t, a, p, url, d)
	msg := bytes.Repeat([]byte("m"), piece)
	sent := 0
	for {
		err := a.StreamWrite([]Chunk{{Exchange: id, Flags: ChunkWSBinary, Data: msg}}, nil, 0)
		if errors.Is(err, ErrAgain) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent++
		if sent > 10000 {
			t.Fatal("no ErrAgain after 160 MiB to a client that reads nothing")
		}
	}
	// The client reads: exactly one credit comes, and everything arrives.
	go func() {
		for i := 0; i < sent; i++ {
			_ = c.SetReadDeadline(time.Now().Add(wireWait))
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	ev := wsNext(t, p)
	if ev.kind != EventStreamCredit || ev.id != id {
		t.Fatalf("after ErrAgain: %s, want STREAM_CREDIT", wsKindName(ev.kind))
	}
	// A write with a timeout waits for room instead.
	if err := a.StreamWrite([]Chunk{{Exchange: id, Flags: ChunkWSBinary, Data: msg}}, nil, wireWait); err != nil {
		t.Fatal(err)
	}
}

func smallRcvbufDial(network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: wireWait, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	return d.Dial(network, addr)
}

func TestWebSocketInboundBound(t *testing.T) {
	const n, size, bound = 64, 512, 2048
	a, p, url := startWS(t, func(c *Config) { c.WSInboundBytes = bound }, nil)
	c, id := connect(t, a, p, url, nil)
	w := a.ex.socket(id)
	go func() {
		for i := 0; i < n; i++ {
			msg := bytes.Repeat([]byte{byte('a' + i%26)}, size)
			if c.WriteMessage(gws.TextMessage, msg) != nil {
				return
			}
		}
	}()
	// While the host does not poll, core holds at most the bound.
	waitFor(t, "core to read up to its bound", func() bool { return w.inbox.Load() >= bound-size })
	time.Sleep(50 * time.Millisecond)
	if got := w.inbox.Load(); got > bound {
		t.Fatalf("%d bytes held for the host, over the bound %d", got, bound)
	}
	for i := 0; i < n; i++ {
		ev := wsNext(t, p)
		want := strings.Repeat(string(rune('a'+i%26)), size)
		if ev.kind != EventWSMessage || ev.body != want {
			t.Fatalf("message %d: %s %q..., want in order", i, wsKindName(ev.kind), ev.body[:min(8, len(ev.body))])
		}
	}
}

func TestWebSocketShutdownCloses1001(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Port, cfg.Quiet, cfg.Logger = 0, true, &testLogger{}
	a := NewApp(cfg)
	if _, err := a.AddRoute(wsSpec(nil)); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	p := a.Lane(0).NewPoller()
	defer p.Close()
	url := "ws://127.0.0.1:" + itoa(a.Port()) + "/ws"
	c, id := connect(t, a, p, url, nil)
	send(t, a, id, 0, "queued before the stop")
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- a.Shutdown(ctx)
	}()
	if _, s := readMsg(t, c); s != "queued before the stop" {
		t.Fatalf("client got %q", s)
	}
	if code, _ := readClose(t, c); code != 1001 {
		t.Fatalf("client saw close %d, want 1001", code)
	}
	_ = c.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(1001, ""))
	evs := drainUntilClosedWS(t, p)
	if len(evs) != 1 {
		t.Fatalf("events before the lane closed: %+v, want one WS_CLOSE", evs)
	}
	wantWS(t, evs[0], EventWSClose, 1001, "server shutting down")
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

func drainUntilClosedWS(t *testing.T, p *Poller) []wsEvent {
	t.Helper()
	var evs []wsEvent
	deadline := time.Now().Add(wireWait)
	for time.Now().Before(deadline) {
		_, err := p.PollEach(16, time.Until(deadline), func(r *Request) {
			evs = append(evs, wsEvent{id: r.Exchange, kind: r.Kind, code: r.Code, body: string(r.Body)})
		})
		if errors.Is(err, ErrClosed) {
			return evs
		}
	}
	t.Fatal("the lane did not close")
	return nil
}

func TestWebSocketPingDropsASilentPeer(t *testing.T) {
	a, p, url := startWS(t, func(c *Config) { c.WSPingInterval = 150 * time.Millisecond }, nil)
	// One client reads (so its library answers the pings), one never does.
	alive, aliveID := connect(t, a, p, url, nil)
	go func() {
		for {
			if _, _, err := alive.ReadMessage(); err != nil {
				return
			}
		}
	}()
	_, silentID := connect(t, a, p, url, nil)
	ev := wsNext(t, p)
	if ev.kind != EventWSClose || ev.code != 1006 || ev.id != silentID {
		t.Fatalf("got %s %d of %d, want WS_CLOSE 1006 of the silent peer %d", wsKindName(ev.kind), ev.code, ev.id, silentID)
	}
	if a.ex.socket(aliveID) == nil {
		t.Fatal("the peer that answers pings was dropped too")
	}
}

func TestWebSocketConfigAndRouteKeys(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"ws_max_message_size":10,"ws_inbound_bytes":5,"ws_ping_interval":1.5,"ws_origins":["HTTPS://A.example:8443","*"],"broadcast":{"redis":"redis://127.0.0.1:6379/2","prefix":"p:"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WSMaxMessageSize != 10 || cfg.WSInboundBytes != 5 || cfg.WSPingInterval != 1500*time.Millisecond ||
		strings.Join(cfg.WSOrigins, " ") != "https://a.example:8443 *" || cfg.Broadcast.Redis == "" || cfg.Broadcast.Prefix != "p:" {
		t.Fatalf("parsed %+v", cfg)
	}
	for _, doc := range []string{
		`{"ws_origins":["https://a.example/path"]}`,
		`{"ws_inbound_bytes":0}`,
		`{"broadcast":{"redis":"http://x"}}`,
		`{"broadcast":{"redis":"redis://x","db":1}}`,
	} {
		if _, err := ParseConfig([]byte(doc)); err == nil || errors.Is(err, ErrUnsupported) {
			t.Errorf("ParseConfig(%s) = %v, want a refusal", doc, err)
		}
	}
	s, err := ParseRouteSpec([]byte(`{"method":"GET","path":"/ws","websocket":{"subprotocols":["chat"],"origins":["*"]}}`))
	if err != nil || s.WebSocket == nil || s.WebSocket.Subprotocols[0] != "chat" {
		t.Fatalf("route: %+v %v", s.WebSocket, err)
	}
	for _, doc := range []string{
		`{"method":"POST","path":"/ws","websocket":true}`,
		`{"method":"GET","path":"/ws","websocket":{"subprotocol":["chat"]}}`,
		`{"method":"GET","path":"/ws","websocket":{"subprotocols":["a b"]}}`,
		`{"method":"GET","path":"/ws","websocket":1}`,
	} {
		if _, err := ParseRouteSpec([]byte(doc)); err == nil {
			t.Errorf("ParseRouteSpec(%s) accepted", doc)
		}
	}
	if s, err := ParseRouteSpec([]byte(`{"method":"GET","path":"/ws","websocket":false}`)); err != nil || s.WebSocket != nil {
		t.Fatalf("websocket false: %+v %v", s.WebSocket, err)
	}
}

// TestCloseOfClassifiesTheUpgradersErrors pins what closeOf reads from
// hertz-contrib/websocket's errors, so that an upgrade of it that changes
// them fails here.
func TestCloseOfClassifiesTheUpgradersErrors(t *testing.T) {
	if c, _ := closeOf(io.ErrUnexpectedEOF); c != CloseAbnormal {
		t.Fatalf("a network error: %d", c)
	}
	if c, _ := closeOf(errors.New("websocket: bad MASK")); c != CloseProtocolError {
		t.Fatalf("a protocol error: %d", c)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
