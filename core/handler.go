package core

import (
	"context"
	"time"
	"unsafe"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/route"
)

// serveHTTP is the one Hertz handler: every request of the app passes
// here, on its Hertz goroutine.
func (a *App) serveHTTP(ctx context.Context, c *app.RequestContext) {
	// Off, the access log costs this load and compare: no clock, no line.
	al := a.alog
	var start time.Time
	if al != nil {
		start = time.Now()
	}
	// The front (front.go) has refused every head that breaks RFC 9112,
	// a limit, or the smuggling rules: this request's framing is sound.
	a.inflight.Add(1)
	defer a.leaveRequest(c) // after the access line: Shutdown's last batch must hold it
	ex := a.ex.acquire()
	defer a.releaseExchange(ex)
	if al != nil {
		defer al.record(c, ex, start) // before the release: it reads ex.requestID
	}
	ex.c = c
	if a.rid.key != nil {
		a.stampRequestID(ex) // requestid.go
	}
	if a.codecs != nil {
		// Before the access line: it logs the bytes that went out.
		defer a.codecs.compressWhole(c) // after every answer Hertz writes (compress.go)
	}
	if a.phase.Load() == phaseClosing {
		p := problem.Unavailable()
		ex.out = writeProblem(c, &p, ex.out)
		c.SetConnectionClose()
		return
	}

	method, ok := route.ParseMethod(c.Request.Header.Method())
	path := c.Request.URI().Path()
	if method == route.OPTIONS && a.corsOn && isPreflight(ex) && a.preflight(ex, path) { // cors.go
		return
	}
	var res route.Result
	if ok {
		res = a.tree.Match(method, bstr(path), &ex.caps)
	} else {
		// An unknown method on a known path is a 405 too.
		res = a.tree.Match(route.TRACE+1, bstr(path), &ex.caps)
	}
	switch res.Outcome {
	case route.NotFound:
		if a.cfg.StaticFiles != nil && a.serveStatic(c) { // static.go
			return
		}
		p := problem.NotFound()
		ex.out = writeProblem(c, &p, ex.out)
		a.coreError(ctx, ex) // hooks.go
		return
	case route.Mismatch:
		a.answerMismatch(ex, res, path) // mismatch.go
		a.coreError(ctx, ex)
		return
	case route.MethodNotAllowed:
		p := problem.MethodNotAllowed(string(c.Request.Header.Method()))
		ex.out = writeProblem(c, &p, ex.out)
		c.Response.Header.Set("Allow", res.Allow)
		a.coreError(ctx, ex)
		return
	}
	rt := a.routes[res.Route]
	ex.rt = rt
	ex.head = res.HeadFromGet || method == route.HEAD
	ex.path = path
	if rt.cors != nil && !a.applyCORS(ex, rt.cors) { // cors.go
		return
	}
	if rt.guard != nil && !a.checkGuard(ctx, ex, rt.guard) { // guard.go
		return
	}
	if rt.ws != nil && !a.checkHandshake(ex) { // websocket.go
		return
	}

	body, fault := a.readBody(c, ex)
	if fault != bodyOK {
		var p problem.Problem
		switch fault {
		case bodyTooLarge:
			p = problem.PayloadTooLarge(a.cfg.MaxBodySize)
		case bodyStalled:
			p = problem.RequestTimeout()
		default:
			p = problem.BodyLengthMismatch()
		}
		ex.out = writeProblem(c, &p, ex.out)
		c.SetConnectionClose()
		a.coreError(ctx, ex)
		return
	}
	pre := rt.hooks&preHooks != 0
	inRequest := pre && a.cfg.HooksInRequest             // hooks.go: the pre hooks may ride on the REQUEST
	if pre && !inRequest && !a.preVisit(ctx, ex, body) { // hooks.go
		return
	}
	raw := body
	for {
		ex.params, ex.errs = rt.params.Extract(ex.params[:0], ex, &ex.scratch, ex.errs[:0])
		// Body decoding (JSON, forms, multipart) and validation; see formbody.go.
		body, attachments, ok := ex.decodeBody(raw)
		if inRequest && (!ok || len(ex.errs) > 0 || !sameBytes(body, raw)) {
			// The hooks see the request before core refuses it, and its
			// body as received: a pre visit, then validation again.
			inRequest = false
			if !ok {
				unwriteProblem(c) // hooks.go
			}
			if !a.preVisit(ctx, ex, raw) {
				return
			}
			continue
		}
		if !ok {
			a.coreError(ctx, ex)
			return
		}
		if len(ex.errs) > 0 {
			p := problem.Validation(ex.errs)
			ex.out = writeProblem(c, &p, ex.out)
			a.coreError(ctx, ex)
			return
		}

		ex.req = Request{
			Kind:        EventRequest,
			Route:       rt.id,
			Params:      ex.params,
			Body:        body,
			Attachments: attachments,
		}
		if rt.ws != nil {
			ex.req.Kind = EventWSOpen
		}
		if rt.wants(factMeta) || rt.spec.Handler != nil || inRequest {
			ex.req.Method = c.Request.Header.Method()
			ex.req.Path = path
			ex.req.Query = c.Request.URI().QueryString()
			ex.collectHeaders()
		}
		if rt.facts&^factMeta != 0 {
			ex.collectFacts(rt, body)
		}

		if h := rt.spec.Handler; h != nil {
			ex.req.Exchange = ex.id()
			a.runHandler(h, ex)
			return
		}
		if !inRequest {
			a.await(ctx, ex)
			break
		}
		if !a.requestVisit(ctx, ex) { // hooks.go
			break
		}
		inRequest = false // the hooks changed headers: validation again, a plain REQUEST
	}
	if ex.hk.problem {
		a.coreError(ctx, ex) // hooks.go: a problem the host asked core for
	}
}

