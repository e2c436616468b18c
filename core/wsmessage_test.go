package core

import (
	"strings"
	"testing"
	"unicode/utf8"

	gws "github.com/gorilla/websocket"

	"github.com/spikard/spikard/core/problem"
)

const chatMessage = `{"type":"object","properties":{"text":{"type":"string","maxLength":10},"to":{"type":"array","items":{"type":"integer"}}},"required":["text"]}`

// TestWebSocketMessageSchema: messages that meet the route's
// message_schema reach the host, text or binary; the first that does not
// closes the WebSocket with 1007 and a reason at its location, and never
// reaches the host.
func TestWebSocketMessageSchema(t *testing.T) {
	for _, tc := range []struct {
		name, bad, reason string
		binary            bool
	}{
		{"missing field", `{"to":[1]}`, "message.text: Field required", false},
		{"wrong item type", `{"text":"hi","to":[1,"x"]}`, "message.to[1]: Input should be a valid integer", false},
		{"too long", `{"text":"` + strings.Repeat("x", 11) + `"}`, "message.text: String should have at most 10 characters", true},
		{"not JSON", `{"text":`, "message: ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, p, url := startWS(t, nil, &WebSocketRoute{MessageSchema: []byte(chatMessage)})
			c, _ := connect(t, a, p, url, nil)
			kind := gws.TextMessage
			if tc.binary {
				kind = gws.BinaryMessage
			}
			if err := c.WriteMessage(kind, []byte(`{"text":"ok","to":[2]}`)); err != nil {
				t.Fatal(err)
			}
			wantWS(t, wsNext(t, p), EventWSMessage, 0, `{"text":"ok","to":[2]}`)
			if err := c.WriteMessage(kind, []byte(tc.bad)); err != nil {
				t.Fatal(err)
			}
			code, reason := readClose(t, c)
			if code != CloseInvalidData || !strings.HasPrefix(reason, tc.reason) {
				t.Fatalf("client got close %d %q, want 1007 starting %q", code, reason, tc.reason)
			}
			// The host hears of the close, not of the message.
			ev := wsNext(t, p)
			if ev.kind != EventWSClose || ev.code != CloseInvalidData {
				t.Fatalf("host got %s %d %q, want WS_CLOSE 1007", wsKindName(ev.kind), ev.code, ev.body)
			}
		})
	}
}

func TestWebSocketMessageSchemaRouteKey(t *testing.T) {
	s, err := ParseRouteSpec([]byte(`{"method":"GET","path":"/ws","websocket":{"message_schema":` + chatMessage + `}}`))
	if err != nil || s.WebSocket == nil || len(s.WebSocket.MessageSchema) == 0 {
		t.Fatalf("route: %+v %v", s.WebSocket, err)
	}
	for _, doc := range []string{
		`{"method":"GET","path":"/ws","websocket":{"message_schema":true}}`,
		`{"method":"GET","path":"/ws","websocket":{"message_schema":"x"}}`,
	} {
		if _, err := ParseRouteSpec([]byte(doc)); err == nil || !strings.Contains(err.Error(), "message_schema") {
			t.Errorf("ParseRouteSpec(%s) = %v, want a refusal naming message_schema", doc, err)
		}
	}
	a := NewApp(DefaultConfig())
	defer a.Close()
	spec := wsSpec(&WebSocketRoute{MessageSchema: []byte(`{"type":"nope"}`)})
	if _, err := a.AddRoute(spec); err == nil || !strings.Contains(err.Error(), "message_schema") {
		t.Fatalf("AddRoute with a schema that does not compile: %v", err)
	}
}

func TestMessageReasonFitsACloseFrame(t *testing.T) {
	long := strings.Repeat("é", 100)
	p := problem.Validation([]problem.Entry{{Type: "x", Msg: long, Loc: []problem.Loc{problem.Key("body"), problem.Key("a")}}})
	r := messageReason(&p)
	if len(r) > maxCloseReason || !utf8.ValidString(r) || !strings.HasPrefix(r, "message.a: é") {
		t.Fatalf("reason %d bytes %q", len(r), r)
	}
}
