package main

import (
	"strings"
	"testing"
)

func TestEventCounterAcrossPieces(t *testing.T) {
	stream := "data: {\"seq\":0}\n\n: keep-alive\n\nevent: tick\r\ndata: 1\r\n\r\nid: 7\ndata: a\ndata: b\n\n"
	// Every way of cutting the stream in two counts the same 3 events
	// (the comment block is not one).
	for cut := 0; cut <= len(stream); cut++ {
		var ec eventCounter
		n := ec.feed([]byte(stream[:cut])) + ec.feed([]byte(stream[cut:]))
		if n != 3 {
			t.Fatalf("cut at %d: %d events, want 3", cut, n)
		}
	}
	var ec eventCounter
	total := 0
	for _, b := range []byte(stream) {
		total += ec.feed([]byte{b})
	}
	if total != 3 {
		t.Fatalf("byte by byte: %d events, want 3", total)
	}
}

func TestEventCounterWaitsForTheBlankLine(t *testing.T) {
	var ec eventCounter
	if n := ec.feed([]byte("data: x\n")); n != 0 {
		t.Fatalf("an event without its blank line counted: %d", n)
	}
	if n := ec.feed([]byte("\n")); n != 1 {
		t.Fatalf("the blank line did not end the event: %d", n)
	}
}

func TestEchoCheck(t *testing.T) {
	msg := encodeMessage(nil, 3, 42)
	if err := checkEcho(msg, msg, 3, 42); err != nil {
		t.Fatalf("the message itself: %v", err)
	}
	// Another server's spacing and key order is the same JSON.
	spaced := []byte(`{"text": "hello, realtime", "conn": 3, "seq": 42}`)
	if err := checkEcho(spaced, msg, 3, 42); err != nil {
		t.Fatalf("spaced and reordered: %v", err)
	}
	for _, bad := range []string{`{"seq":41,"conn":3,"text":"hello, realtime"}`, `not json`, `{"seq":42,"conn":3}`} {
		if err := checkEcho([]byte(bad), msg, 3, 42); err == nil {
			t.Errorf("%s was taken for the echo", bad)
		}
	}
	if !strings.HasPrefix(string(encodeMessage(msg, 1, 7)), `{"seq":7,"conn":1,`) {
		t.Fatalf("a reused buffer keeps old bytes: %s", encodeMessage(msg, 1, 7))
	}
}
