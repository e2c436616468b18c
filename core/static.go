package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/spikard/spikard/core/problem"
)

// Static files (config key "static_files"): directories served under URL
// prefixes by the file sender (files.go).
//
// Routes come first: a mount is consulted only for a request no route's
// path matches, so a mount costs the request path nothing and a route
// under a mount's prefix is never shadowed. Under a prefix, GET and HEAD
// are served and every other method is a 405 (Allow: GET, HEAD); a name
// that is not there, or is refused, is the standard 404 (a refusal says
// nothing more, so probing learns nothing).
//
// Refused, before the file system is asked: a backslash or NUL in the
// path, raw or percent-encoded; a malformed percent escape; a "." or ".."
// segment, raw or encoded (%2e%2e, .%2E); an encoded slash (%2f); and
// every double-encoded form of those (%252e, %255c, %2500), i.e. a
// decoded path that still holds an escape of ".", "/", "\" or NUL. A name
// whose real path (symlinks resolved) leaves the mount's real directory is
// refused too. A directory is served as its index.html when the mount has
// index_file, else 404. Beside a file, name.br and name.gz (regular files)
// are sent instead, with Content-Encoding, when the client accepts that
// coding (br first on a tie); when either exists the answer says Vary:
// Accept-Encoding.

// StaticDir is one entry of the config's "static_files" list.
type StaticDir struct {
	Directory    string // as configured; must name a directory when the config is read
	RoutePrefix  string // "/static": no trailing slash, except "/" itself
	IndexFile    bool   // serve index.html for a directory; default true
	CacheControl string // Cache-Control of every file served, or "" for none

	root string // Directory's real path (absolute, symlinks resolved)
}

