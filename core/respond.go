package core

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol"

	"github.com/spikard/spikard/core/problem"
)

// claim takes the waiting exchange id for answering (nil if it is not
// waiting) and gives its place on a serial lane to the next request.
func (a *App) claim(id uint64) *exchange {
	ex := a.ex.claim(id)
	if ex != nil {
		ex.rt.lane.unholdRequest(ex)
		ex.hookClaimed() // hooks.go
	}
	return ex
}

// Respond answers exchange id. It returns ErrUnknownExchange if the exchange
// was already answered, timed out or its client went away. resp is copied
// as needed before Respond returns.
//
// resp.Flags may add, to an answer Hertz writes as it returns:
//   - ResponseWritten: the exchange's goroutine writes and flushes the
//     answer itself, then queues EventWritten, or EventDisconnect
//     (GoneClient) if the write failed, for the exchange's owner.
//   - ResponseStream: status and headers go out now and Body is the first
//     chunk; StreamWrite sends the rest (see stream.go). Without a
//     content-length header the body is chunked (close-delimited for an
//     HTTP/1.0 client); with one, exactly that many bytes go out. For HEAD
//     only the headers go out, and chunks are checked and dropped. The
//     status must allow a body (not 1xx, 204 or 304), and transfer-encoding
//     is core's.
//   - ResponseStream|ResponseSSE: a stream of server-sent events (sse.go);
//     core sets content-type and cache-control, which the host must not
//     pass, and Body must be empty.
//
// An answer Respond refuses (a status outside 100..599, a malformed
// header, a field its flags do not allow: ErrInvalid; an unknown flag, or
// ResponseSSE without ResponseStream: ErrUnsupported) is never half
// applied: its exchange gets the standard 500 problem at once, no event
// follows, and the error says why.
func (a *App) Respond(id uint64, resp Response) error {
	if resp.Flags == ResponseContinue {
		return a.respondContinue(id, &resp) // hooks.go
	}
	ex := a.claim(id)
	if ex == nil {
		return ErrUnknownExchange
	}
	var err error
	if resp.Flags == 0 {
		err = writeResponse(ex, &resp)
	} else {
		err = a.respondFlagged(ex, &resp)
	}
	ex.done <- struct{}{}
	return err
}

// knownResponseFlags are the Response flags this library takes.
const knownResponseFlags = ResponseStream | ResponseSSE | ResponseWritten | ResponseWSAccept | ResponseFile

// errFileFlags refuses ResponseFile with a flag other than ResponseWritten.
var errFileFlags = fmt.Errorf("respond: ResponseFile goes alone or with ResponseWritten: %w", ErrUnsupported)

var (
	errResponseFlags = fmt.Errorf("respond: response flags %w", ErrUnsupported)
	errSSEAlone      = fmt.Errorf("respond: ResponseSSE goes with ResponseStream: %w", ErrUnsupported)
)

// respondFlagged answers the claimed ex with a flagged resp.
func (a *App) respondFlagged(ex *exchange, resp *Response) error {
	var err error
	switch f := resp.Flags; {
	case f&^knownResponseFlags != 0:
		err = errResponseFlags
	case f&ResponseWSAccept != 0:
		if err = a.acceptWS(ex, resp); err == nil { // websocket.go
			return nil
		}
	case f&ResponseFile != 0:
		if f&^(ResponseFile|ResponseWritten) != 0 {
			err = errFileFlags
		} else if err = a.respondFile(ex, resp); err == nil { // files.go
			if f&ResponseWritten != 0 {
				a.openWhole(ex)
			}
			return nil
		}
	case f&ResponseSSE != 0 && f&ResponseStream == 0:
		err = errSSEAlone
	case f&ResponseStream != 0:
		if err = a.openStream(ex, resp); err == nil {
			return nil
		}
	default: // ResponseWritten
		if err = writeResponse(ex, resp); err == nil {
			a.openWhole(ex)
		}
		return err
	}
	p := problem.Internal()
	ex.out = writeProblem(ex.c, &p, ex.out)
	ex.hk.problem = true // hooks.go: on_error sees it
	return err
}

// openWhole makes the answer in ex's Hertz response a WRITTEN one.
func (a *App) openWhole(ex *exchange) {
	st := &ex.st
	st.mu.Lock()
	st.openLocked(a, ex, true)
	st.mu.Unlock()
	ex.answer = answerWhole
	a.streams.add(st)
}