// leaveRequest is leave for a request as serveHTTP ends, before Hertz
// writes its answer: once Shutdown has begun the answer says Connection:
// close, since the front (front.go) closes the connection after it (a 101
// keeps its Connection: Upgrade; the WebSocket set closes it with 1001).
func (a *App) leaveRequest(c *app.RequestContext) {
	if a.phase.Load() != phaseServing && c.Response.StatusCode() != 101 {
		c.SetConnectionClose()
	}
	a.leave()
}

// leave ends a request's stay in the handler and wakes Shutdown when it
// was the last one.
func (a *App) leave() {
	if a.inflight.Add(-1) == 0 && a.phase.Load() != phaseServing {
		select {
		case a.drained <- struct{}{}:
		default:
		}
	}
}

// runHandler calls a Go Handler inline; a panic becomes the standard 500.
func (a *App) runHandler(h Handler, ex *exchange) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Printf("spikard: handler for %s %s panicked: %v", ex.rt.spec.Method, ex.rt.spec.Path, r)
			ex.c.Response.Reset()
			p := problem.Internal()
			ex.out = writeProblem(ex.c, &p, ex.out)
		}
	}()
	resp := h(&ex.req)
	if resp.Flags != 0 {
		// Streams and WRITTEN notices are for hosts on lanes.
		a.log.Printf("spikard: handler for %s %s: response flags are for lane hosts", ex.rt.spec.Method, ex.rt.spec.Path)
		p := problem.Internal()
		ex.out = writeProblem(ex.c, &p, ex.out)
		return
	}
	_ = writeResponse(ex, &resp) // a bad answer is the standard 500
}

// await queues ex on its lane and blocks until a host answers it, the
// request times out, the client goes away or the app shuts down. An answer
// flagged ResponseWritten or ResponseStream is then written from here
// (stream.go); any other goes back to Hertz.
func (a *App) await(ctx context.Context, ex *exchange) {
	lane := ex.rt.lane
	ex.req.Exchange = ex.id()
	a.ex.setWaiting(ex)
	if err := lane.push(ex, ex.req.Exchange); err != nil {
		a.ex.abandon(ex)
		p := problem.Unavailable()
		ex.out = writeProblem(ex.c, &p, ex.out)
		return
	}
	var timeC <-chan time.Time
	if d := a.cfg.RequestTimeout; d > 0 {
		if ex.timer == nil {
			ex.timer = time.NewTimer(d)
		} else {
			ex.timer.Reset(d)
		}
		timeC = ex.timer.C
	}
	var p problem.Problem
	var code uint32
	select {
	case <-ex.done:
		a.stopTimer(ex)
		// A host may answer from inside a PollEach callback that is still
		// reading ex.req; release would zero it and Hertz reuse the buffers
		// it aliases. The claim ended stateWaiting, so no new pin can start.
		ex.pins.Wait()
		if ex.answer != answerPlain {
			a.writeAnswer(ctx, ex)
		}
		return
	case <-timeC:
		p, code = problem.Timeout(spellSeconds(a.cfg.RequestTimeout)), GoneTimeout
	case <-a.force:
		p, code = problem.Unavailable(), GoneStopping
	case <-ctx.Done():
		// The client went away: nobody will read an answer.
		code = GoneClient
	}
	a.stopTimer(ex)
	ok, wasQueued := a.abandon(ex, code)
	if !ok {
		<-ex.done // a Respond won the race and has written the answer
		ex.pins.Wait()
		if ex.answer != answerPlain {
			a.writeAnswer(ctx, ex)
		}
		return
	}
	if !wasQueued {
		lane.unholdRequest(ex) // its place on a serial lane goes to the next request
	}
	if p.Status != 0 {
		ex.out = writeProblem(ex.c, &p, ex.out)
		return
	}
	ex.c.SetConnectionClose()
}

// writeAnswer writes a WRITTEN answer or a stream from the exchange's
// goroutine (wire.go), once Respond has signalled done.
func (a *App) writeAnswer(ctx context.Context, ex *exchange) {
	switch ex.answer {
	case answerWhole:
		a.writeWhole(ex)
	case answerWS:
		a.upgradeWS(ex) // websocket.go
	default:
		a.serveStream(ctx, ex)
	}
}

// releaseExchange returns ex to the slab as serveHTTP ends, unless it
// became a WebSocket: the connection's goroutine releases it (websocket.go).
func (a *App) releaseExchange(ex *exchange) {
	if ex.answer == answerWS {
		return
	}
	a.ex.release(ex)
}

func (a *App) stopTimer(ex *exchange) {
	if ex.timer != nil {
		ex.timer.Stop()
	}
}

// collectHeaders fills ex.req.Headers with lower-cased names (copied into
// ex.names) and values aliasing Hertz's request header.
func (ex *exchange) collectHeaders() {
	ex.names = ex.names[:0]
	ex.headers = ex.headers[:0]
	ex.c.Request.Header.VisitAll(func(k, v []byte) {
		ex.names = append(ex.names, k...)
		ex.headers = append(ex.headers, Header{Value: v})
		ex.lens = append(ex.lens, len(k))
	})
	off := 0
	lower(ex.names)
	for i := range ex.headers {
		n := ex.lens[i]
		ex.headers[i].Name = ex.names[off : off+n : off+n]
		off += n
	}
	ex.lens = ex.lens[:0]
	ex.req.Headers = ex.headers
}

func lower(b []byte) {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// bstr views b as a string without copying; the string must not outlive
// b's contents.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
