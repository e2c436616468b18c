package core

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/spikard/spikard/core/problem"
)

// claim takes the waiting exchange id for answering (nil if it is not
// waiting) and gives its place on a serial lane to the next request.
func (a *App) claim(id uint64) *exchange {
	ex := a.ex.claim(id)
	if ex != nil {
		ex.rt.lane.unholdRequest(ex)
	}
	return ex
}

// Respond answers exchange id. It returns ErrUnknownExchange if the exchange
// was already answered, timed out or its client went away. resp is copied
// as needed before Respond returns.
func (a *App) Respond(id uint64, resp Response) error {
	ex := a.claim(id)
	if ex == nil {
		return ErrUnknownExchange
	}
	writeResponse(ex, &resp)
	ex.done <- struct{}{}
	return nil
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

// writeResponse copies resp into the Hertz response of ex. A status
// outside 100..599 or a malformed header becomes the standard 500.
func writeResponse(ex *exchange, resp *Response) {
	c := ex.c
	if resp.Status < 100 || resp.Status > 599 || !validHeaders(resp.Headers) {
		p := problem.Internal()
		ex.out = writeProblem(c, &p, ex.out)
		return
	}
	c.Response.SetStatusCode(resp.Status)
	for i := range resp.Headers {
		h := &resp.Headers[i]
		c.Response.Header.Add(bstr(h.Name), bstr(h.Value))
	}
	c.Response.SetBody(resp.Body)
	if ex.head {
		c.Response.SkipBody = true
	}
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
