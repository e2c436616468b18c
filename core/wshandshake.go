package core

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/request"
)

// The WebSocket handshake (websocket.go has the connection): the route's
// rules, the checks every request to a "websocket" route meets before a
// host sees it, and the ResponseWSAccept answer that upgrades.

// wsRoute is a compiled route "websocket" declaration.
type wsRoute struct {
	subprotocols []string
	origins      []string // nil: the request's own host only
	anyOrigin    bool
	message      *request.Body // what every received message must be, or nil
}

// compileWS compiles a route's declaration against the app's config.
func (a *App) compileWS(spec *WebSocketRoute) (*wsRoute, error) {
	if spec == nil {
		return nil, nil
	}
	r := &wsRoute{subprotocols: spec.Subprotocols, origins: a.cfg.WSOrigins}
	if spec.Origins != nil {
		r.origins = spec.Origins
	}
	r.anyOrigin = slices.Contains(r.origins, "*")
	if len(spec.MessageSchema) > 0 {
		m, err := request.CompileBodyDepth(spec.MessageSchema, a.cfg.MaxJSONDepth)
		if err != nil {
			return nil, fmt.Errorf("websocket: message_schema: %w", err)
		}
		r.message = m
	}
	return r, nil
}

// checkHandshake refuses a request to a WebSocket route that is not a
// valid version-13 handshake from an allowed origin, answering it with a
// problem document; it reports whether the request may go on.
func (a *App) checkHandshake(ex *exchange) bool {
	c := ex.c
	h := &c.Request.Header
	var p problem.Problem
	version := false
	switch {
	case !c.IsGet():
		p = problem.UpgradeRequired("A WebSocket handshake is a GET request")
	case !h.IsHTTP11():
		p = problem.UpgradeRequired("A WebSocket handshake needs HTTP/1.1")
	case !hasToken(h.Peek("Upgrade"), "websocket"):
		p = problem.UpgradeRequired("This is a WebSocket endpoint: the request lacks 'Upgrade: websocket'")
	case !hasToken(h.Peek("Connection"), "upgrade"):
		p = problem.UpgradeRequired("This is a WebSocket endpoint: the request lacks 'Connection: Upgrade'")
	case string(h.Peek("Sec-WebSocket-Version")) != "13":
		p = problem.UpgradeRequired("Only WebSocket version 13 is supported")
		version = true
	case !validKey(h.Peek("Sec-WebSocket-Key")):
		p = problem.BadRequest("Sec-WebSocket-Key must be 16 bytes in base64")
	default:
		origin := h.Peek("Origin")
		if len(origin) == 0 || ex.rt.ws.allows(bstr(origin), bstr(c.Host())) {
			return true
		}
		p = problem.OriginForbidden(string(origin))
	}
	ex.out = writeProblem(c, &p, ex.out)
	if p.Status == 426 {
		c.Response.Header.Set("Upgrade", "websocket")
		c.Response.Header.Set("Connection", "Upgrade")
	}
	if version {
		c.Response.Header.Set("Sec-WebSocket-Version", "13")
	}
	return false
}

// allows reports whether a handshake from origin may reach the route;
// host is the request's Host. Without an allow-list only the request's own
// host may (what a browser sends for a page of the same server).
func (r *wsRoute) allows(origin, host string) bool {
	if r.anyOrigin {
		return true
	}
	if r.origins == nil {
		u, err := url.Parse(origin)
		return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
	}
	return slices.Contains(r.origins, strings.ToLower(origin))
}

// hasToken reports whether a comma-separated header value lists token (any
// case).
func hasToken(v []byte, token string) bool {
	for _, part := range strings.Split(bstr(v), ",") {
		if strings.EqualFold(strings.TrimSpace(part), token) {
			return true
		}
	}
	return false
}

func validKey(k []byte) bool {
	b, err := base64.StdEncoding.DecodeString(string(k))
	return err == nil && len(b) == 16
}