// openStream checks resp, prepares the stream's header in ex's Hertz
// response and queues Body as its first chunk. It changes nothing when it
// refuses resp.
func (a *App) openStream(ex *exchange, resp *Response) error {
	sse := resp.Flags&ResponseSSE != 0
	length, err := streamHeaders(resp, sse)
	if err == nil {
		err = checkCookies(resp.Headers) // cookie.go
	}
	if err != nil {
		return err
	}
	c := ex.c
	h := &c.Response.Header
	c.Response.SetStatusCode(resp.Status)
	for i := range resp.Headers {
		hd := &resp.Headers[i]
		if !strings.EqualFold(bstr(hd.Name), "content-length") {
			addHeaders(h, resp.Headers[i:i+1])
		}
	}
	if sse {
		h.SetContentType("text/event-stream")
		h.Set("Cache-Control", "no-cache")
	}
	http11 := c.Request.Header.IsHTTP11()
	var framing uint8
	switch {
	case length >= 0:
		h.SetContentLength(int(length))
		framing = frameLength
	case http11:
		h.SetContentLength(-1) // Transfer-Encoding: chunked
		framing = frameChunked
	default:
		h.InitContentLengthWithValue(-2) // neither length nor chunks: until close
		framing = frameClose
	}
	if !http11 || c.Request.Header.ConnectionClose() || a.phase.Load() != phaseServing {
		h.SetConnectionClose(true)
	}
	if ex.head {
		framing = frameNone
	}
	var enc *streamEncoder
	if a.codecs != nil {
		enc = a.codecs.openStreamEncoder(c, resp.Status, ex.head, sse, length >= 0) // compress.go
	}
	st := &ex.st
	st.mu.Lock()
	st.openLocked(a, ex, false)
	st.enc = enc
	st.sse = sse
	st.framing = framing
	st.limited, st.remain = length >= 0, length
	if !sse { // an SSE stream opens with no body, and no event
		first := Chunk{Data: resp.Body}
		st.appendLocked(&first, st.framedLen(&first))
	}
	st.mu.Unlock()
	ex.answer = answerStream
	a.streams.add(st)
	return nil
}

// streamHeaders checks a stream's status and headers and returns its
// content-length, or -1 for none.
func streamHeaders(resp *Response, sse bool) (int64, error) {
	switch s := resp.Status; {
	case s < 200 || s > 599 || s == 204 || s == 304:
		return 0, fmt.Errorf("respond: a stream's status must allow a body, not %d: %w", s, ErrInvalid)
	case !validHeaders(resp.Headers):
		return 0, fmt.Errorf("respond: a header name or value is malformed: %w", ErrInvalid)
	case sse && len(resp.Body) > 0:
		return 0, fmt.Errorf("respond: an SSE stream opens with an empty body: %w", ErrInvalid)
	}
	length := int64(-1)
	for i := range resp.Headers {
		name := bstr(resp.Headers[i].Name)
		switch {
		case strings.EqualFold(name, "transfer-encoding"):
			return 0, fmt.Errorf("respond: transfer-encoding is set by core: %w", ErrInvalid)
		case sse && (strings.EqualFold(name, "content-type") || strings.EqualFold(name, "cache-control") ||
			strings.EqualFold(name, "content-length")):
			return 0, fmt.Errorf("respond: %s is set by core on an SSE stream: %w", name, ErrInvalid)
		case strings.EqualFold(name, "content-length"):
			n, ok := parseLength(resp.Headers[i].Value)
			if !ok || length >= 0 {
				return 0, fmt.Errorf("respond: content-length %q is not one decimal length: %w", resp.Headers[i].Value, ErrInvalid)
			}
			length = n
		}
	}
	if length >= 0 && int64(len(resp.Body)) > length {
		return 0, fmt.Errorf("respond: a body of %d bytes past content-length %d: %w", len(resp.Body), length, ErrInvalid)
	}
	return length, nil
}

// parseLength reads a content-length: decimal digits only.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, b := range v {
		if b < '0' || b > '9' {
			return 0, false
		}
		n = n*10 + int64(b-'0')
	}
	return n, true
}

