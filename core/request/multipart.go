package request

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/spikard/spikard/core/problem"
)

// Part is one part of a multipart/form-data body. Its byte slices alias
// the body (zero-copy), except Name and Filename when their header
// parameter needed unescaping.
type Part struct {
	Name        []byte
	Filename    []byte // the filename parameter; meaningful when IsFile
	IsFile      bool   // the part carried a filename parameter
	ContentType []byte // as sent, or the default (see DefaultContentType)
	Header      []byte // the raw header block, without the blank line
	Data        []byte // the content
	Offset      int    // Data's offset in the body
	named       bool   // the disposition had a name parameter
}

// ErrMalformedMultipart is returned for a body that does not follow the
// multipart syntax of RFC 7578 / RFC 2046 with the declared boundary.
var ErrMalformedMultipart = errors.New("malformed multipart body")

// ErrNoBoundary is returned when the Content-Type lacks a boundary.
var ErrNoBoundary = errors.New("multipart/form-data requires 'boundary' parameter")

// maxBoundary is RFC 2046's limit on boundary length.
const maxBoundary = 70

// Boundary extracts the boundary parameter of a multipart Content-Type
// value (quoted or not). It returns ErrNoBoundary when absent or invalid.
func Boundary(ct []byte) ([]byte, error) {
	_, params, _ := bytes.Cut(ct, []byte(";"))
	for len(params) > 0 {
		var kv []byte
		kv, params, _ = bytes.Cut(params, []byte(";"))
		k, v, _ := bytes.Cut(kv, []byte("="))
		if !bytes.EqualFold(bytes.TrimSpace(k), []byte("boundary")) {
			continue
		}
		v = bytes.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if len(v) == 0 || len(v) > maxBoundary {
			return nil, ErrNoBoundary
		}
		return v, nil
	}
	return nil, ErrNoBoundary
}

// ParseMultipart splits body into parts, appending them to parts (which
// the caller reuses). A preamble before the first delimiter and an
// epilogue after the last are ignored. An empty body is a form without
// parts. Any other body that does not reach the closing delimiter is
// malformed.
func ParseMultipart(body, boundary []byte, parts []Part) ([]Part, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return parts, nil
	}
	if len(boundary) == 0 {
		return parts, ErrNoBoundary
	}
	// Find the first delimiter: "--boundary" at the start of the body or
	// after a CRLF (the preamble).
	pos := 0
	for {
		i := bytes.Index(body[pos:], boundary)
		if i < 0 {
			return parts, ErrMalformedMultipart
		}
		at := pos + i
		if at >= 2 && body[at-1] == '-' && body[at-2] == '-' && (at == 2 || body[at-3] == '\n') {
			pos = at + len(boundary)
			break
		}
		pos = at + len(boundary)
	}
	for {
		// After a delimiter: "--" ends the body; otherwise optional
		// whitespace then CRLF starts a part.
		if bytes.HasPrefix(body[pos:], []byte("--")) {
			return parts, nil
		}
		for pos < len(body) && (body[pos] == ' ' || body[pos] == '\t') {
			pos++
		}
		switch {
		case bytes.HasPrefix(body[pos:], []byte("\r\n")):
			pos += 2
		case bytes.HasPrefix(body[pos:], []byte("\n")):
			pos++
		default:
			return parts, ErrMalformedMultipart
		}
		// Headers end at the first blank line; a part may have none.
		var header []byte
		if bytes.HasPrefix(body[pos:], []byte("\r\n")) {
			pos += 2
		} else if bytes.HasPrefix(body[pos:], []byte("\n")) {
			pos++
		} else {
			end, skip := blankLine(body[pos:])
			if end < 0 {
				return parts, ErrMalformedMultipart
			}
			header = body[pos : pos+end]
			pos += end + skip
		}
		// The content runs up to CRLF "--" boundary.
		end := delimiterAt(body[pos:], boundary)
		if end < 0 {
			return parts, ErrMalformedMultipart
		}
		data := body[pos : pos+end]
		next := pos + end + 2 + len(boundary) // past "--boundary"
		if body[pos+end] == '\r' {
			next += 2
		} else {
			next++
		}
		p, err := newPart(header, data, pos)
		if err != nil {
			return parts, err
		}
		parts = append(parts, p)
		pos = next
	}
}

// blankLine finds the end of a header block: the index of the line break
// that precedes the blank line, and how many bytes to skip over both.
func blankLine(b []byte) (int, int) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		rest := b[i+1:]
		start := i
		if start > 0 && b[start-1] == '\r' {
			start--
		}
		switch {
		case bytes.HasPrefix(rest, []byte("\r\n")):
			return start, i - start + 3
		case bytes.HasPrefix(rest, []byte("\n")):
			return start, i - start + 2
		}
	}
	return -1, 0
}

