package core

import (
	"errors"
	"io"
	"net"

	"github.com/cloudwego/hertz/pkg/app"
	errs "github.com/cloudwego/hertz/pkg/common/errors"
	"github.com/cloudwego/netpoll"
)

// keepBodyCap is the largest body buffer a connection keeps between
// requests. A larger answer gets a buffer of its own exact size that goes
// with it once written (setAnswerBody, respond.go), not one of Hertz's,
// which a connection keeps up to 4 MB by default and a pool after it:
// 64 connections of 150 KB answers held about 10 MB that way while idle.
// Request bodies are read into the exchange's own buffer (readBody), which
// the exchange keeps: reading each into a new one measured well under the
// throughput on multipart-large, in collections, for no lower peak.
const keepBodyCap = 16 << 10

// trustedLength is how much of a declared Content-Length readBody
// allocates before the bytes come: a client that declares megabytes and
// sends none holds no more than this.
const trustedLength = 1 << 20

// drainLimit bounds how much of an oversized body we read and discard
// before answering 413, so that a client still sending gets to read the
// answer instead of a connection reset.
const drainLimit = 16 << 20

// bodyFault is why readBody could not return a whole body.
type bodyFault uint8

const (
	bodyOK       bodyFault = iota
	bodyTooLarge           // over MaxBodySize: 413
	bodyStalled            // the read timeout ran out mid-body: 408
	bodyShort              // the peer ended the body before Content-Length: 400
)

// readBody returns the request body, reading Hertz's body stream into the
// exchange's reusable buffer, or the fault that stopped it. After a fault
// the connection must close: the rest of the body is not consumed.
func (a *App) readBody(c *app.RequestContext, ex *exchange) ([]byte, bodyFault) {
	max := a.cfg.MaxBodySize
	cl := c.Request.Header.ContentLength()
	if max > 0 && int64(cl) > max {
		// A declared length past drainLimit could never be drained: answer
		// at once (the connection closes) instead of waiting on a client
		// that may never send it.
		if cl <= drainLimit {
			a.drain(c)
		}
		return nil, bodyTooLarge
	}
	stream := c.Request.BodyStream()
	if stream == nil {
		return c.Request.Body(), bodyOK
	}
	buf := ex.body[:0]
	if cl > cap(buf) {
		// A declared length gets one buffer of exactly that size (up to
		// trustedLength before any of it has come): no doubling past it,
		// no copy as it grows.
		buf = make([]byte, 0, min(cl, trustedLength))
	}
	for {
		if cl >= 0 && len(buf) == cl {
			break // all of it: the stream's EOF adds nothing
		}
		if len(buf) == cap(buf) {
			buf = growBody(buf, cl)
		}
		n, err := stream.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if max > 0 && int64(len(buf)) > max {
			ex.body = buf[:0]
			a.drain(c)
			return nil, bodyTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			// Anything but the stream's own end is the connection failing
			// under us; a timeout is the one a client can still read.
			ex.body = buf[:0]
			if isTimeout(err) {
				return nil, bodyStalled
			}
			return nil, bodyShort
		}
	}
	ex.body = buf
	if cl >= 0 && len(buf) < cl {
		return nil, bodyShort
	}
	return buf, bodyOK
}

// growBody returns buf with room for more of a body declared cl bytes
// long (negative: unknown): twice the room, but never past cl.
func growBody(buf []byte, cl int) []byte {
	n := max(2*cap(buf), 4096)
	if cl >= 0 {
		n = min(n, cl)
	}
	grown := make([]byte, len(buf), n)
	copy(grown, buf)
	return grown
}

// isTimeout reports a read that ended because the read timeout ran out
// (netpoll's ErrReadTimeout, or a net.Error from another transport).
func isTimeout(err error) bool {
	if errors.Is(err, netpoll.ErrReadTimeout) || errors.Is(err, errs.ErrTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// drain discards up to drainLimit more bytes of the body.
func (a *App) drain(c *app.RequestContext) {
	if s := c.Request.BodyStream(); s != nil {
		_, _ = io.CopyN(io.Discard, s, drainLimit)
	}
}
