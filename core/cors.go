package core

import (
	"slices"
	"strings"

	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/route"
)

// CORS (corsconfig.go has the policy and its document). A route has a
// policy when the app's "cors" or its own route document's "cors" gives it
// one; a route without one costs one nil check per request.
//
// For a request to a route with a policy:
//
//   - No Origin, or an Origin naming the request's own Host (a same-origin
//     request, which browsers also send Origin for): no CORS headers beyond
//     Vary: Origin, never refused.
//   - An allowed origin: the answer gets Access-Control-Allow-Origin (the
//     origin, or "*" when any origin is allowed and credentials are not),
//     -Allow-Credentials, -Expose-Headers, and Vary: Origin; whatever the
//     handler answers, streams, SSE and WebSocket 101s included.
//   - Any other origin: 403, a problem document naming the origin, before
//     the body is read or a host sees the request.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered by core, before routing by OPTIONS: the policy is that of the
// route for the method asked for, or, when the path has no route for it,
// of the path's first route with a policy (so that asking for a method the
// path lacks is a 403, not a 405). It is 204 with the allow headers, or a
// 403 naming the origin, method or header refused. A path without any
// policy is routed as usual (an OPTIONS route, else 405).

var (
	hdrACAO   = []byte("Access-Control-Allow-Origin")
	hdrACAC   = []byte("Access-Control-Allow-Credentials")
	hdrACAM   = []byte("Access-Control-Allow-Methods")
	hdrACAH   = []byte("Access-Control-Allow-Headers")
	hdrACEH   = []byte("Access-Control-Expose-Headers")
	hdrACMA   = []byte("Access-Control-Max-Age")
	hdrACAPN  = []byte("Access-Control-Allow-Private-Network")
	hdrVary   = []byte("Vary")
	valOrigin = []byte("Origin")
	valStar   = []byte("*")
	valTrue   = []byte("true")
)

// The safelisted request headers a preflight may name without the policy
// listing them.
var corsSafelisted = []string{"accept", "accept-language", "content-language", "content-type"}