// delimiterAt returns the offset of the line break before the next
// "--boundary" in b, or -1.
func delimiterAt(b, boundary []byte) int {
	off := 0
	for {
		i := bytes.Index(b[off:], boundary)
		if i < 0 {
			return -1
		}
		at := off + i
		if at >= 3 && b[at-1] == '-' && b[at-2] == '-' && b[at-3] == '\n' {
			if at >= 4 && b[at-4] == '\r' {
				return at - 4
			}
			return at - 3
		}
		off = at + 1
	}
}

// newPart reads a part's headers: Content-Disposition gives the name and
// filename, Content-Type the media type.
func newPart(header, data []byte, offset int) (Part, error) {
	p := Part{Header: header, Data: data, Offset: offset}
	sawDisposition := false
	for line := range headerLines(header) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return p, ErrMalformedMultipart
		}
		name = bytes.TrimSpace(name)
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("content-disposition")):
			sawDisposition = true
			if err := p.disposition(value); err != nil {
				return p, err
			}
		case bytes.EqualFold(name, []byte("content-type")):
			p.ContentType = value
		}
	}
	if !sawDisposition || !p.named {
		return p, ErrMalformedMultipart
	}
	if len(p.ContentType) == 0 {
		p.ContentType = DefaultContentType(p.IsFile)
	}
	return p, nil
}

// DefaultContentType is a part's media type when it declares none:
// text/plain for fields (RFC 7578 §4.4), application/octet-stream for
// files.
// The returned slice is shared: callers must not modify it.
func DefaultContentType(file bool) []byte {
	if file {
		return octetStream[:len(octetStream):len(octetStream)]
	}
	return textPlain[:len(textPlain):len(textPlain)]
}

// Shared read-only defaults (never written; full slice expressions keep
// appends from reaching them).
var (
	octetStream = []byte("application/octet-stream")
	textPlain   = []byte("text/plain")
)

// headerLines yields the lines of a header block (CRLF or LF), joining
// obsolete folded continuation lines is not supported: RFC 7578 forbids
// folding in multipart/form-data.
func headerLines(h []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(h) > 0 {
			line, rest, _ := bytes.Cut(h, []byte("\n"))
			h = rest
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) == 0 {
				continue
			}
			if !yield(line) {
				return
			}
		}
	}
}

// disposition parses `form-data; name="x"; filename="y"` (filename*
// with RFC 5987 encoding wins over filename).
func (p *Part) disposition(v []byte) error {
	typ, params, _ := bytes.Cut(v, []byte(";"))
	if !bytes.EqualFold(bytes.TrimSpace(typ), []byte("form-data")) {
		return ErrMalformedMultipart
	}
	extended := false
	for len(params) > 0 {
		params = bytes.TrimLeft(params, " \t")
		eq := bytes.IndexByte(params, '=')
		if eq < 0 {
			break
		}
		key := bytes.TrimSpace(params[:eq])
		params = bytes.TrimLeft(params[eq+1:], " \t")
		var val []byte
		if len(params) > 0 && params[0] == '"' {
			var ok bool
			val, params, ok = quoted(params)
			if !ok {
				return ErrMalformedMultipart
			}
		} else {
			val, params, _ = bytes.Cut(params, []byte(";"))
			val = bytes.TrimSpace(val)
		}
		if i := bytes.IndexByte(params, ';'); i >= 0 {
			params = params[i+1:]
		} else {
			params = nil
		}
		switch {
		case bytes.EqualFold(key, []byte("name")):
			p.Name, p.named = val, true
		case bytes.EqualFold(key, []byte("filename")):
			p.IsFile = true
			if !extended {
				p.Filename = val
			}
		case bytes.EqualFold(key, []byte("filename*")):
			if f, ok := decodeExtValue(val); ok {
				p.IsFile, p.Filename, extended = true, f, true
			}
		}
	}
	return nil
}

// quoted reads a quoted-string at the start of b. Backslash escapes are
// undone, which copies; without them the value aliases b.
func quoted(b []byte) (val, rest []byte, ok bool) {
	esc := false
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			esc = true
			i++
		case '"':
			val = b[1:i]
			if esc {
				val = unescapeQuoted(val)
			}
			return val, b[i+1:], true
		}
	}
	return nil, nil, false
}

func unescapeQuoted(v []byte) []byte {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		out = append(out, v[i])
	}
	return out
}

