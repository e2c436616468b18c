package core

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/spikard/spikard/core/problem"
)

// The file sender: how core answers with a file, for static mounts
// (static.go) and for hosts' file answers (ResponseFile). One sender, so
// both get the same validators, conditional requests and ranges:
//
//   - ETag "<size hex>-<mtime ns hex>" (strong: the same size and
//     modification time are taken as the same bytes) and Last-Modified.
//   - On a GET or HEAD answered 200: If-None-Match (weak comparison, "*")
//     and, without it, If-Modified-Since give 304 with the validators and
//     no body; Range "bytes=a-b", "a-" or "-n" gives 206 with
//     Content-Range, or 416 with "Content-Range: bytes */size" when no
//     byte of it is in the file; If-Range that does not match the ETag
//     or Last-Modified exactly gives the whole file. A Range of several
//     ranges, or one that is not bytes=, is ignored: the whole file, 200
//     (RFC 9110 lets a server ignore Range).
//   - Accept-Ranges: bytes; Content-Type by extension (mediaTypes,
//     application/octet-stream for an unknown one) unless given.
//   - Small files are read into the answer, larger ones streamed from the
//     open file by Hertz, which closes it.

// fileAnswer is what a file answer is to send beyond the file itself.
type fileAnswer struct {
	status       int      // 200 for static files; a host's status
	headers      []Header // a host's headers, sent as given (content-type replaces the guess)
	cacheControl string   // a static mount's Cache-Control, or ""
	encoding     string   // a precompressed sibling's Content-Encoding, or ""
	vary         bool     // Vary: Accept-Encoding (siblings exist)
	typeOf       string   // the name whose extension gives the Content-Type
	filename     string   // Content-Disposition: attachment with this name, or ""
}

// readWhole is the size up to which a file is read into the answer rather
// than streamed.
const readWhole = 64 << 10

// sendFile answers c with the open file f (which it owns from here on) as
// fa says. head sends the headers alone.
func sendFile(c *app.RequestContext, f *os.File, info os.FileInfo, fa *fileAnswer, head bool) {
	r := &c.Response
	h := &r.Header
	size := info.Size()
	mtime := info.ModTime()
	etag := fileETag(size, mtime)
	lastMod := mtime.UTC().Format(http.TimeFormat)

	typed := false
	for i := range fa.headers {
		hd := &fa.headers[i]
		if strings.EqualFold(bstr(hd.Name), "content-type") {
			typed = true
		}
		h.Add(bstr(hd.Name), bstr(hd.Value))
	}
	if !typed {
		h.SetContentType(contentTypeOf(fa.typeOf))
	}
	if fa.filename != "" {
		h.Set("Content-Disposition", contentDisposition(fa.filename))
	}
	h.Set("ETag", etag)
	h.Set("Last-Modified", lastMod)
	if fa.cacheControl != "" {
		h.Set("Cache-Control", fa.cacheControl)
	}
	if fa.vary {
		addVary(c)
	}
	if fa.encoding != "" {
		h.Set("Content-Encoding", fa.encoding)
	}

	status := fa.status
	var start, n int64 = 0, size
	if status == 200 {
		h.Set("Accept-Ranges", "bytes")
		req := &c.Request.Header
		if notModified(req.Peek("If-None-Match"), req.Peek("If-Modified-Since"), etag, mtime) {
			f.Close()
			r.SetStatusCode(304)
			h.Del("Content-Type")
			h.Del("Content-Encoding")
			r.SkipBody = true
			return
		}
		if rng := req.Peek("Range"); len(rng) > 0 && ifRange(req.Peek("If-Range"), etag, lastMod) {
			s, l, ok, multi := parseRange(rng, size)
			switch {
			case multi:
			case !ok:
				f.Close()
				h.Del("ETag")
				h.Del("Last-Modified")
				h.Del("Content-Encoding")
				p := problem.Problem{Type: problem.TypeBase + "range-not-satisfiable", Title: "Range Not Satisfiable",
					Status: 416, Detail: "Range " + string(rng) + " lies outside the file's " + strconv.FormatInt(size, 10) + " bytes"}
				h.Del("Content-Type")
				writeProblem(c, &p, nil)
				h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
				if head {
					r.SkipBody = true
				}
				return
			default:
				status, start, n = 206, s, l
				h.Set("Content-Range", "bytes "+strconv.FormatInt(s, 10)+"-"+strconv.FormatInt(s+l-1, 10)+"/"+strconv.FormatInt(size, 10))
			}
		}
	}
	r.SetStatusCode(status)
	if head {
		f.Close()
		h.SetContentLength(int(n))
		r.SkipBody = true
		return
	}
	if n <= readWhole {
		buf := make([]byte, n)
		_, err := f.ReadAt(buf, start)
		f.Close()
		if err != nil && err != io.EOF {
			fileFailed(c)
			return
		}
		r.SetBody(buf)
		return
	}
	r.SetBodyStream(&fileSection{SectionReader: io.NewSectionReader(f, start, n), f: f}, int(n))
}

