package core

import (
	"context"
	"strconv"
	"time"

	errs "github.com/cloudwego/hertz/pkg/common/errors"
	"github.com/cloudwego/hertz/pkg/network"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/cloudwego/hertz/pkg/protocol/http1"
	"github.com/cloudwego/hertz/pkg/protocol/http1/resp"
	"github.com/cloudwego/hertz/pkg/protocol/suite"
	"github.com/cloudwego/hertz/pkg/route"

	"github.com/spikard/spikard/core/problem"
)

// The front is the HTTP/1.1 protocol server Hertz runs on each connection
// (ADR 0003). It reads every request head itself, checks it (head.go) and
// only then hands the connection to Hertz's own HTTP/1.1 server, for one
// request at a time: Hertz's parser sees only heads that broke no rule. A
// head that breaks one is answered here, with a problem document and
// Connection: close, and the connection is closed; a head that stops
// arriving is answered 408 once read_timeout passes on one wait or
// header_timeout on the whole head.
//
// Why here, and not a patched or newer Hertz: the checks need the bytes of
// the head before Hertz parses them (Hertz answers what it refuses in plain
// text, and waits forever on some of it), and this is the one place Hertz
// lets a program see them without forking its parser: a protocol server
// registered for "http/1.1" gets the connection, and netpoll's zero-copy
// reader lets it look at the buffered head without consuming or copying it
// (Hertz then parses the same bytes). Hertz serves one request per call
// because its idle timeout is 0; the front keeps the connection and waits
// for the next request with the idle timeout itself, as Hertz did.
//
// The fast path (a whole head in the buffer) costs one scan of the head
// and no allocation; the clock is read only when a head must be waited
// for.
type front struct {
	hertz  *http1.Server
	limits headLimits
	read   time.Duration // read_timeout: one wait for bytes of a head
	idle   time.Duration // the wait for the next request of a keep-alive connection
	header time.Duration // header_timeout: the whole head, from its first byte
	server []byte        // the Server header Hertz writes
	// sockets ends a WebSocket whose upgrade Hertz never got to hand over
	// (the 101 could not be written), as its connection ends.
	sockets *socketSet
}

// frontFactory builds the front when Hertz's engine starts.
type frontFactory struct {
	engine *route.Engine
	front  front
}

// New is Hertz's suite.ServerFactory: Hertz's own HTTP/1.1 server, with
// the options the engine would give it, under the front.
func (f *frontFactory) New(core suite.Core) (protocol.Server, error) {
	e := f.engine
	o := e.GetOptions()
	h := http1.NewServer()
	h.Option = http1.Option{
		StreamRequestBody:             o.StreamRequestBody,
		GetOnly:                       o.GetOnly,
		DisablePreParseMultipartForm:  o.DisablePreParseMultipartForm,
		DisableKeepalive:              o.DisableKeepalive,
		NoDefaultServerHeader:         o.NoDefaultServerHeader,
		MaxRequestBodySize:            o.MaxRequestBodySize,
		MaxHeaderBytes:                o.MaxHeaderBytes,
		IdleTimeout:                   0, // one request per Serve: the front waits between requests
		ReadTimeout:                   o.ReadTimeout,
		ServerName:                    e.GetServerName(),
		TLS:                           o.TLS,
		EnableTrace:                   e.IsTraceEnable(),
		ContinueHandler:               e.ContinueHandler,
		HijackConnHandle:              e.HijackConnHandle,
		DisableHeaderNamesNormalizing: o.DisableHeaderNamesNormalizing,
		NoDefaultDate:                 o.NoDefaultDate,
		NoDefaultContentType:          o.NoDefaultContentType,
	}
	h.Core = core
	fr := f.front
	fr.hertz = h
	if !o.NoDefaultServerHeader {
		fr.server = e.GetServerName()
	}
	return &fr, nil
}

var (
	errIdle    = errs.New(errs.ErrIdleTimeout, errs.ErrorTypePrivate, nil)
	errRefused = errs.New(errs.ErrShortConnection, errs.ErrorTypePublic, "request head refused")
)

// firstByteKey keys, in the context of a connection the app does not
// track (not netpoll's), the timer onAccept (server.go) arms: the
// connection closes unless its first byte comes within the idle timeout.
// netpoll calls Serve only once a connection has bytes to read, so a client
// that connects and sends nothing would otherwise hold its connection
// forever. Serve stops the timer. One timer per connection, none per
// request; a tracked connection keeps it in its connState.
type firstByteKey struct{}

// errDraining ends a connection whose answer was its last: the app is
// shutting down.
var errDraining = errs.New(errs.ErrShortConnection, errs.ErrorTypePublic, "shutting down")

// Serve is Hertz's protocol.Server: it serves one connection until it
// closes. Hertz's engine closes conn when Serve returns.
//
// It marks the connection busy (conns.go) from the first byte of each
// request until Hertz has written its answer: the only place where a
// request whose body is still arriving is known to have begun.
func (f *front) Serve(ctx context.Context, conn network.Conn) error {
	cs, _ := ctx.Value(connStateKey{}).(*connState)
	if cs != nil {
		cs.first.Stop()
	} else if t, ok := ctx.Value(firstByteKey{}).(*time.Timer); ok {
		t.Stop()
	}
	for first := true; ; first = false {
		if !first {
			if cs != nil && !cs.end() {
				return errDraining
			}
			if !f.awaitRequest(conn) {
				return errIdle
			}
		}
		if cs != nil && !cs.begin() {
			return errDraining // closed by Shutdown as it was idle
		}
		if p, ok := f.checkHead(conn); !ok {
			if p != nil {
				f.refuse(conn, p)
			}
			return errRefused
		}
		// nil: one request served and the connection kept (Hertz's idle
		// timeout is 0); an error: the connection ends.
		if err := f.hertz.Serve(ctx, conn); err != nil {
			if f.sockets != nil {
				f.sockets.orphaned(conn) // one atomic load unless an upgrade is pending
			}
			return err
		}
	}
}