// decodeExtValue decodes RFC 5987's charset'lang'pct-encoded form; only
// UTF-8 (and US-ASCII) are accepted.
func decodeExtValue(v []byte) ([]byte, bool) {
	cs, rest, ok := bytes.Cut(v, []byte("'"))
	if !ok {
		return nil, false
	}
	_, enc, ok := bytes.Cut(rest, []byte("'"))
	if !ok || !(bytes.EqualFold(cs, []byte("utf-8")) || bytes.EqualFold(cs, []byte("us-ascii"))) {
		return nil, false
	}
	out := make([]byte, 0, len(enc))
	for i := 0; i < len(enc); i++ {
		if enc[i] == '%' && i+2 < len(enc) && ishex(enc[i+1]) && ishex(enc[i+2]) {
			out = append(out, unhex(enc[i+1])<<4|unhex(enc[i+2]))
			i += 2
			continue
		}
		out = append(out, enc[i])
	}
	return out, true
}

// appendDescriptor writes the file descriptor hosts receive in place of
// a file's bytes: {"filename", "content_type", "size", "headers",
// "offset", "length"}, where offset/length locate the content in the
// event's attachments (the raw body).
func (p *Part) appendDescriptor(dst []byte) []byte {
	dst = append(dst, `{"filename":`...)
	if p.IsFile {
		dst = problem.AppendString(dst, bstr(p.Filename))
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"content_type":`...)
	dst = problem.AppendString(dst, bstr(p.ContentType))
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, int64(len(p.Data)), 10)
	dst = append(dst, `,"headers":{`...)
	first := true
	for line := range headerLines(p.Header) {
		name, value, _ := bytes.Cut(line, []byte(":"))
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendLowerString(dst, bytes.TrimSpace(name))
		dst = append(dst, ':')
		dst = problem.AppendString(dst, bstr(bytes.TrimSpace(value)))
	}
	dst = append(dst, `},"offset":`...)
	dst = strconv.AppendInt(dst, int64(p.Offset), 10)
	dst = append(dst, `,"length":`...)
	dst = strconv.AppendInt(dst, int64(len(p.Data)), 10)
	return append(dst, '}')
}

// appendLowerString appends name lower-cased as a JSON string.
func appendLowerString(dst, name []byte) []byte {
	start := len(dst)
	dst = problem.AppendString(dst, bstr(name))
	lowerASCII(dst[start:])
	return dst
}

func lowerASCII(b []byte) {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// DecodeMultipart parses a multipart/form-data body into a JSON object
// shaped by s: text fields are coerced like form values, files become
// descriptors. It returns the event body, the document to validate (the
// same bytes unless files sit at file-typed positions, which validate as
// strings), whether any file was present, and the coercion errors. Errors
// are ErrMalformedMultipart or ErrNoBoundary (answer 400).
func (s *Shape) DecodeMultipart(body, boundary []byte, sc *FormScratch) (event, validate []byte, files bool, coerc []problem.Entry, err error) {
	sc.reset()
	if sc.parts, err = ParseMultipart(body, boundary, sc.parts); err != nil {
		return nil, nil, false, nil, err
	}
	for i := range sc.parts {
		p := &sc.parts[i]
		koff := len(sc.dec)
		sc.dec = append(sc.dec, p.Name...)
		key := span{int32(koff), int32(len(p.Name))}
		if p.IsFile {
			files = true
			sc.insert(key, span{}, int32(i+1))
			continue
		}
		voff := len(sc.dec)
		sc.dec = append(sc.dec, p.Data...)
		sc.insert(key, span{int32(voff), int32(len(p.Data))}, 0)
	}
	event, coerc = s.finish(sc)
	if !files {
		return event, event, false, coerc, nil
	}
	sc.valid = true
	sc.vdoc = sc.emit(sc.vdoc, 0, s, true)
	sc.valid = false
	return event, sc.vdoc, true, coerc, nil
}

// MediaKind classifies a request body by its Content-Type value.
type MediaKind uint8

// Body media kinds.
const (
	MediaJSON      MediaKind = iota // application/json, */*+json, or no Content-Type
	MediaForm                       // application/x-www-form-urlencoded
	MediaMultipart                  // multipart/form-data
	MediaOther
)

// KindOf classifies ct. A missing Content-Type counts as JSON, the lenient
// reading clients that omit it expect.
func KindOf(ct []byte) MediaKind {
	mt, _, _ := bytes.Cut(ct, []byte(";"))
	mt = bytes.TrimSpace(mt)
	switch {
	case len(mt) == 0:
		return MediaJSON
	case bytes.EqualFold(mt, []byte("application/x-www-form-urlencoded")):
		return MediaForm
	case bytes.EqualFold(mt, []byte("multipart/form-data")):
		return MediaMultipart
	case isJSONMediaType(mt):
		return MediaJSON
	}
	return MediaOther
}

// Parts returns the parts of the last DecodeMultipart, valid until the
// scratch is reused.
func (sc *FormScratch) Parts() []Part { return sc.parts }