var (
	errWSAcceptNotOpen = fmt.Errorf("respond: ResponseWSAccept answers an EventWSOpen only: %w", ErrInvalid)
	errWSAcceptFlags   = fmt.Errorf("respond: ResponseWSAccept goes with no other flag: %w", ErrUnsupported)
	errWSAcceptStatus  = fmt.Errorf("respond: a ResponseWSAccept answer has status 0 or 101 and no body: %w", ErrInvalid)
	errWSHeader        = fmt.Errorf("respond: a header of a ResponseWSAccept answer is malformed or core's (upgrade, connection, sec-websocket-accept, sec-websocket-extensions, content-length, transfer-encoding): %w", ErrInvalid)
	errWSSubprotocol   = fmt.Errorf("respond: sec-websocket-protocol must be one subprotocol the client offered (and the route lists): %w", ErrInvalid)
)

// acceptWS checks a ResponseWSAccept answer for the claimed ex and readies
// the upgrade: the host's headers go on the 101, and the connection record
// exists from now on, so the host may write (and subscribe) at once. It
// changes nothing when it refuses resp.
func (a *App) acceptWS(ex *exchange, resp *Response) error {
	c := ex.c
	switch {
	case ex.rt.ws == nil || ex.req.Kind != EventWSOpen:
		return errWSAcceptNotOpen
	case resp.Flags != ResponseWSAccept:
		return errWSAcceptFlags
	case (resp.Status != 0 && resp.Status != 101) || len(resp.Body) > 0:
		return errWSAcceptStatus
	case !validHeaders(resp.Headers):
		return errWSHeader
	}
	offered := tokens(c.Request.Header.Peek("Sec-WebSocket-Protocol"))
	chosen := ""
	for i := range resp.Headers {
		name := bstr(resp.Headers[i].Name)
		switch strings.ToLower(name) {
		case "upgrade", "connection", "sec-websocket-accept", "sec-websocket-extensions", "content-length", "transfer-encoding":
			return errWSHeader
		case "sec-websocket-protocol":
			v := string(resp.Headers[i].Value)
			if chosen != "" || !slices.Contains(offered, v) ||
				(ex.rt.ws.subprotocols != nil && !slices.Contains(ex.rt.ws.subprotocols, v)) {
				return errWSSubprotocol
			}
			chosen = v
		}
	}
	if chosen == "" {
		for _, p := range ex.rt.ws.subprotocols {
			if slices.Contains(offered, p) {
				chosen = p
				break
			}
		}
	}
	for i := range resp.Headers {
		if !strings.EqualFold(bstr(resp.Headers[i].Name), "sec-websocket-protocol") {
			c.Response.Header.Add(bstr(resp.Headers[i].Name), bstr(resp.Headers[i].Value))
		}
	}
	if chosen != "" {
		c.Response.Header.Set("Sec-WebSocket-Protocol", chosen)
	}
	w := newWSConn(a, ex)
	a.ex.mu.Lock()
	ex.ws = w
	a.ex.mu.Unlock()
	ex.answer = answerWS
	return nil
}

// tokens splits a comma-separated header value into its trimmed items.
func tokens(v []byte) []string {
	var out []string
	for _, part := range strings.Split(bstr(v), ",") {
		if t := strings.TrimSpace(part); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// socket returns the open WebSocket of exchange id, or nil.
func (t *exchanges) socket(id uint64) *wsConn {
	slot := uint32(id) - 1
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == 0 || int(slot) >= len(t.slots) {
		return nil
	}
	ex := t.slots[slot]
	if ex.gen != uint32(id>>32) {
		return nil
	}
	return ex.ws
}

// lookupWrite is lookup and socket in one look, for StreamWrite: the
// WebSocket of id if it has one, else what lookup finds.
func (t *exchanges) lookupWrite(id uint64) (*exchange, *wsConn) {
	slot := uint32(id) - 1
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == 0 || int(slot) >= len(t.slots) {
		return nil, nil
	}
	ex := t.slots[slot]
	if ex.gen != uint32(id>>32) {
		return nil, nil
	}
	if ex.ws != nil {
		return nil, ex.ws
	}
	if ex.state == stateFree {
		return nil, nil
	}
	return ex, nil
}
