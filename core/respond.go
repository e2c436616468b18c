package core

import (
	"github.com/cloudwego/hertz/pkg/app"

	"github.com/spikard/spikard/core/problem"
)

// Respond answers exchange id. It returns ErrUnknownExchange if the exchange
// was already answered, timed out or its client went away. resp is copied
// as needed before Respond returns.
func (a *App) Respond(id uint64, resp Response) error {
	ex := a.ex.claim(id)
	if ex == nil {
		return ErrUnknownExchange
	}
	ex.rt.lane.unholdRequest(ex)
	writeResponse(ex, &resp)
	ex.done <- struct{}{}
	return nil
}

// RespondError answers exchange id with the standard 500 problem document
// (SPIKARD_RESPONSE_HANDLER_ERROR).
func (a *App) RespondError(id uint64) error {
	ex := a.ex.claim(id)
	if ex == nil {
		return ErrUnknownExchange
	}
	ex.rt.lane.unholdRequest(ex)
	p := problem.Internal()
	ex.out = writeProblem(ex.c, &p, ex.out)
	ex.done <- struct{}{}
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
