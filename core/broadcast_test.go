package core

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	gws "github.com/gorilla/websocket"

	"github.com/spikard/spikard/core/internal/redistest"
)

// Broadcast channels: in-process, and through a real redis-server that the
// test starts on a free loopback port (make setup installs redis-server;
// its absence fails the test rather than skipping it).

func TestBroadcastInProcess(t *testing.T) {
	a, p, url := startWS(t, nil, nil)
	c1, id1 := connect(t, a, p, url, nil)
	c2, id2 := connect(t, a, p, url, nil)
	c3, id3 := connect(t, a, p, url, nil)
	for _, sub := range []struct {
		id uint64
		ch string
	}{{id1, "room"}, {id2, "room"}, {id3, "other"}, {id1, "room"}} {
		if err := a.Subscribe(sub.id, sub.ch); err != nil {
			t.Fatalf("Subscribe(%d, %q): %v", sub.id, sub.ch, err)
		}
	}
	if err := a.Publish("room", 0, []byte("to the room")); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish("other", ChunkWSBinary, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*gws.Conn{c1, c2} {
		if k, s := readMsg(t, c); k != gws.TextMessage || s != "to the room" {
			t.Fatalf("subscriber got %d %q", k, s) // once, though subscribed twice
		}
	}
	if k, s := readMsg(t, c3); k != gws.BinaryMessage || s != "\x01\x02" {
		t.Fatalf("subscriber of other got %d %q", k, s)
	}
	if err := a.Unsubscribe(id2, "room"); err != nil {
		t.Fatal(err)
	}
	_ = a.Publish("room", 0, []byte("second"))
	send(t, a, id2, 0, "direct") // c2 gets this, not "second"
	if _, s := readMsg(t, c1); s != "second" {
		t.Fatalf("c1 got %q", s)
	}
	if _, s := readMsg(t, c2); s != "direct" {
		t.Fatalf("c2 got %q after unsubscribing", s)
	}
	// Refusals.
	if err := a.Publish("room", 0, []byte{0xff}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("publishing bad UTF-8 as text: %v", err)
	}
	if err := a.Publish("", 0, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an empty channel: %v", err)
	}
	if err := a.Publish("room", ChunkWSClose, nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("publish flags: %v", err)
	}
	if err := a.Subscribe(12345, "room"); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("subscribing no WebSocket: %v", err)
	}
	// A subscription ends with its WebSocket.
	_ = c3.WriteMessage(gws.CloseMessage, gws.FormatCloseMessage(1000, ""))
	wantWS(t, wsNext(t, p), EventWSClose, 1000, "")
	waitFor(t, "the channel to lose its last subscriber", func() bool {
		a.hub.mu.RLock()
		defer a.hub.mu.RUnlock()
		return a.hub.subs["other"] == nil
	})
	if err := a.Subscribe(id3, "other"); !errors.Is(err, ErrUnknownExchange) {
		t.Fatalf("subscribing a closed WebSocket: %v", err)
	}
}

func TestBroadcastClosesASlowSubscriberWith1013(t *testing.T) {
	a, p, url := startWS(t, func(c *Config) { c.StreamQueueBytes = 32 << 10 }, nil)
	d := &gws.Dialer{HandshakeTimeout: wireWait, NetDial: smallRcvbufDial}
	c, id := connect(t, a, p, url, d)
	if err := a.Subscribe(id, "firehose"); err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("f", 16<<10)
	for i := 0; i < 4096; i++ { // 64 MiB: far past what the kernel buffers
		if err := a.Publish("firehose", 0, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if a.ex.socket(id) == nil || socketOver(a, id) {
			break
		}
	}
	wantWS(t, wsNext(t, p), EventWSClose, 1013, "too slow for its subscriptions")
	if code, _ := readCloseOrEOF(t, c); code != 1013 && code != -1 {
		t.Fatalf("client saw close %d", code)
	}
}

func socketOver(a *App, id uint64) bool {
	w := a.ex.socket(id)
	if w == nil {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.phase == wsOver
}

// startRedis runs redis-server until the test ends and returns its URL.
func startRedis(t *testing.T) string { return redistest.Start(t) }

func TestBroadcastThroughRedis(t *testing.T) {
	url := startRedis(t)
	mod := func(c *Config) { c.Broadcast = BroadcastConfig{Redis: url, Prefix: "test:"} }
	// Two apps, as two worker processes would be, each with its own
	// subscriber; a publish in either reaches both.
	a1, p1, u1 := startWS(t, mod, nil)
	a2, p2, u2 := startWS(t, mod, nil)
	c1, id1 := connect(t, a1, p1, u1, nil)
	c2, id2 := connect(t, a2, p2, u2, nil)
	if err := a1.Subscribe(id1, "room"); err != nil {
		t.Fatal(err)
	}
	if err := a2.Subscribe(id2, "room"); err != nil {
		t.Fatal(err)
	}
	// Subscribe then publish at once: the publisher waits for Redis to
	// confirm this process's subscriptions, so its own subscriber has it.
	if err := a1.Publish("room", 0, []byte("from one")); err != nil {
		t.Fatal(err)
	}
	if _, s := readMsg(t, c1); s != "from one" {
		t.Fatalf("c1 got %q", s)
	}
	// The other app's SUBSCRIBE is its own connection's: wait until Redis
	// counts both subscribers before relying on it.
	waitFor(t, "both subscriptions in Redis", func() bool { return redisSubscribers(t, url, "test:room") == 2 })
	if err := a2.Publish("room", ChunkWSBinary, []byte{7}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*gws.Conn{c1, c2} {
		k, s := readMsg(t, c)
		if s == "from one" { // c2 may or may not have been subscribed in time for the first
			k, s = readMsg(t, c)
		}
		if k != gws.BinaryMessage || s != "\x07" {
			t.Fatalf("got %d %q, want the binary message of app two", k, s)
		}
	}
	// Another prefix is another namespace.
	a3, p3, u3 := startWS(t, func(c *Config) { c.Broadcast = BroadcastConfig{Redis: url, Prefix: "elsewhere:"} }, nil)
	c3, id3 := connect(t, a3, p3, u3, nil)
	if err := a3.Subscribe(id3, "room"); err != nil {
		t.Fatal(err)
	}
	_ = a1.Publish("room", 0, []byte("not for three"))
	_ = a3.Publish("room", 0, []byte("for three"))
	if _, s := readMsg(t, c3); s != "for three" {
		t.Fatalf("c3 got %q", s)
	}
}

// redisSubscribers asks Redis how many subscribers channel has.
func redisSubscribers(t *testing.T, url, channel string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "redis://"), "/0"), wireWait)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$%d\r\n%s\r\n", len(channel), channel)
	r := bufio.NewReader(conn)
	var lines []string
	for len(lines) < 4 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	// *2, $len, channel, :count
	return atoi(strings.TrimPrefix(lines[3], ":"))
}

func TestBroadcastRedisUnreachableFailsStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	cfg := DefaultConfig()
	cfg.Port, cfg.Quiet, cfg.Logger = 0, true, &testLogger{}
	cfg.Broadcast = BroadcastConfig{Redis: fmt.Sprintf("redis://127.0.0.1:%d", port), Prefix: "x:"}
	a := NewApp(cfg)
	defer a.Close()
	if err := a.Start(); err == nil || !strings.Contains(err.Error(), "Redis") {
		t.Fatalf("Start with no Redis: %v", err)
	}
}