// RespondError answers exchange id with the standard 500 problem document
// (SPIKARD_RESPONSE_HANDLER_ERROR).
func (a *App) RespondError(id uint64) error {
	ex := a.claim(id)
	if ex == nil {
		return ErrUnknownExchange
	}
	p := problem.Internal()
	ex.out = writeProblem(ex.c, &p, ex.out)
	ex.hk.problem = true // hooks.go: on_error sees it
	ex.done <- struct{}{}
	return nil
}

// RespondProblem answers exchange id with the problem document core renders
// from a host's description (see problem.FromDescription), plus the host's
// headers (Retry-After, WWW-Authenticate, ...). A description or header core
// refuses still answers the exchange, with the standard 500, so nothing
// waits for request_timeout, and the error says why.
func (a *App) RespondProblem(id uint64, status int, desc []byte, headers []Header) error {
	ex := a.claim(id)
	if ex == nil {
		return ErrUnknownExchange
	}
	p, err := problem.FromDescription(status, desc)
	if err == nil {
		err = problemHeaders(headers)
	}
	if err != nil {
		p = problem.Internal()
		headers = nil
	}
	ex.out = writeProblem(ex.c, &p, ex.out)
	for i := range headers {
		ex.c.Response.Header.Add(bstr(headers[i].Name), bstr(headers[i].Value))
	}
	if ex.head {
		ex.c.Response.SkipBody = true
	}
	ex.hk.problem = true // hooks.go: on_error sees it
	ex.done <- struct{}{}
	return err
}

// problemHeaders refuses headers a problem answer cannot carry: malformed
// ones, and those core sets itself.
func problemHeaders(hs []Header) error {
	if !validHeaders(hs) {
		return errors.New("problem: a header name or value is malformed")
	}
	for i := range hs {
		switch strings.ToLower(bstr(hs[i].Name)) {
		case "content-type", "content-length":
			return fmt.Errorf("problem: header %q is set by core", hs[i].Name)
		}
	}
	return nil
}

// errAnswer is writeResponse's refusal.
var errAnswer = fmt.Errorf("respond: the status is outside 100..599 or a header is malformed: %w", ErrInvalid)

// writeResponse copies resp into the Hertz response of ex. A status
// outside 100..599 or a malformed header becomes the standard 500, and
// the error says so.
func writeResponse(ex *exchange, resp *Response) error {
	c := ex.c
	if resp.Status < 100 || resp.Status > 599 || !validHeaders(resp.Headers) {
		p := problem.Internal()
		ex.out = writeProblem(c, &p, ex.out)
		ex.hk.problem = true // hooks.go: on_error sees it
		return errAnswer
	}
	if err := checkCookies(resp.Headers); err != nil { // cookie.go
		p := problem.Internal()
		ex.out = writeProblem(c, &p, ex.out)
		ex.hk.problem = true
		return err
	}
	c.Response.SetStatusCode(resp.Status)
	addHeaders(&c.Response.Header, resp.Headers)
	setAnswerBody(&c.Response, resp.Body)
	if ex.head {
		c.Response.SkipBody = true
	}
	return nil
}

// setAnswerBody copies an answer's body into r. A small one goes into
// the response's own pooled buffer, reused by the connection's next
// answer; a large one (past keepBodyCap, body.go) into a buffer of its
// exact size that goes with the answer once written, so that no idle
// connection, and no pool, keeps a large answer's buffer.
func setAnswerBody(r *protocol.Response, b []byte) {
	if len(b) > keepBodyCap {
		r.SetBodyRaw(append([]byte(nil), b...))
		return
	}
	r.SetBody(b)
}

func validHeaders(hs []Header) bool {
	for i := range hs {
		if len(hs[i].Name) == 0 {
			return false
		}
		for _, b := range hs[i].Name {
			if b <= ' ' || b >= 0x7f || b == ':' {
				return false
			}
		}
		for _, b := range hs[i].Value {
			if b == '\r' || b == '\n' || b == 0 {
				return false
			}
		}
	}
	return true
}

// writeProblem writes p as the whole response, encoding into buf (reused
// across requests by the caller) and returning it.
func writeProblem(c *app.RequestContext, p *problem.Problem, buf []byte) []byte {
	buf = problem.Append(buf[:0], p)
	c.Response.SetStatusCode(p.Status)
	c.Response.Header.SetContentType(p.MediaType())
	c.Response.SetBody(buf)
	return buf
}
