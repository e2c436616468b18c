package core

import "github.com/spikard/spikard/core/request"

// Facts (ADR 0002 §4) are what a host would otherwise recompute from a
// request: its cookies, its query pairs and where its uploads sit in the
// body. Core computes each one a route asks for, by one set of rules, so
// every binding agrees:
//
//   - cookies: every Cookie header in arrival order, split at ';'; a piece
//     without '=' is skipped, otherwise it splits at its first '='; name
//     and value are trimmed of spaces and tabs; an empty name is skipped;
//     one pair of double quotes around the value is removed; repeats are
//     kept in order; nothing is decoded otherwise (request.AppendCookies).
//   - query: the raw query split at '&', empty pieces skipped, each piece
//     split at its first '=' (none: the value is empty), name and value
//     form-decoded ('+' is a space, %XX in either case a byte, a malformed
//     escape kept as written); blank values, order and repeats kept
//     (request.AppendQueryPairs).
//   - uploads: a JSON Pointer (RFC 6901, '~' and '/' escaped as "~0" and
//     "~1") for each body value that is an upload descriptor or an array
//     of them, in first-seen order; "/avatar", or "/a/b" for a bracketed
//     form name a[b]. Only multipart bodies with file parts have
//     descriptors (request.FormScratch.AppendUploads).
//
// A route that asks for a fact gets nil when the request has none.

// factScratch holds an exchange's parsed facts between requests, so that a
// steady load allocates nothing for them. The slices handed out in
// ex.req alias these buffers or Hertz's request, and stay valid until
// the request is answered, like the other Request fields.
type factScratch struct {
	pairs   []request.Pair // parsed, before they become Headers
	cookies []Header       // ex.req.Cookies; aliases Hertz's raw header block
	query   []Header       // ex.req.QueryPairs; aliases dec
	dec     []byte         // form-decoded query names and values
	uploads [][]byte       // ex.req.Uploads; aliases ptrs
	ptrs    []byte         // upload pointer bytes
}

// collectFacts fills the fact fields of ex.req the route asks for
// (cookies, query pairs, upload pointers). body is the event body; the
// upload pointers come from the form decoder's tree that wrote it, so it
// is not parsed again.
func (ex *exchange) collectFacts(rt *compiledRoute, body []byte) {
	f := &ex.facts
	if rt.wants(factCookies) {
		f.pairs = request.AppendCookies(f.pairs[:0], ex.c.Request.Header.RawHeaders())
		f.cookies = appendHeaders(f.cookies[:0], f.pairs)
		ex.req.Cookies = orNil(f.cookies)
	}
	if rt.wants(factQuery) {
		f.pairs, f.dec = request.AppendQueryPairs(f.pairs[:0], f.dec[:0], ex.c.Request.URI().QueryString())
		f.query = appendHeaders(f.query[:0], f.pairs)
		ex.req.QueryPairs = orNil(f.query)
	}
	if rt.wants(factClaims) && rt.guard != nil && ex.claims != nil {
		if !rt.wants(factMeta) && rt.spec.Handler == nil {
			ex.headers = ex.headers[:0]
		}
		ex.headers = append(ex.headers, Header{Name: []byte(claimsHeader), Value: ex.claims})
		ex.req.Headers = ex.headers
		ex.req.Claims = ex.claims
	}
	// Attachments are set only when this request's multipart body had
	// file parts, so only then does ex.form hold descriptors of it.
	if rt.wants(factUploads) && ex.req.Attachments != nil {
		f.uploads, f.ptrs = ex.form.AppendUploads(f.uploads[:0], f.ptrs[:0], rt.shape)
		ex.req.Uploads = orNil(f.uploads)
	}
}

// appendHeaders appends pairs to dst as Headers.
func appendHeaders(dst []Header, pairs []request.Pair) []Header {
	for _, p := range pairs {
		dst = append(dst, Header(p))
	}
	return dst
}

// orNil returns s, or nil when s is empty.
func orNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