// parseStaticFiles reads the "static_files" list.
func parseStaticFiles(raw json.RawMessage) ([]StaticDir, error) {
	var items []json.RawMessage
	if !decode(raw, &items) {
		return nil, errors.New(`must be a list of {"directory": "./public", "route_prefix": "/static", "index_file": true, "cache_control": "public, max-age=3600"}`)
	}
	out := make([]StaticDir, 0, len(items))
	for i, item := range items {
		d, err := parseStaticDir(item)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %v", i, err)
		}
		for _, o := range out {
			if o.RoutePrefix == d.RoutePrefix {
				return nil, fmt.Errorf("[%d]: \"route_prefix\": %q is mounted twice", i, d.RoutePrefix)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func parseStaticDir(raw json.RawMessage) (StaticDir, error) {
	d := StaticDir{IndexFile: true}
	var m map[string]json.RawMessage
	if !decode(raw, &m) {
		return d, errors.New("must be an object")
	}
	for k, v := range m {
		var err error
		switch k {
		case "directory":
			d.Directory, err = text(v)
		case "route_prefix":
			d.RoutePrefix, err = text(v)
		case "index_file":
			d.IndexFile, err = boolean(v)
		case "cache_control":
			d.CacheControl, err = text(v)
			if err == nil && strings.ContainsAny(d.CacheControl, "\r\n\x00") {
				err = errors.New("must be one header value (no CR, LF or NUL)")
			}
		default:
			return d, fmt.Errorf(`unknown key %q (known: "directory", "route_prefix", "index_file", "cache_control")`, k)
		}
		if err != nil {
			return d, fmt.Errorf("%q: %v", k, err)
		}
	}
	if d.Directory == "" {
		return d, errors.New(`"directory" is required`)
	}
	if d.RoutePrefix == "" {
		return d, errors.New(`"route_prefix" is required`)
	}
	p := d.RoutePrefix
	if p[0] != '/' || strings.ContainsAny(p, "?#%\\\x00") || strings.Contains(p, "//") {
		return d, fmt.Errorf(`"route_prefix": %q must be a path starting with "/" (no ?, #, %%, backslash or //)`, p)
	}
	if len(p) > 1 {
		d.RoutePrefix = strings.TrimSuffix(p, "/")
	}
	root, err := filepath.Abs(d.Directory)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err == nil {
		var info os.FileInfo
		if info, err = os.Stat(root); err == nil && !info.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		return d, fmt.Errorf(`"directory": %q is not a directory that can be served: %v`, d.Directory, err)
	}
	d.root = root
	return d, nil
}

// serveStatic answers c from the mount whose prefix holds its path and
// reports true, or reports false when no mount does.
func (a *App) serveStatic(c *app.RequestContext) bool {
	raw := c.Request.URI().PathOriginal()
	for i := range a.cfg.StaticFiles {
		d := &a.cfg.StaticFiles[i]
		rel, ok := underPrefix(raw, d.RoutePrefix)
		if !ok {
			continue
		}
		m := c.Request.Header.Method()
		head := bytes.Equal(m, []byte("HEAD"))
		if !head && !bytes.Equal(m, []byte("GET")) {
			p := problem.MethodNotAllowed(string(m))
			writeProblem(c, &p, nil)
			c.Response.Header.Set("Allow", "GET, HEAD")
			return true
		}
		if !d.serve(c, rel, head) {
			p := problem.NotFound()
			writeProblem(c, &p, nil)
		}
		return true
	}
	return false
}

// underPrefix returns the rest of path under prefix ("" or "/..."), and
// whether path is under it at all.
func underPrefix(path []byte, prefix string) ([]byte, bool) {
	if prefix == "/" {
		return path, true
	}
	if !bytes.HasPrefix(path, []byte(prefix)) {
		return nil, false
	}
	rest := path[len(prefix):]
	if len(rest) > 0 && rest[0] != '/' {
		return nil, false // /staticx is not under /static
	}
	return rest, true
}

// serve sends the file rel names, or reports false (404).
func (d *StaticDir) serve(c *app.RequestContext, rel []byte, head bool) bool {
	name, ok := safeRelPath(rel)
	if !ok {
		return false
	}
	full, info, ok := d.resolve(name)
	if !ok {
		return false
	}
	if info.IsDir() {
		if !d.IndexFile {
			return false
		}
		if full, info, ok = d.resolve(filepath.Join(name, "index.html")); !ok || info.IsDir() {
			return false
		}
	}
	fa := fileAnswer{status: 200, cacheControl: d.CacheControl, typeOf: full}
	send := full
	br, brInfo, hasBr := d.sibling(full + ".br")
	gz, gzInfo, hasGz := d.sibling(full + ".gz")
	if hasBr || hasGz {
		fa.vary = true
		q := acceptQ(c.Request.Header.Peek("Accept-Encoding"))
		switch {
		case hasBr && q[codingBrotli] > 0 && (!hasGz || q[codingBrotli] >= q[codingGzip]):
			send, info, fa.encoding = br, brInfo, "br"
		case hasGz && q[codingGzip] > 0:
			send, info, fa.encoding = gz, gzInfo, "gzip"
		}
	}
	f, err := os.Open(send)
	if err != nil {
		return false
	}
	sendFile(c, f, info, &fa, head)
	return true
}

// resolve is the real path and info of name under the mount, if it exists
// and stays inside the mount's real directory.
func (d *StaticDir) resolve(name string) (string, os.FileInfo, bool) {
	real, err := filepath.EvalSymlinks(filepath.Join(d.root, name))
	if err != nil || (real != d.root && !strings.HasPrefix(real, d.root+string(filepath.Separator))) {
		return "", nil, false
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", nil, false
	}
	return real, info, true
}

// sibling is a precompressed sibling that is a regular file inside the
// mount.
func (d *StaticDir) sibling(full string) (string, os.FileInfo, bool) {
	rel, err := filepath.Rel(d.root, full)
	if err != nil {
		return "", nil, false
	}
	real, info, ok := d.resolve(rel)
	if !ok || !info.Mode().IsRegular() {
		return "", nil, false
	}
	return real, info, true
}

// safeRelPath decodes a request path under a mount ("/css/site.css") into
// a relative file name, or refuses it (see the comment at the top).
func safeRelPath(raw []byte) (string, bool) {
	if bytes.IndexByte(raw, '\\') >= 0 || bytes.IndexByte(raw, 0) >= 0 {
		return "", false
	}
	dec, ok := percentDecode(raw)
	if !ok || strings.ContainsAny(dec, "\\\x00") {
		return "", false
	}
	// An escape left after one decoding was double-encoded: refuse those
	// that a second decoding (by a proxy, or a careless file API) would
	// turn into a separator, a dot or NUL.
	for i := 0; i+2 < len(dec); i++ {
		if dec[i] == '%' {
			switch strings.ToLower(dec[i+1 : i+3]) {
			case "2e", "2f", "5c", "00", "25":
				return "", false
			}
		}
	}
	// A slash that arrived encoded would join two segments the client
	// sent as one.
	if bytes.Contains(bytes.ToLower(raw), []byte("%2f")) {
		return "", false
	}
	var parts []string
	for _, seg := range strings.Split(dec, "/") {
		switch seg {
		case "":
			continue
		case ".", "..":
			return "", false
		}
		parts = append(parts, seg)
	}
	return filepath.Join(parts...), true
}

// percentDecode decodes %XX escapes; a malformed one fails.
func percentDecode(b []byte) (string, bool) {
	if bytes.IndexByte(b, '%') < 0 {
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '%' {
			out = append(out, b[i])
			continue
		}
		if i+2 >= len(b) {
			return "", false
		}
		hi, ok1 := unhex(b[i+1])
		lo, ok2 := unhex(b[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return string(out), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
