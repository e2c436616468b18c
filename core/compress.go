package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/cloudwego/hertz/pkg/app"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression of answers (config key "compression"; ADR 0005).
//
// Whole answers are compressed after the host's answer is in Hertz's
// response and before Hertz writes it; streams compress chunk by chunk as
// the host writes them (stream.go), each chunk flushed through the codec so
// its bytes reach the client before the next. gzip is klauspost/compress's
// (not hertz-contrib/gzip: that middleware compresses a finished body after
// the handler, and core's streams never pass through Hertz's body, see
// wire.go), brotli andybalholm/brotli's, zstd klauspost/compress's.
//
// An App without the key has a nil codecs: the request path then pays one
// nil check.

// CompressionConfig is the config's "compression" object.
type CompressionConfig struct {
	Gzip    bool // offer gzip; default true
	Brotli  bool // offer br; default true
	Zstd    bool // offer zstd; default false
	MinSize int  // bytes a whole body must have to be compressed; default 1024
	// Quality is 0..11, default 6; each codec takes it clamped to its own
	// range: gzip 0..9 (0 stores), brotli 0..11, zstd mapped onto its four
	// levels (0-2 fastest, 3-6 default, 7-9 better, 10-11 best).
	Quality int
}

// DefaultCompression is what "compression": {} means.
func DefaultCompression() CompressionConfig {
	return CompressionConfig{Gzip: true, Brotli: true, MinSize: 1024, Quality: 6}
}

// parseCompression reads the "compression" object.
func parseCompression(raw json.RawMessage) (*CompressionConfig, error) {
	cc := DefaultCompression()
	var m map[string]json.RawMessage
	if !decode(raw, &m) {
		return nil, errors.New(`must be an object: {"gzip": true, "brotli": true, "zstd": false, "min_size": 1024, "quality": 6}`)
	}
	for k, v := range m {
		var err error
		switch k {
		case "gzip":
			cc.Gzip, err = boolean(v)
		case "brotli":
			cc.Brotli, err = boolean(v)
		case "zstd":
			cc.Zstd, err = boolean(v)
		case "min_size":
			var n int64
			n, err = integer(v, 0, 1<<31-1)
			cc.MinSize = int(n)
		case "quality":
			var n int64
			n, err = integer(v, 0, 11)
			cc.Quality = int(n)
		default:
			return nil, fmt.Errorf(`unknown key %q (known: "gzip", "brotli", "zstd", "min_size", "quality")`, k)
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %v", k, err)
		}
	}
	return &cc, nil
}

// Codings core can apply, in the order it prefers among equal q-values.
const (
	codingNone uint8 = iota
	codingBrotli
	codingZstd
	codingGzip
)

var codingNames = [...]string{codingBrotli: "br", codingZstd: "zstd", codingGzip: "gzip"}

// encoder is what every codec's writer is.
type encoder interface {
	io.Writer
	Flush() error
	Close() error
	Reset(io.Writer)
}

// codecs is an app's compression: its config and a pool of encoders per
// coding.
type codecs struct {
	cfg   CompressionConfig
	pools [len(codingNames)]sync.Pool
	// wholeBrotli holds brotli's matchfinder encoders (NewWriterV2) for
	// whole answers at quality 9 and below: 2.3x faster than the classic
	// encoder at quality 6 for 2% more bytes (json-large: 0.70 ms and
	// 13,982 bytes against 1.63 ms and 13,698; gzip 6 is 0.34 ms and
	// 15,354). It cannot flush, so streams keep the classic encoder.
	wholeBrotli sync.Pool
	outs        sync.Pool // *bytes.Buffer for whole answers
}

// wholeEncoder is what compresses a whole answer: no Flush needed.
type wholeEncoder interface {
	io.Writer
	Close() error
	Reset(io.Writer)
}

func newCodecs(cc *CompressionConfig) *codecs {
	if cc == nil || !(cc.Gzip || cc.Brotli || cc.Zstd) {
		return nil
	}
	k := &codecs{cfg: *cc}
	q := cc.Quality
	k.pools[codingGzip].New = func() any {
		w, _ := gzip.NewWriterLevel(nil, min(q, gzip.BestCompression)) // in range: no error
		return encoder(w)
	}
	k.pools[codingBrotli].New = func() any { return encoder(brotli.NewWriterLevel(nil, min(q, brotli.BestCompression))) }
	if q <= 9 {
		k.wholeBrotli.New = func() any { return wholeEncoder(brotli.NewWriterV2(nil, q)) }
	}
	k.pools[codingZstd].New = func() any {
		level := zstd.SpeedDefault
		switch {
		case q <= 2:
			level = zstd.SpeedFastest
		case q >= 10:
			level = zstd.SpeedBestCompression
		case q >= 7:
			level = zstd.SpeedBetterCompression
		}
		// One goroutine per encoder and no 8 MiB window: answers are small
		// and many run at once.
		w, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
		return encoder(w)
	}
	k.outs.New = func() any { return new(bytes.Buffer) }
	return k
}