// allows reports whether origin may make requests under p.
func (p *corsPolicy) allows(origin []byte) bool {
	o := bstr(origin)
	switch {
	case p.anyOrigin:
		return true
	case o == "null":
		return p.nullOrigin
	case slices.Contains(p.exact, o):
		return true
	}
	for _, re := range p.regex {
		if re.MatchString(o) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether origin names host, the request's Host.
func sameOrigin(origin, host []byte) bool {
	o := bstr(origin)
	i := strings.Index(o, "://")
	return i > 0 && len(host) > 0 && strings.EqualFold(o[i+3:], bstr(host))
}

// applyCORS runs p on an actual (not preflight) request; it reports false
// when it answered the request itself, with the 403.
func (a *App) applyCORS(ex *exchange, p *corsPolicy) bool {
	c := ex.c
	h := &c.Response.Header
	if !p.star {
		h.AddArgBytes(hdrVary, valOrigin, false)
	}
	origin := c.Request.Header.PeekArgBytes(valOrigin)
	if len(origin) == 0 || sameOrigin(origin, c.Host()) {
		return true
	}
	if !p.allows(origin) {
		pr := problem.CORSForbidden("CORS request from origin '" + string(origin) + "' not allowed")
		ex.out = writeProblem(c, &pr, ex.out)
		return false
	}
	p.allowOrigin(ex, origin)
	if p.exposeValue != nil {
		h.SetArgBytes(hdrACEH, p.exposeValue, false)
	}
	return true
}

// allowOrigin sets Access-Control-Allow-Origin (and -Credentials) for an
// allowed origin.
func (p *corsPolicy) allowOrigin(ex *exchange, origin []byte) {
	h := &ex.c.Response.Header
	if p.star {
		h.SetArgBytes(hdrACAO, valStar, false)
	} else {
		h.SetArgBytes(hdrACAO, origin, false)
	}
	if p.credentials {
		h.SetArgBytes(hdrACAC, valTrue, false)
	}
}

// isPreflight reports whether the OPTIONS request of ex is a CORS
// preflight.
func isPreflight(ex *exchange) bool {
	h := &ex.c.Request.Header
	return len(h.PeekArgBytes(valOrigin)) > 0 && len(h.Peek("Access-Control-Request-Method")) > 0
}

// preflight answers the preflight of ex to path when a route there has a
// policy, and reports whether it did; when none has, the request is routed
// as usual.
func (a *App) preflight(ex *exchange, path []byte) bool {
	c := ex.c
	rh := &c.Request.Header
	asked := rh.Peek("Access-Control-Request-Method")
	p := a.preflightPolicy(asked, path, &ex.caps)
	if p == nil {
		return false
	}
	h := &c.Response.Header
	if !p.star {
		h.AddArgBytes(hdrVary, valOrigin, false)
	}
	origin := rh.PeekArgBytes(valOrigin)
	var refused string
	switch {
	case !p.allows(origin):
		refused = "CORS request from origin '" + string(origin) + "' not allowed"
	case !p.anyMethod && !slices.Contains(p.methods, string(asked)):
		refused = "CORS method '" + string(asked) + "' not allowed"
	default:
		refused = p.refusedHeader(rh.Peek("Access-Control-Request-Headers"))
	}
	if refused != "" {
		pr := problem.CORSForbidden(refused)
		ex.out = writeProblem(c, &pr, ex.out)
		return true
	}
	c.Response.SetStatusCode(204)
	p.allowOrigin(ex, origin)
	if p.anyMethod {
		h.SetArgBytes(hdrACAM, asked, false)
	} else {
		h.SetArgBytes(hdrACAM, p.methodsValue, false)
	}
	if hs := rh.Peek("Access-Control-Request-Headers"); len(hs) > 0 {
		h.SetArgBytes(hdrACAH, hs, false)
	}
	if p.maxAgeValue != nil {
		h.SetArgBytes(hdrACMA, p.maxAgeValue, false)
	}
	if p.privateNet && strings.EqualFold(string(rh.Peek("Access-Control-Request-Private-Network")), "true") {
		h.SetArgBytes(hdrACAPN, valTrue, false)
	}
	return true
}

// refusedHeader is the 403's detail for the first header of a preflight's
// Access-Control-Request-Headers that p does not allow, or "".
func (p *corsPolicy) refusedHeader(list []byte) string {
	if p.anyHeader {
		return ""
	}
	for _, name := range strings.Split(string(list), ",") {
		name = strings.TrimSpace(name)
		lower := strings.ToLower(name)
		if name == "" || slices.Contains(corsSafelisted, lower) || slices.Contains(p.headers, lower) {
			continue
		}
		return "CORS header '" + name + "' not allowed"
	}
	return ""
}

// preflightPolicy is the policy a preflight asking for method on path
// meets: the route's for that method, else the path's first route with one.
func (a *App) preflightPolicy(method, path []byte, caps *route.Captures) *corsPolicy {
	if m, ok := route.ParseMethod(method); ok {
		if res := a.tree.Match(m, bstr(path), caps); res.Outcome == route.Found {
			if p := a.routes[res.Route].cors; p != nil {
				return p
			}
		}
	}
	for m := route.GET; m <= route.TRACE; m++ {
		if res := a.tree.Match(m, bstr(path), caps); res.Outcome == route.Found {
			if p := a.routes[res.Route].cors; p != nil {
				return p
			}
		}
	}
	return nil
}

// handshakeOrigins is the WebSocket origin rule of a route with policy p:
// the policy decides unless the route or the app lists WebSocket origins.
func handshakeOrigins(p *corsPolicy, ws *wsRoute, listed bool) {
	if p != nil && ws != nil && !listed {
		ws.anyOrigin = true // applyCORS has refused what the policy refuses
	}
}
