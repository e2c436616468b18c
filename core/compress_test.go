package core

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/cloudwego/hertz/pkg/app"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// TestNegotiate: q-values, "*", identity, q=0 refusals and the tie order.
func TestNegotiate(t *testing.T) {
	all := &codecs{cfg: CompressionConfig{Gzip: true, Brotli: true, Zstd: true}}
	gzipOnly := &codecs{cfg: CompressionConfig{Gzip: true}}
	noZstd := &codecs{cfg: CompressionConfig{Gzip: true, Brotli: true}}
	cases := []struct {
		k      *codecs
		accept string
		want   uint8
	}{
		{all, "", codingNone},
		{all, "gzip", codingGzip},
		{all, "x-gzip", codingGzip},
		{all, "GZIP, deflate", codingGzip},
		{all, "gzip, br", codingBrotli},
		{all, "gzip, br, zstd", codingBrotli},
		{all, "gzip;q=1.0, br;q=0.5", codingGzip},
		{all, "br;q=0, gzip;q=0.1", codingGzip},
		{all, "br;q=0", codingNone},
		{all, "*", codingBrotli},
		{all, "*;q=0", codingNone},
		{all, "gzip;q=0, *", codingBrotli},
		{gzipOnly, "br, *;q=0", codingNone},
		{gzipOnly, "br, *;q=0.2", codingGzip},
		{all, "identity", codingNone},
		{all, "identity;q=0", codingNone},
		{all, "zstd, gzip;q=0.9", codingZstd},
		{noZstd, "zstd", codingNone},
		{all, "gzip;q=2", codingNone},   // malformed q: not acceptable
		{all, "gzip;q=abc", codingNone}, // likewise
		{all, "gzip; q=0.001", codingGzip},
		{all, "deflate, compress", codingNone},
	}
	for _, c := range cases {
		if got := c.k.negotiate([]byte(c.accept)); got != c.want {
			t.Errorf("%q (%+v): %d, want %d", c.accept, c.k.cfg, got, c.want)
		}
	}
}

func TestCompressionConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"compression": {}}`))
	if err != nil || cfg.Compression == nil || *cfg.Compression != DefaultCompression() {
		t.Fatalf("defaults: %+v %v", cfg.Compression, err)
	}
	for doc, want := range map[string]string{
		`{"compression": {"quality": 12}}`:     `config: "compression": "quality": must be an integer in 0..11`,
		`{"compression": {"min_size": -1}}`:    `config: "compression": "min_size": must be an integer in 0..2147483647`,
		`{"compression": {"gzip": "yes"}}`:     `config: "compression": "gzip": must be true or false`,
		`{"compression": {"deflate": true}}`:   `config: "compression": unknown key "deflate" (known: "gzip", "brotli", "zstd", "min_size", "quality")`,
		`{"compression": true}`:                `config: "compression": must be an object: {"gzip": true, "brotli": true, "zstd": false, "min_size": 1024, "quality": 6}`,
		`{"static_files": [{"directory": 1}]}`: `config: "static_files": [0]: "directory": must be a string`,
	} {
		if _, err := ParseConfig([]byte(doc)); err == nil || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", doc, err, want)
		}
	}
}

// decodeBody undoes coding.
func decodeBody(t *testing.T, coding string, b []byte) string {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return string(b)
	case "gzip":
		g, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = g
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		z, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		defer z.Close()
		r = z
	default:
		t.Fatalf("coding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s body does not decode: %v", coding, err)
	}
	return string(out)
}

// rawGet sends GET (or method) with headers and no transparent
// decompression.
func rawGet(t *testing.T, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var bigJSON = `{"items":[` + strings.Repeat(`{"name":"widget","price":12.5,"tags":["a","b"]},`, 100) + `{}]}`

// TestCompressWhole: what is compressed, with which coding, and what never
// is, over HTTP from a lane host.
func TestCompressWhole(t *testing.T) {
	ctype := func(v string) []Header { return []Header{{Name: []byte("content-type"), Value: []byte(v)}} }
	routes := map[string]Response{
		"/big":     {Status: 200, Headers: ctype("application/json"), Body: []byte(bigJSON)},
		"/small":   {Status: 200, Headers: ctype("application/json"), Body: []byte(`{"ok":true}`)},
		"/encoded": {Status: 200, Headers: append(ctype("application/json"), Header{Name: []byte("content-encoding"), Value: []byte("identity")}), Body: []byte(bigJSON)},
		"/png":     {Status: 200, Headers: ctype("image/png"), Body: []byte(bigJSON)},
		"/sse":     {Status: 200, Headers: ctype("text/event-stream"), Body: []byte(bigJSON)},
		"/vary":    {Status: 200, Headers: append(ctype("text/plain"), Header{Name: []byte("vary"), Value: []byte("Origin")}), Body: []byte(bigJSON)},
		"/none":    {Status: 204},
	}
	var specs []RouteSpec
	for p := range routes {
		specs = append(specs, RouteSpec{Method: "GET", Path: p})
	}
	a, base := startApp(t, func(c *Config) {
		c.Compression = &CompressionConfig{Gzip: true, Brotli: true, Zstd: true, MinSize: 512, Quality: 6}
	}, specs...)
	paths := make([]string, len(specs))
	for i, s := range specs {
		paths[i] = s.Path
	}
	go host(a, 0, func(r *Request) Response { return routes[paths[r.Route]] })

	cases := []struct {
		method, path, accept, coding, vary string
	}{
		{"GET", "/big", "gzip", "gzip", "Accept-Encoding"},
		{"GET", "/big", "br", "br", "Accept-Encoding"},
		{"GET", "/big", "zstd", "zstd", "Accept-Encoding"},
		{"GET", "/big", "gzip, deflate, br", "br", "Accept-Encoding"},
		{"GET", "/big", "br;q=0, gzip", "gzip", "Accept-Encoding"},
		{"GET", "/big", "", "", "Accept-Encoding"}, // not accepted: identity, still varies
		{"GET", "/big", "identity", "", "Accept-Encoding"},
		{"GET", "/small", "gzip", "", ""},           // under min_size
		{"GET", "/encoded", "gzip", "identity", ""}, // the host's own encoding stays
		{"GET", "/png", "gzip", "", ""},
		{"GET", "/sse", "gzip", "", ""},
		{"GET", "/vary", "gzip", "gzip", "Origin, Accept-Encoding"},
		{"HEAD", "/big", "gzip", "", ""},
		{"GET", "/none", "gzip", "", ""},
	}
	for _, c := range cases {
		resp, body := rawGet(t, c.method, base+c.path, "Accept-Encoding", c.accept)
		got := resp.Header.Get("Content-Encoding")
		if got != c.coding || resp.Header.Get("Vary") != c.vary {
			t.Errorf("%s %s %q: content-encoding %q vary %q, want %q %q", c.method, c.path, c.accept, got, resp.Header.Get("Vary"), c.coding, c.vary)
			continue
		}
		if c.method == "HEAD" || c.path == "/none" {
			if len(body) != 0 {
				t.Errorf("%s %s: a body %q", c.method, c.path, body)
			}
			continue
		}
		if c.coding == "identity" {
			c.coding = ""
		}
		if plain := decodeBody(t, c.coding, body); plain != string(routes[c.path].Body) {
			t.Errorf("%s %q: decoded body differs (%d bytes)", c.path, c.accept, len(plain))
		}
		if c.coding != "" && len(body) >= len(bigJSON)/4 {
			t.Errorf("%s %q: %d compressed bytes for %d", c.path, c.accept, len(body), len(bigJSON))
		}
	}
	// A problem document core writes itself is an answer like any other.
	resp, _ := rawGet(t, "GET", base+"/nowhere", "Accept-Encoding", "gzip")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("404: %d %q (its body is under min_size)", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
}

// TestCompressOff: without the key, nothing is compressed however the
// client asks.
func TestCompressOff(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/big"})
	go host(a, 0, func(r *Request) Response {
		return Response{Status: 200, Headers: []Header{{Name: []byte("content-type"), Value: []byte("application/json")}}, Body: []byte(bigJSON)}
	})
	resp, body := rawGet(t, "GET", base+"/big", "Accept-Encoding", "gzip, br")
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Vary") != "" || string(body) != bigJSON {
		t.Fatalf("off: %v %d bytes", resp.Header, len(body))
	}
}

// TestCompressQualityClamped: quality 11 is brotli's best and gzip's 9;
// both still decode.
func TestCompressQualityClamped(t *testing.T) {
	a, base := startApp(t, func(c *Config) {
		c.Compression = &CompressionConfig{Gzip: true, Brotli: true, Zstd: true, MinSize: 0, Quality: 11}
	}, RouteSpec{Method: "GET", Path: "/big"})
	go host(a, 0, func(r *Request) Response {
		return Response{Status: 200, Headers: []Header{{Name: []byte("content-type"), Value: []byte("text/plain")}}, Body: []byte(bigJSON)}
	})
	for _, coding := range []string{"gzip", "br", "zstd"} {
		resp, body := rawGet(t, "GET", base+"/big", "Accept-Encoding", coding)
		if resp.Header.Get("Content-Encoding") != coding || decodeBody(t, coding, body) != bigJSON {
			t.Errorf("%s at quality 11: %q", coding, resp.Header.Get("Content-Encoding"))
		}
	}
}

// TestCompressStream: a stream compresses as it goes. The client decodes
// the first chunk while the stream is still open (the host has not ended
// it), so the codec flushed it rather than holding it for the end; the
// whole body then decodes, and WRITTEN follows.
func TestCompressStream(t *testing.T) {
	for _, coding := range []string{"gzip", "br", "zstd"} {
		t.Run(coding, func(t *testing.T) {
			a, base, pl := startStreams(t, func(c *Config) {
				c.Compression = &CompressionConfig{Gzip: true, Brotli: true, Zstd: true, MinSize: 1 << 20, Quality: 5}
			})
			req, _ := http.NewRequest("GET", base+"/s", nil)
			req.Header.Set("Accept-Encoding", coding)
			tr := &http.Transport{DisableCompression: true}
			defer tr.CloseIdleConnections()
			got := make(chan *http.Response, 1)
			go func() {
				resp, err := (&http.Client{Transport: tr}).Do(req)
				if err != nil {
					t.Error(err)
					close(got)
					return
				}
				got <- resp
			}()
			first := strings.Repeat("row one,", 40)
			id := openStream(t, a, pl, Response{Headers: []Header{{Name: []byte("content-type"), Value: []byte("text/csv")}}, Body: []byte(first)})
			resp := <-got
			if resp == nil {
				return
			}
			defer resp.Body.Close()
			if resp.Header.Get("Content-Encoding") != coding || resp.Header.Get("Vary") != "Accept-Encoding" || resp.TransferEncoding[0] != "chunked" {
				t.Fatalf("head: %v %v", resp.Header, resp.TransferEncoding)
			}
			var dec io.Reader
			switch coding {
			case "gzip":
				g, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				dec = g
			case "br":
				dec = brotli.NewReader(resp.Body)
			case "zstd":
				z, err := zstd.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				defer z.Close()
				dec = z
			}
			buf := make([]byte, len(first))
			if _, err := io.ReadFull(dec, buf); err != nil || string(buf) != first {
				t.Fatalf("first chunk before the end: %q %v", buf, err)
			}
			second := strings.Repeat("row two,", 40)
			if err := a.StreamWrite([]Chunk{{Exchange: id, Data: []byte(second)}, {Exchange: id, Flags: ChunkEnd}}, nil, -1); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(dec)
			if err != nil || string(rest) != second {
				t.Fatalf("rest: %q %v", rest, err)
			}
			wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
		})
	}
}

// TestCompressStreamExempt: an SSE stream, a stream with its own
// content-length and a HEAD stay identity.
func TestCompressStreamExempt(t *testing.T) {
	a, base, pl := startStreams(t, func(c *Config) { c.Compression = &CompressionConfig{Gzip: true, MinSize: 0} })
	c := dialRaw(t, base, 0)
	c.send("GET /s HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
	id := openStream(t, a, pl, Response{Headers: []Header{{Name: []byte("content-length"), Value: []byte("5")}}, Body: []byte("hello")})
	if status, h := c.head(); status != "HTTP/1.1 200 OK" || h["content-encoding"] != "" || h["content-length"] != "5" {
		t.Fatalf("content-length stream: %q %v", status, h)
	}
	if got := c.readN(5); got != "hello" {
		t.Fatalf("body %q", got)
	}
	_ = a.StreamWrite([]Chunk{{Exchange: id, Flags: ChunkEnd}}, nil, -1)
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)

	c.send("GET /s HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
	id = openStream(t, a, pl, Response{Flags: ResponseStream | ResponseSSE})
	if status, h := c.head(); status != "HTTP/1.1 200 OK" || h["content-encoding"] != "" || h["content-type"] != "text/event-stream" {
		t.Fatalf("SSE: %q %v", status, h)
	}
	_ = a.StreamWrite([]Chunk{{Exchange: id, Data: []byte("x"), Flags: ChunkEnd}}, nil, -1)
	wantEvent(t, nextEvent(t, pl), EventWritten, 0, id)
}

// TestWholeBrotliEveryQuality: whole answers at every quality decode, the
// matchfinder encoder (0..9) and the classic one (10, 11) alike, and the
// body gets smaller.
func TestWholeBrotliEveryQuality(t *testing.T) {
	for q := 0; q <= 11; q++ {
		k := newCodecs(&CompressionConfig{Brotli: true, Quality: q})
		if (k.wholeBrotli.New != nil) != (q <= 9) {
			t.Fatalf("quality %d: matchfinder encoder %v", q, k.wholeBrotli.New != nil)
		}
		for range 2 { // the second from the pool, reset
			var c app.RequestContext
			c.Request.Header.Set("Accept-Encoding", "br")
			c.Response.Header.SetContentType("application/json")
			c.Response.SetBody([]byte(bigJSON))
			k.compressWhole(&c)
			body := c.Response.Body()
			if got := string(c.Response.Header.Peek("Content-Encoding")); got != "br" || len(body) >= len(bigJSON)/4 {
				t.Fatalf("quality %d: %q, %d bytes", q, got, len(body))
			}
			if decodeBody(t, "br", body) != bigJSON {
				t.Fatalf("quality %d: does not decode to the body", q)
			}
		}
	}
}