// fileFailed answers the standard 500 in place of a file that could not be
// read.
func fileFailed(c *app.RequestContext) {
	c.Response.Header.Reset()
	p := problem.Internal()
	writeProblem(c, &p, nil)
}

// fileSection is a part of a file that closes the file when Hertz is done
// with it.
type fileSection struct {
	*io.SectionReader
	f *os.File
}

func (s *fileSection) Close() error { return s.f.Close() }

func fileETag(size int64, mtime time.Time) string {
	return `"` + strconv.FormatInt(size, 16) + "-" + strconv.FormatInt(mtime.UnixNano(), 16) + `"`
}

// contentTypeOf is the media type for name's extension, from core's own
// table (mediaTypes), so that a file is labelled the same on every machine
// (Go's mime package reads /etc/mime.types, which differs between them).
// No charset is claimed: core does not know a file's encoding.
func contentTypeOf(name string) string {
	if t, ok := mediaTypes[strings.ToLower(filepath.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

// mediaTypes are the types of the extensions a web server meets most.
var mediaTypes = map[string]string{
	".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
	".mjs": "text/javascript", ".json": "application/json", ".map": "application/json",
	".txt": "text/plain", ".csv": "text/csv", ".md": "text/markdown", ".xml": "application/xml",
	".yaml": "application/yaml", ".yml": "application/yaml", ".webmanifest": "application/manifest+json",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
	".bmp": "image/bmp", ".pdf": "application/pdf", ".wasm": "application/wasm", ".woff": "font/woff",
	".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf", ".mp4": "video/mp4",
	".webm": "video/webm", ".mp3": "audio/mpeg", ".wav": "audio/wav", ".ogg": "audio/ogg",
	".zip": "application/zip", ".gz": "application/gzip", ".tar": "application/x-tar",
}

// notModified applies If-None-Match, or without it If-Modified-Since.
func notModified(inm, ims []byte, etag string, mtime time.Time) bool {
	if len(inm) > 0 {
		return etagListMatch(inm, etag)
	}
	if len(ims) == 0 {
		return false
	}
	t, err := http.ParseTime(string(ims))
	return err == nil && !mtime.Truncate(time.Second).After(t)
}

// etagListMatch is the weak comparison of If-None-Match: "*" or any tag
// whose opaque part equals etag's.
func etagListMatch(list []byte, etag string) bool {
	for _, part := range bytes.Split(list, []byte(",")) {
		p := bytes.TrimSpace(part)
		if len(p) == 1 && p[0] == '*' {
			return true
		}
		p = bytes.TrimPrefix(p, []byte("W/"))
		if string(p) == etag {
			return true
		}
	}
	return false
}

// ifRange reports whether a Range applies: no If-Range, or one equal to
// the ETag (strong) or to the Last-Modified date.
func ifRange(v []byte, etag, lastMod string) bool {
	if len(v) == 0 {
		return true
	}
	s := string(bytes.TrimSpace(v))
	return s == etag || s == lastMod
}

// parseRange reads a single bytes range against size: its start and
// length, ok false when it is unsatisfiable, multi when the header is
// several ranges or not one this sender serves (the whole file goes out).
func parseRange(v []byte, size int64) (start, n int64, ok, multi bool) {
	s := strings.TrimSpace(string(v))
	spec, found := strings.CutPrefix(s, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, true
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" { // suffix: the last n bytes
		k, err := strconv.ParseInt(last, 10, 64)
		if err != nil || k < 0 {
			return 0, 0, false, true
		}
		if k == 0 || size == 0 {
			return 0, 0, false, false
		}
		k = min(k, size)
		return size - k, k, true, false
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return 0, 0, false, true
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return 0, 0, false, true
		}
		b = min(b, size-1)
	}
	if a >= size {
		return 0, 0, false, false
	}
	return a, b - a + 1, true, false
}

// contentDisposition is "attachment" with name (RFC 6266): filename= with
// an ASCII fallback (other characters, quotes and backslashes as "_") and,
// when the name is not plain ASCII, filename*=UTF-8” with the name
// percent-encoded (RFC 8187, which replaced RFC 5987).
func contentDisposition(name string) string {
	var ascii strings.Builder
	for _, r := range name {
		if r == '"' || r == '\\' || r < 0x20 || r >= 0x7f {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	out := `attachment; filename="` + ascii.String() + `"`
	if ascii.String() == name {
		return out
	}
	var enc strings.Builder
	for i := 0; i < len(name); i++ {
		b := name[i]
		if isAttrChar(b) {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return out + "; filename*=UTF-8''" + enc.String()
}

// isAttrChar is RFC 8187's attr-char: what filename*= carries unencoded.
func isAttrChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

// errFileAnswer is the refusal of a malformed file answer.
var errFileAnswer = fmt.Errorf("respond: a file answer's body is a path (relative: to the process's working directory), optionally NUL and a download name, and its headers leave content-length, content-range, content-encoding and transfer-encoding to core: %w", ErrInvalid)

// respondFile answers ex with the file its host named (ResponseFile): the
// body is the file's path, optionally followed by NUL and the name to
// offer for download. A file that cannot be opened (missing, a directory,
// unreadable) is the standard 500 and a log line naming it: the handler
// named a file the server does not have, which is the server's fault, as
// a handler raising would be.
func (a *App) respondFile(ex *exchange, resp *Response) error {
	path, name, _ := bytes.Cut(resp.Body, []byte{0})
	s := resp.Status
	if len(path) == 0 || bytes.IndexByte(name, 0) >= 0 || !utf8.Valid(name) || s < 200 || s > 599 || s == 204 || s == 304 ||
		!validHeaders(resp.Headers) || !fileHeaders(resp.Headers) {
		return errFileAnswer
	}
	p := string(path)
	f, err := os.Open(p)
	var info os.FileInfo
	if err == nil {
		info, err = f.Stat()
		if err == nil && !info.Mode().IsRegular() {
			err = fmt.Errorf("%s is not a regular file", p)
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		a.log.Printf("spikard: %s %s: file answer: %v", ex.rt.spec.Method, ex.rt.spec.Path, err)
		q := problem.Internal()
		ex.out = writeProblem(ex.c, &q, ex.out)
		return nil
	}
	sendFile(ex.c, f, info, &fileAnswer{status: s, headers: resp.Headers, typeOf: p, filename: string(name)}, ex.head)
	return nil
}

// fileHeaders refuses the headers core sets on a file answer.
func fileHeaders(hs []Header) bool {
	for i := range hs {
		switch strings.ToLower(bstr(hs[i].Name)) {
		case "content-length", "content-range", "content-encoding", "transfer-encoding":
			return false
		}
	}
	return true
}