func (k *codecs) enabled(coding uint8) bool {
	switch coding {
	case codingGzip:
		return k.cfg.Gzip
	case codingBrotli:
		return k.cfg.Brotli
	case codingZstd:
		return k.cfg.Zstd
	}
	return false
}

func (k *codecs) get(coding uint8, w io.Writer) encoder {
	e := k.pools[coding].Get().(encoder)
	e.Reset(w)
	return e
}

func (k *codecs) put(coding uint8, e encoder) {
	e.Reset(nil)
	k.pools[coding].Put(e)
}

// negotiate picks the coding for an Accept-Encoding header (RFC 9110
// §12.5.3): each enabled coding takes its own q-value, or that of "*" when
// it is not named, and the highest q above 0 wins, ties going to br, zstd,
// then gzip. "x-gzip" counts as gzip. None (codingNone) when the header is
// absent or refuses every enabled coding; identity is then sent, even when
// the client refused it too ("identity;q=0"): a 406 would help nobody.
func (k *codecs) negotiate(accept []byte) uint8 {
	if len(accept) == 0 {
		return codingNone
	}
	q := acceptQ(accept)
	best, bestQ := codingNone, 0
	for c := codingBrotli; c <= codingGzip; c++ {
		if k.enabled(c) && q[c] > bestQ {
			best, bestQ = c, q[c]
		}
	}
	return best
}

// acceptQ is each coding's q-value in thousandths under an Accept-Encoding
// header: its own, else that of "*", else 0.
func acceptQ(accept []byte) [len(codingNames)]int {
	var q [len(codingNames)]int
	for i := range q {
		q[i] = -1 // not named
	}
	star := 0
	for len(accept) > 0 {
		var item []byte
		if i := bytes.IndexByte(accept, ','); i >= 0 {
			item, accept = accept[:i], accept[i+1:]
		} else {
			item, accept = accept, nil
		}
		name, params, _ := bytes.Cut(item, []byte(";"))
		name = bytes.TrimSpace(name)
		v := qValue(params)
		switch {
		case asciiEqualFold(name, "br"):
			q[codingBrotli] = v
		case asciiEqualFold(name, "zstd"):
			q[codingZstd] = v
		case asciiEqualFold(name, "gzip"), asciiEqualFold(name, "x-gzip"):
			q[codingGzip] = max(q[codingGzip], v)
		case len(name) == 1 && name[0] == '*':
			star = v
		}
	}
	for i := range q {
		if q[i] < 0 {
			q[i] = star
		}
	}
	return q
}

// qValue reads the q parameter of an Accept-Encoding element in
// thousandths; absent is 1000, a malformed one 0 (not acceptable).
func qValue(params []byte) int {
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		name, val, ok := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		if !ok || !asciiEqualFold(bytes.TrimSpace(name), "q") {
			continue
		}
		val = bytes.TrimSpace(val)
		if len(val) == 0 || len(val) > 5 || (val[0] != '0' && val[0] != '1') {
			return 0
		}
		n := int(val[0]-'0') * 1000
		if len(val) > 1 {
			if val[1] != '.' {
				return 0
			}
			scale := 100
			for _, d := range val[2:] {
				if d < '0' || d > '9' {
					return 0
				}
				n += int(d-'0') * scale
				scale /= 10
			}
		}
		if n > 1000 {
			return 0
		}
		return n
	}
	return 1000
}

func asciiEqualFold(b []byte, s string) bool { return strings.EqualFold(bstr(b), s) }

// compressible reports whether an answer of this status, with these
// headers, may be compressed at all: a status with a body, not a HEAD, no
// Content-Encoding yet, not SSE (its events must reach the client as they
// are written, and proxies buffer compressed streams), no
// "Cache-Control: no-transform", and not a type that is compressed
// already (images other than SVG, audio, video, archives).
func compressible(c *app.RequestContext, status int, head bool) bool {
	if head || status < 200 || status == 204 || status == 206 || status == 304 {
		return false
	}
	h := &c.Response.Header
	if len(h.Peek("Content-Encoding")) > 0 || len(h.Peek("Content-Range")) > 0 {
		return false
	}
	if cc := h.Peek("Cache-Control"); len(cc) > 0 && bytes.Contains(bytes.ToLower(cc), []byte("no-transform")) {
		return false
	}
	return compressibleType(h.ContentType())
}

