package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/spikard/spikard/core/problem"
)

// Lifecycle hooks: core pauses a request where a host has hooks to run.
//
// An app (config "hooks") or a route (route "hooks") names the phases its
// host has hooks for: on_request, pre_validation, pre_handler, on_response,
// on_error. Core makes a visit (one EventHook, answered like a request) only
// where the host cannot run its hooks inside a visit it already gets:
//
//   - a pre visit, code HookOnRequest|HookPreValidation (those named): after
//     routing and reading the body, before parameters and body are
//     validated. A hook cannot change the path, so routing comes first.
//   - an error visit, code HookOnError|HookOnResponse (those named): when
//     the answer about to go out is core's own problem document, a 4xx or
//     5xx core rendered (404, 405, 413, 415, 422, ...), or one a host asked
//     core to render (SPIKARD_RESPONSE_HANDLER_ERROR, SPIKARD_RESPONSE_PROBLEM).
//
// With config "hooks_in_request", a request that validates as received,
// with its body as received (no form or multipart decoded), makes no pre
// visit: its REQUEST carries the pre phases in Request.Code (and meta,
// whatever the route's facts), and the host runs on_request and
// pre_validation hooks there before pre_handler and the handler. When they
// change no header, the handler's answer ends the exchange as usual; when
// they do, the host answers ResponseContinue with the changes, and core
// validates again and queues a plain REQUEST (Code 0). A request that does
// not validate as received, or whose body core decodes, makes the pre visit
// first, so hooks always see the request before core refuses it and the
// body as received. Validation has no side effect, so running it once more
// after changed headers is all this costs; a host that never changes
// headers saves the pre visit's crossing on every request.
//
// pre_handler and on_response hooks on a host's own answers run inside the
// REQUEST visit, host side (pre_handler, handler and on_response back to
// back), so a route whose hooks are all of those makes no extra crossing on
// its success path, and a route without hooks pays one test of a byte.
//
// A visit is answered with ResponseContinue (go on; headers change the
// request's headers on a pre visit, the answer's on an error visit; an
// empty value removes a header) or with any other answer, which ends the
// exchange with it (a short circuit, or the error visit's replacement). An
// exchange makes at most one error visit. request_timeout applies to each
// visit as to a request. The REQUEST that follows a continued pre visit is
// queued on the route's lane like any request. Requests that match no route
// visit lane 0 with route NoRoute. WebSocket routes and Go Handler routes
// make no visits; 503 and 504 answers of core (stop, timeout) neither.

// Hook phases (Request.Code of an EventHook), equal to SPIKARD_HOOK_*.
const (
	HookOnRequest     uint32 = 1 << 0
	HookPreValidation uint32 = 1 << 1
	HookPreHandler    uint32 = 1 << 2
	HookOnResponse    uint32 = 1 << 3
	HookOnError       uint32 = 1 << 4
)

// EventHook is the Request.Kind of a visit (SPIKARD_EVENT_HOOK).
const EventHook uint32 = 8

// ResponseContinue answers an EventHook: go on (SPIKARD_RESPONSE_CONTINUE).
const ResponseContinue uint32 = 1 << 9

// NoRoute is the Route of an error visit for a request no route matched.
const NoRoute RouteID = math.MaxUint32

// hookNames are the phase names of "hooks", bit i for name i.
var hookNames = []string{"on_request", "pre_validation", "pre_handler", "on_response", "on_error"}

// Phases grouped by the visit that runs them.
const (
	preHooks  = uint8(HookOnRequest | HookPreValidation)
	postHooks = uint8(HookOnError | HookOnResponse)
)

// hookState is an exchange's progress through its visits.
type hookState struct {
	visiting bool   // an EventHook is out: ResponseContinue may answer it
	post     bool   // the visit out is an error visit (its answer replaces core's)
	cont     bool   // the visit was answered ResponseContinue
	problem  bool   // the answer is a problem core rendered for a host
	visited  bool   // the error visit is done: no second one
	params   []byte // the error visit's {"status":..,"headers":[..]}
}

func (h *hookState) reset() {
	*h = hookState{params: h.params[:0]}
}

// parseHooks reads a "hooks" list of phase names into bits.
func parseHooks(raw []byte) (uint8, error) {
	names, err := nameList(raw, hookNames)
	if err != nil {
		return 0, err
	}
	bits, err := bitsOf("hooks", names, hookNames)
	if err != nil {
		return 0, errors.New(strings.TrimPrefix(err.Error(), "spikard: hooks: "))
	}
	return bits, nil
}