// awaitRequest waits, for the idle timeout, for the first byte of the
// connection's next request.
func (f *front) awaitRequest(conn network.Conn) bool {
	if conn.Len() > 0 {
		return true // pipelined
	}
	if f.idle != f.read {
		_ = conn.SetReadTimeout(f.idle)
		defer func() { _ = conn.SetReadTimeout(f.read) }()
	}
	_, err := conn.Peek(1)
	return err == nil
}

// checkHead waits until the buffered bytes hold a whole request head and
// checks it. ok is false when the head is refused, with the problem to
// answer, or nil when the connection cannot be answered (it closed).
func (f *front) checkHead(conn network.Conn) (p *problem.Problem, ok bool) {
	var s headScan
	var deadline time.Time
	waited := false
	defer func() {
		if waited {
			_ = conn.SetReadTimeout(f.read)
		}
	}()
	for {
		buf, _ := conn.Peek(conn.Len())
		switch s.next(buf, &f.limits) {
		case headDone:
			return nil, true
		case headFault:
			p := faultProblem(s.fault, &f.limits)
			return &p, false
		}
		wait := f.read
		if f.header > 0 {
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(f.header)
			}
			left := deadline.Sub(now)
			if left <= 0 {
				p := problem.HeaderTimeout("header_timeout", spellSeconds(f.header))
				return &p, false
			}
			if wait <= 0 || left < wait {
				wait = left
			}
		}
		_ = conn.SetReadTimeout(wait)
		waited = true
		if _, err := conn.Peek(len(buf) + 1); err != nil {
			if !isTimeout(err) {
				return nil, false // closed: nobody to answer
			}
			if f.header > 0 && !time.Now().Before(deadline) {
				p := problem.HeaderTimeout("header_timeout", spellSeconds(f.header))
				return &p, false
			}
			p := problem.HeaderTimeout("read_timeout", spellSeconds(f.read))
			return &p, false
		}
	}
}

// refuse writes p as the whole answer of the connection.
func (f *front) refuse(conn network.Conn, p *problem.Problem) {
	var r protocol.Response
	r.Header.SetStatusCode(p.Status)
	r.Header.SetContentType(p.MediaType())
	r.Header.SetConnectionClose(true)
	if f.server != nil {
		r.Header.SetServerBytes(f.server)
	}
	r.SetBody(problem.Append(nil, p))
	if resp.Write(&r, conn) == nil {
		_ = conn.Flush()
	}
}

// faultProblem is the answer to a head that broke rule k: the status its
// RFC gives, and a detail that names the rule or the limit.
func faultProblem(k headFaultKind, lim *headLimits) problem.Problem {
	switch k {
	case faultURILength:
		return problem.URITooLong(lim.uri)
	case faultFieldsSize:
		return problem.HeaderTooLarge(lim.fields)
	case faultFieldsCount:
		return problem.TooManyHeaders(lim.count)
	case faultVersionUnsupported:
		return problem.VersionNotSupported("Only HTTP/1.0 and HTTP/1.1 are supported")
	case faultExpect:
		return problem.ExpectationFailed("The only expectation supported is 100-continue")
	case faultBodySize:
		return problem.PayloadTooLarge(lim.maxBody)
	}
	return problem.BadRequest(faultRule[k])
}

// faultRule words each rule a 400 enforces. The framing rules keep the
// words they had before the front existed.
var faultRule = [...]string{
	faultNone:              "",
	faultRequestLine:       "Request line is not method SP request-target SP HTTP-version",
	faultMethod:            "Request method is not a token",
	faultMethodLength:      "Request method is longer than " + strconv.Itoa(maxMethodLength) + " bytes",
	faultTarget:            `Request target must start with "/" (or be "*" for OPTIONS, or an absolute URI)`,
	faultTargetByte:        "Request target contains a control character",
	faultVersion:           "HTTP version is not HTTP/DIGIT.DIGIT",
	faultNoColon:           "Header field line has no colon",
	faultEmptyName:         "Header field name is empty",
	faultNameSpace:         "Whitespace before a header's colon is not allowed",
	faultNameByte:          "Header field name is not a token",
	faultValueByte:         "Header field value contains a control character",
	faultFolding:           "Obsolete header line folding is not allowed",
	faultHosts:             "Multiple Host headers are not allowed",
	faultHostUserinfo:      "Host header must not contain userinfo",
	faultNoHost:            "HTTP/1.1 request has no Host header",
	faultContentLength:     "Content-Length is not a non-negative integer",
	faultContentLengths:    "Conflicting Content-Length headers",
	faultTransferEncodings: "Multiple Transfer-Encoding headers are not allowed",
	faultTransferEncoding:  "Unsupported Transfer-Encoding",
	faultTEAndCL:           "Transfer-Encoding and Content-Length together are not allowed",
	faultTEInHTTP10:        "Transfer-Encoding is not allowed in an HTTP/1.0 request",
	// The limits, 505 and 417 have problems of their own (faultProblem);
	// the last kind sizes the table.
	faultBodySize: "",
}

// spellSeconds writes a duration as the config document counts it: "10 s".
func spellSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}