// compressibleType says no for media types that gain nothing.
func compressibleType(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	t := strings.ToLower(strings.TrimSpace(bstr(ct)))
	switch {
	case t == "text/event-stream":
		return false
	case strings.HasPrefix(t, "image/"):
		return t == "image/svg+xml" || t == "image/bmp" || t == "image/x-icon" || t == "image/vnd.microsoft.icon"
	case strings.HasPrefix(t, "audio/"), strings.HasPrefix(t, "video/"):
		return false
	}
	switch t {
	case "application/zip", "application/gzip", "application/x-gzip", "application/zstd", "application/x-brotli",
		"application/x-7z-compressed", "application/x-rar-compressed", "application/x-bzip2", "application/x-xz",
		"font/woff", "font/woff2", "application/pdf":
		return false
	}
	return true
}

// addVary adds Accept-Encoding to the answer's Vary, unless it is there
// already or Vary is "*".
func addVary(c *app.RequestContext) {
	h := &c.Response.Header
	v := h.Peek("Vary")
	if len(v) == 0 {
		h.Set("Vary", "Accept-Encoding")
		return
	}
	for _, part := range bytes.Split(v, []byte(",")) {
		p := bytes.TrimSpace(part)
		if asciiEqualFold(p, "accept-encoding") || (len(p) == 1 && p[0] == '*') {
			return
		}
	}
	h.Set("Vary", bstr(v)+", Accept-Encoding")
}

// compressWhole compresses the whole answer Hertz is about to write, when
// it may be: see compressible; bodies under min_size and body streams (a
// file answer, which may be a Range) stay as they are. Every answer that
// could have been compressed says Vary: Accept-Encoding, compressed or not,
// so a cache keeps the variants apart.
func (k *codecs) compressWhole(c *app.RequestContext) {
	r := &c.Response
	if r.IsBodyStream() || r.GetHijackWriter() != nil {
		return
	}
	head := bytes.Equal(c.Request.Header.Method(), []byte("HEAD"))
	body := r.Body()
	if len(body) < k.cfg.MinSize || !compressible(c, r.StatusCode(), head) {
		return
	}
	addVary(c)
	coding := k.negotiate(c.Request.Header.Peek("Accept-Encoding"))
	if coding == codingNone {
		return
	}
	out := k.outs.Get().(*bytes.Buffer)
	out.Reset()
	var err error
	if coding == codingBrotli && k.wholeBrotli.New != nil {
		e := k.wholeBrotli.Get().(wholeEncoder)
		e.Reset(out)
		err = writeClose(e, body)
		e.Reset(nil)
		k.wholeBrotli.Put(e)
	} else {
		e := k.get(coding, out)
		err = writeClose(e, body)
		k.put(coding, e)
	}
	if err == nil {
		r.Header.Set("Content-Encoding", codingNames[coding])
		r.SetBody(out.Bytes()) // copied
		// The compressed bytes are another representation: a strong ETag
		// (a file's) may no longer claim them byte for byte.
		if et := r.Header.Peek("ETag"); len(et) > 0 && et[0] == '"' {
			r.Header.Set("ETag", "W/"+string(et))
		}
	}
	if out.Cap() <= 1<<20 {
		k.outs.Put(out)
	}
}

func writeClose(e wholeEncoder, body []byte) error {
	if _, err := e.Write(body); err != nil {
		return err
	}
	return e.Close()
}

// streamEncoder is a stream's codec: each chunk goes through it and is
// flushed, so the compressed bytes of a chunk leave with it.
type streamEncoder struct {
	k      *codecs
	coding uint8
	e      encoder
	out    bytes.Buffer
}

// openStreamEncoder picks the coding of a stream about to open, sets its
// headers, and returns its encoder, or nil. A stream with a content-length
// of its own, an SSE stream and a HEAD stay identity.
func (k *codecs) openStreamEncoder(c *app.RequestContext, status int, head, sse, limited bool) *streamEncoder {
	if sse || limited || !compressible(c, status, head) {
		return nil
	}
	addVary(c)
	coding := k.negotiate(c.Request.Header.Peek("Accept-Encoding"))
	if coding == codingNone {
		return nil
	}
	c.Response.Header.Set("Content-Encoding", codingNames[coding])
	se := &streamEncoder{k: k, coding: coding}
	se.e = k.get(coding, &se.out)
	return se
}

// chunk compresses data, flushed, or with end the rest of the stream, and
// returns the bytes to send, valid until the next call.
func (se *streamEncoder) chunk(data []byte, end bool) []byte {
	se.out.Reset()
	if len(data) > 0 {
		_, _ = se.e.Write(data) // writes to a bytes.Buffer do not fail
	}
	if end {
		_ = se.e.Close()
	} else if len(data) > 0 {
		_ = se.e.Flush()
	}
	return se.out.Bytes()
}

// release returns the encoder to its pool.
func (se *streamEncoder) release() {
	if se != nil && se.e != nil {
		se.k.put(se.coding, se.e)
		se.e = nil
	}
}
