package main

import (
	"github.com/bytedance/sonic/encoder"
	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/json"
)

const contentTypeJSON = "application/json"

// encodeOptions: compact JSON, invalid UTF-8 replaced by U+FFFD (as
// encoding/json does). HTML characters are not escaped: nothing here is
// embedded in HTML, and the Python apps do not escape them either.
const encodeOptions = encoder.ValidateString | encoder.CompactMarshaler

// respond answers 200 with v encoded as JSON, written straight into the
// response's pooled body buffer so no per-request output buffer is made.
func respond(c *app.RequestContext, v any) {
	body := c.Response.BodyBuffer()
	body.B = body.B[:0]
	if err := encoder.EncodeInto(&body.B, v, encodeOptions); err != nil {
		body.B = body.B[:0]
		c.AbortWithStatus(500)
		return
	}
	c.SetStatusCode(200)
	c.SetContentType(contentTypeJSON)
}

// problem answers 422 with a short RFC 9457 body. It is never timed; it is
// there so that input which does not fit the model is refused, not echoed.
func problem(c *app.RequestContext, err error) {
	body, _ := json.Marshal(map[string]any{
		"type":   "about:blank",
		"title":  "Unprocessable Content",
		"status": 422,
		"detail": err.Error(),
	})
	c.Response.BodyBuffer().B = c.Response.BodyBuffer().B[:0]
	c.Data(422, "application/problem+json", body)
}
