package core

import (
	"io"

	"github.com/cloudwego/hertz/pkg/app"
)

// drainLimit bounds how much of an oversized body we read and discard
// before answering 413, so that a client still sending gets to read the
// answer instead of a connection reset.
const drainLimit = 16 << 20

// readBody returns the request body, reading Hertz's body stream into the
// exchange's reusable buffer, and reports a body over MaxBodySize.
func (a *App) readBody(c *app.RequestContext, ex *exchange) ([]byte, bool) {
	max := a.cfg.MaxBodySize
	if cl := c.Request.Header.ContentLength(); max > 0 && int64(cl) > max {
		// A declared length past drainLimit could never be drained: answer
		// at once (the connection closes) instead of waiting on a client
		// that may never send it.
		if cl <= drainLimit {
			a.drain(c)
		}
		return nil, true
	}
	stream := c.Request.BodyStream()
	if stream == nil {
		return c.Request.Body(), false
	}
	buf := ex.body[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := stream.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if max > 0 && int64(len(buf)) > max {
			ex.body = buf[:0]
			a.drain(c)
			return nil, true
		}
		if err != nil {
			break // io.EOF, or a broken connection Hertz will see too
		}
	}
	ex.body = buf
	return buf, false
}

// drain discards up to drainLimit more bytes of the body.
func (a *App) drain(c *app.RequestContext) {
	if s := c.Request.BodyStream(); s != nil {
		_, _ = io.CopyN(io.Discard, s, drainLimit)
	}
}
