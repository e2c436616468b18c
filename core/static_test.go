package core

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// staticTree makes public/ (the mount) beside secret.txt (outside it),
// with a symlink out of the mount and one inside it.
func staticTree(t *testing.T) (public string) {
	t.Helper()
	dir := t.TempDir()
	public = filepath.Join(dir, "public")
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("secret.txt", "TOP SECRET")
	write("public/hello.txt", "hello, static world\n")
	write("public/app.js", strings.Repeat("console.log('x');\n", 10))
	write("public/app.js.br", "BROTLI BYTES")
	write("public/app.js.gz", "GZIP BYTES")
	write("public/style.css", "body{}")
	write("public/style.css.gz", "GZ CSS")
	write("public/docs/index.html", "<h1>docs</h1>")
	write("public/sub dir/a b.txt", "spaced")
	write("public/big.bin", strings.Repeat("0123456789", 10000))
	if err := os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(public, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(public, "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(public, "hello.txt"), filepath.Join(public, "alias.txt")); err != nil {
		t.Fatal(err)
	}
	return public
}

func startStatic(t *testing.T, mod func(*Config)) string {
	t.Helper()
	public := staticTree(t)
	_, base := startApp(t, func(c *Config) {
		dirs, err := parseStaticFiles([]byte(`[{"directory": "` + public + `", "route_prefix": "/static/", "cache_control": "public, max-age=3600"},
			{"directory": "` + public + `", "route_prefix": "/noindex", "index_file": false}]`))
		if err != nil {
			t.Fatal(err)
		}
		c.StaticFiles = dirs
		if mod != nil {
			mod(c)
		}
	}, RouteSpec{Method: "GET", Path: "/static/route", Handler: func(*Request) Response {
		return Response{Status: 200, Body: []byte("a route")}
	}})
	return base
}

// rawTarget sends a request target exactly as written (no client-side
// cleaning) and returns the status line and body.
func rawTarget(t *testing.T, base, target string) (string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.Status, b.String()
}

// TestStaticTraversal: every form of leaving the mount is refused with
// the standard 404, and none reveals the file outside it.
func TestStaticTraversal(t *testing.T) {
	base := startStatic(t, nil)
	refused := []string{
		"/static/../secret.txt",
		"/static/./hello.txt",
		"/static/%2e%2e/secret.txt",
		"/static/%2E%2E/secret.txt",
		"/static/.%2e/secret.txt",
		"/static/%2e./secret.txt",
		"/static/..%2fsecret.txt",
		"/static/..%2Fsecret.txt",
		"/static/%2e%2e%2fsecret.txt",
		"/static/%252e%252e/secret.txt",     // double-encoded dots
		"/static/%252e%252e%252fsecret.txt", // and slash
		"/static/..%252fsecret.txt",
		"/static/%25%32%65%25%32%65/secret.txt", // %2e%2e spelt out
		"/static/..\\secret.txt",
		"/static/%5c..%5csecret.txt",
		"/static/..%5csecret.txt",
		"/static/..%255csecret.txt",
		"/static/hello.txt%00.png",
		"/static/hello.txt%2500.png",
		"/static/%zz",
		"/static/hello.txt%",
		"/static/leak.txt",      // a symlink out of the mount
		"/static/up/secret.txt", // a directory symlink out of it
		"/static/sub%20dir/../../secret.txt",
		"/static/docs/../../secret.txt",
	}
	for _, target := range refused {
		status, body := rawTarget(t, base, target)
		if strings.Contains(body, "TOP SECRET") || strings.Contains(body, "hello, static") {
			t.Errorf("%s: leaked %q", target, body)
		}
		if !strings.HasPrefix(status, "404") && !strings.HasPrefix(status, "400") {
			t.Errorf("%s: %s", target, status)
		}
		if strings.HasPrefix(status, "404") && !strings.Contains(body, `"status":404`) {
			t.Errorf("%s: not the standard 404 problem: %s", target, body)
		}
	}
	// What must still work beside them.
	for target, want := range map[string]string{
		"/static/hello.txt":           "hello, static world\n",
		"/static//hello.txt":          "hello, static world\n",
		"/static/alias.txt":           "hello, static world\n", // a symlink inside
		"/static/sub%20dir/a%20b.txt": "spaced",
		"/static/docs/":               "<h1>docs</h1>",
		"/static/docs":                "<h1>docs</h1>",
		"/static/route":               "a route", // routes come first
	} {
		if status, body := rawTarget(t, base, target); !strings.HasPrefix(status, "200") || body != want {
			t.Errorf("%s: %s %q", target, status, body)
		}
	}
}

// TestStaticFiles: types, validators and 304, Cache-Control, index files,
// 405, precompressed siblings, ranges and 416.
func TestStaticFiles(t *testing.T) {
	base := startStatic(t, nil)
	resp, body := rawGet(t, "GET", base+"/static/hello.txt")
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if resp.StatusCode != 200 || string(body) != "hello, static world\n" || resp.Header.Get("Content-Type") != "text/plain" ||
		resp.Header.Get("Cache-Control") != "public, max-age=3600" || etag == "" || lastMod == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	for _, h := range [][]string{
		{"If-None-Match", etag},
		{"If-None-Match", `"other", W/` + etag},
		{"If-None-Match", "*"},
		{"If-Modified-Since", lastMod},
		{"If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)},
	} {
		resp, body := rawGet(t, "GET", base+"/static/hello.txt", h...)
		if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag || resp.Header.Get("Cache-Control") == "" {
			t.Errorf("%v: %d %v", h, resp.StatusCode, resp.Header)
		}
	}
	for _, h := range [][]string{
		{"If-None-Match", `"other"`},
		{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"},
	} {
		if resp, _ := rawGet(t, "GET", base+"/static/hello.txt", h...); resp.StatusCode != 200 {
			t.Errorf("%v: %d", h, resp.StatusCode)
		}
	}
	if resp, _ := rawGet(t, "GET", base+"/static/app.js"); resp.Header.Get("Content-Type") != "text/javascript" {
		t.Errorf("app.js: %q", resp.Header.Get("Content-Type"))
	}
	if resp, body := rawGet(t, "HEAD", base+"/static/hello.txt"); resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != 20 {
		t.Errorf("HEAD: %d %d %q", resp.StatusCode, resp.ContentLength, body)
	}
	if resp, body := rawGet(t, "POST", base+"/static/hello.txt"); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(string(body), `"status":405`) {
		t.Errorf("POST: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := rawGet(t, "GET", base+"/static/missing.txt"); resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("missing: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := rawGet(t, "GET", base+"/noindex/docs/"); resp.StatusCode != 404 {
		t.Errorf("a directory without index_file: %d", resp.StatusCode)
	}
	if resp, body := rawGet(t, "GET", base+"/noindex/docs/index.html"); resp.StatusCode != 200 || string(body) != "<h1>docs</h1>" || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("index.html by name: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	// Precompressed siblings.
	for _, c := range []struct{ path, accept, coding, body string }{
		{"/static/app.js", "gzip, br", "br", "BROTLI BYTES"},
		{"/static/app.js", "gzip", "gzip", "GZIP BYTES"},
		{"/static/app.js", "br;q=0.5, gzip", "gzip", "GZIP BYTES"},
		{"/static/app.js", "", "", strings.Repeat("console.log('x');\n", 10)},
		{"/static/style.css", "br, gzip", "gzip", "GZ CSS"},
		{"/static/style.css", "br", "", "body{}"},
	} {
		resp, body := rawGet(t, "GET", base+c.path, "Accept-Encoding", c.accept)
		if resp.Header.Get("Content-Encoding") != c.coding || string(body) != c.body || resp.Header.Get("Vary") != "Accept-Encoding" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), strings.Split(contentTypeOf(c.path), ";")[0]) {
			t.Errorf("%s %q: %q %q %v", c.path, c.accept, resp.Header.Get("Content-Encoding"), body, resp.Header)
		}
	}
	if resp, _ := rawGet(t, "GET", base+"/static/hello.txt", "Accept-Encoding", "gzip"); resp.Header.Get("Vary") != "" {
		t.Errorf("no sibling, no compression: Vary %q", resp.Header.Get("Vary"))
	}

	// Ranges.
	whole := strings.Repeat("0123456789", 10000)
	for _, c := range []struct {
		rng, status, contentRange, body string
	}{
		{"bytes=0-4", "206", "bytes 0-4/100000", "01234"},
		{"bytes=99995-", "206", "bytes 99995-99999/100000", "56789"},
		{"bytes=-3", "206", "bytes 99997-99999/100000", "789"},
		{"bytes=10-99999999", "206", "bytes 10-99999/100000", whole[10:]},
		{"bytes=100000-", "416", "bytes */100000", ""},
		{"bytes=-0", "416", "bytes */100000", ""},
		{"bytes=5-1", "200", "", whole},     // malformed: ignored
		{"bytes=0-1,5-6", "200", "", whole}, // several: the whole file
		{"items=0-1", "200", "", whole},
	} {
		resp, body := rawGet(t, "GET", base+"/static/big.bin", "Range", c.rng)
		if got := resp.Status[:3]; got != c.status || resp.Header.Get("Content-Range") != c.contentRange {
			t.Errorf("%s: %s %q", c.rng, resp.Status, resp.Header.Get("Content-Range"))
			continue
		}
		if c.status == "416" {
			if !strings.Contains(string(body), `"status":416`) {
				t.Errorf("%s: %s", c.rng, body)
			}
			continue
		}
		if string(body) != c.body {
			t.Errorf("%s: %d bytes", c.rng, len(body))
		}
	}
	resp, _ = rawGet(t, "GET", base+"/static/big.bin")
	big := resp.Header.Get("ETag")
	if resp, body := rawGet(t, "GET", base+"/static/big.bin", "Range", "bytes=0-1", "If-Range", big); resp.StatusCode != 206 || string(body) != "01" {
		t.Errorf("If-Range matching: %d", resp.StatusCode)
	}
	if resp, _ := rawGet(t, "GET", base+"/static/big.bin", "Range", "bytes=0-1", "If-Range", `"stale"`); resp.StatusCode != 200 {
		t.Errorf("If-Range stale: %d", resp.StatusCode)
	}
}

// TestStaticCompressed: with compression on, a small text file is
// compressed on the fly and its ETag weakened; a Range is never compressed.
func TestStaticCompressed(t *testing.T) {
	base := startStatic(t, func(c *Config) { c.Compression = &CompressionConfig{Gzip: true, MinSize: 10, Quality: 6} })
	resp, body := rawGet(t, "GET", base+"/static/hello.txt", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || decodeBody(t, "gzip", body) != "hello, static world\n" || !strings.HasPrefix(resp.Header.Get("ETag"), `W/"`) {
		t.Fatalf("on the fly: %v", resp.Header)
	}
	resp, body = rawGet(t, "GET", base+"/static/hello.txt", "Accept-Encoding", "gzip", "Range", "bytes=0-4")
	if resp.StatusCode != 206 || resp.Header.Get("Content-Encoding") != "" || string(body) != "hello" {
		t.Fatalf("range: %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

func TestStaticConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	_ = os.WriteFile(file, nil, 0o644)
	for doc, want := range map[string]string{
		`[{"route_prefix": "/s"}]`:                                     `[0]: "directory" is required`,
		`[{"directory": "` + dir + `"}]`:                               `[0]: "route_prefix" is required`,
		`[{"directory": "` + dir + `", "route_prefix": "s"}]`:          `[0]: "route_prefix": "s" must be a path starting with "/" (no ?, #, %, backslash or //)`,
		`[{"directory": "` + dir + `", "route_prefix": "/s", "x": 1}]`: `[0]: unknown key "x" (known: "directory", "route_prefix", "index_file", "cache_control")`,
		`[{"directory": "` + dir + `", "route_prefix": "/s"}, {"directory": "` + dir + `", "route_prefix": "/s/"}]`: `[1]: "route_prefix": "/s" is mounted twice`,
		`{}`: `must be a list of {"directory": "./public", "route_prefix": "/static", "index_file": true, "cache_control": "public, max-age=3600"}`,
	} {
		if _, err := parseStaticFiles([]byte(doc)); err == nil || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", doc, err, want)
		}
	}
	if _, err := parseStaticFiles([]byte(`[{"directory": "` + file + `", "route_prefix": "/s"}]`)); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as directory: %v", err)
	}
	if _, err := parseStaticFiles([]byte(`[{"directory": "` + dir + `/nope", "route_prefix": "/s"}]`)); err == nil || !strings.Contains(err.Error(), `"directory"`) {
		t.Errorf("missing directory: %v", err)
	}
}