// routeHooks is the phases a compiled route visits for: the app's and its
// own, none for WebSocket and Go Handler routes.
func (a *App) routeHooks(spec *RouteSpec) (uint8, error) {
	var own uint8
	if spec.Hooks != nil {
		var err error
		if own, err = bitsOf("hooks", spec.Hooks, hookNames); err != nil {
			return 0, err
		}
		if spec.WebSocket != nil || spec.Handler != nil {
			return 0, fmt.Errorf("spikard: %s %s: \"hooks\" are for routes served by a lane host, not WebSocket or Go Handler routes", spec.Method, spec.Path)
		}
	}
	if spec.WebSocket != nil || spec.Handler != nil {
		return 0, nil
	}
	return own | a.cfg.Hooks, nil
}

// newNoRoute is the stand-in route of error visits for requests that match
// none, when the app has on_error or on_response hooks: lane 0, the app's
// phases. Called by NewApp.
func (a *App) newNoRoute() {
	if a.cfg.Hooks&postHooks != 0 {
		a.noRoute = &compiledRoute{id: NoRoute, lane: a.laneLocked(0), hooks: a.cfg.Hooks}
	}
}

// preVisit pauses ex at its route's on_request/pre_validation hooks. It
// reports whether the request goes on (the host continued); otherwise the
// exchange has its answer.
func (a *App) preVisit(ctx context.Context, ex *exchange, body []byte) bool {
	rt := ex.rt
	ex.req = Request{Kind: EventHook, Code: uint32(rt.hooks & preHooks), Route: rt.id, Body: body}
	a.fillMeta(ex)
	if rt.facts&(factCookies|factQuery) != 0 {
		ex.collectFacts(rt, nil)
	}
	ex.hk.visiting, ex.hk.post, ex.hk.cont = true, false, false
	a.await(ctx, ex)
	ex.hk.visiting = false
	return ex.hk.cont
}

// requestVisit queues ex's REQUEST with its route's pre phases in Code
// (config "hooks_in_request"); a ResponseContinue may answer it. It reports
// whether the host continued: its hooks changed headers, so the request is
// validated again and goes as a plain REQUEST.
func (a *App) requestVisit(ctx context.Context, ex *exchange) bool {
	ex.req.Code = uint32(ex.rt.hooks & preHooks)
	ex.hk.visiting, ex.hk.post, ex.hk.cont = true, false, false
	a.await(ctx, ex)
	ex.hk.visiting = false
	return ex.hk.cont
}

// unwriteProblem takes back the problem decodeBody wrote, so that a pre
// visit's hooks answer on a clean response; headers set before validation
// (request id, CORS) stay.
func unwriteProblem(c *app.RequestContext) {
	c.Response.SetStatusCode(200)
	c.Response.Header.SetContentTypeBytes(nil)
	c.Response.ResetBody()
}

// sameBytes reports whether a and b are the same bytes (not a copy).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// coreError makes the error visit of core's problem answer in ex's
// response when its route (or the app, for no route) has on_error or
// on_response hooks; otherwise it costs a test.
func (a *App) coreError(ctx context.Context, ex *exchange) {
	if rt := ex.rt; rt != nil && rt.hooks&postHooks != 0 || rt == nil && a.noRoute != nil {
		a.errorVisit(ctx, ex)
	}
}

// errorVisit lets the host's on_error/on_response hooks see core's problem
// answer in ex's response, if the exchange's route (or the app, for no
// route) has such hooks and it has not made its error visit yet.
func (a *App) errorVisit(ctx context.Context, ex *exchange) {
	rt := ex.rt
	if rt == nil {
		rt = a.noRoute
		ex.rt = rt
	}
	if rt.hooks&postHooks == 0 || ex.hk.visited || rt.lane == nil {
		return
	}
	ex.hk.visited = true
	c := ex.c
	closeConn := c.Response.Header.ConnectionClose()
	ex.hk.params = appendAnswerFacts(ex.hk.params[:0], c)
	ex.req = Request{Kind: EventHook, Code: uint32(rt.hooks & postHooks), Route: rt.id,
		Params: ex.hk.params, Body: c.Response.Body()}
	a.fillMeta(ex)
	ex.hk.visiting, ex.hk.post, ex.hk.cont = true, true, false
	a.await(ctx, ex)
	ex.hk.visiting, ex.hk.post = false, false
	if closeConn {
		c.SetConnectionClose()
	}
}

// fillMeta puts the request's method, path, query and headers on ex.req:
// hooks read them whatever facts the route asks for.
func (a *App) fillMeta(ex *exchange) {
	c := ex.c
	ex.req.Method = c.Request.Header.Method()
	ex.req.Path = c.Request.URI().Path()
	ex.req.Query = c.Request.URI().QueryString()
	ex.collectHeaders()
}

// appendAnswerFacts writes {"status":N,"headers":[[name,value],...]} of the
// answer in c, names lower-case, framing headers left out.
func appendAnswerFacts(b []byte, c *app.RequestContext) []byte {
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(c.Response.StatusCode()), 10)
	b = append(b, `,"headers":[`...)
	first := true
	add := func(k, v []byte) {
		name := strings.ToLower(string(k))
		switch name {
		case "content-length", "transfer-encoding", "connection", "date", "server":
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '[')
		b = strconv.AppendQuote(b, name)
		b = append(b, ',')
		b = strconv.AppendQuote(b, string(v))
		b = append(b, ']')
	}
	if ct := c.Response.Header.ContentType(); len(ct) > 0 {
		add([]byte("content-type"), ct)
	}
	c.Response.Header.VisitAll(func(k, v []byte) {
		if !bytes.EqualFold(k, []byte("content-type")) {
			add(k, v)
		}
	})
	return append(b, "]}"...)
}

// errNotVisiting refuses ResponseContinue for an exchange that is not in a
// visit.
var errNotVisiting = fmt.Errorf("respond: SPIKARD_RESPONSE_CONTINUE answers a SPIKARD_EVENT_HOOK only: %w", ErrInvalid)

// respondContinue answers a visit with ResponseContinue: it applies the
// header changes (request headers on a pre visit, the answer's on an error
// visit) and lets the exchange go on. Refused (ErrInvalid, and the standard
// 500): an exchange not in a visit, a status other than 0, a body, a
// malformed header, or a framing header.
func (a *App) respondContinue(id uint64, resp *Response) error {
	// Not a.claim: a continued error visit keeps core's answer.
	ex := a.ex.claim(id)
	if ex == nil {
		return ErrUnknownExchange
	}
	ex.rt.lane.unholdRequest(ex)
	if err := continueRefusal(ex, resp); err != nil {
		ex.c.Response.Reset()
		ex.hk.problem = !ex.hk.visiting // a REQUEST's 500 is core's problem: on_error sees it
		p := problem.Internal()
		ex.out = writeProblem(ex.c, &p, ex.out)
		ex.done <- struct{}{}
		return err
	}
	var h interface {
		Set(string, string)
		Del(string)
	} = &ex.c.Request.Header
	if ex.hk.post {
		h = &ex.c.Response.Header
	}
	for i := range resp.Headers {
		name, value := bstr(resp.Headers[i].Name), string(resp.Headers[i].Value)
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
	}
	ex.hk.cont = true
	ex.done <- struct{}{}
	return nil
}

// continueRefusal says why resp cannot continue the claimed ex, or nil.
func continueRefusal(ex *exchange, resp *Response) error {
	switch {
	case !ex.hk.visiting:
		return errNotVisiting
	case resp.Status != 0 || len(resp.Body) > 0:
		return fmt.Errorf("respond: a CONTINUE answer has status 0 and no body: %w", ErrInvalid)
	case !validHeaders(resp.Headers):
		return fmt.Errorf("respond: a header name or value is malformed: %w", ErrInvalid)
	}
	for i := range resp.Headers {
		switch strings.ToLower(bstr(resp.Headers[i].Name)) {
		case "content-length", "transfer-encoding", "host":
			return fmt.Errorf("respond: a CONTINUE answer cannot change %s: %w", resp.Headers[i].Name, ErrInvalid)
		}
	}
	return nil
}

// hookClaimed prepares a claimed exchange for its answer: the answer to an
// error visit replaces core's, so the response starts empty.
func (ex *exchange) hookClaimed() {
	if ex.hk.post {
		ex.c.Response.Reset()
	}
}
