package openapi

import (
	"embed"
	"html"
	"path"
	"strings"
)

// assets are the pages' scripts and stylesheets: the minimal dist files of
// the npm packages swagger-ui-dist and redoc (versions in assets/VERSIONS,
// licences beside them), fetched by `make docs-assets`, and Spikard's own
// swagger-init.js.
//
//go:embed assets/VERSIONS assets/swagger-init.js assets/swagger-ui assets/redoc
var assets embed.FS

// File is one thing the app serves for the docs: a path, its media type
// and its bytes, the same for every request.
type File struct {
	Path        string
	ContentType string
	Body        []byte
	// Headers beside Content-Type (the pages' Content-Security-Policy,
	// the assets' Cache-Control).
	Headers [][2]string
}

// pagePolicy is the Content-Security-Policy of the docs pages: every
// script, stylesheet, font, image and request is the app's own, so a page
// cannot reach a CDN even if a bundle tried (ReDoc's footer links a logo
// from one; the browser never fetches it). Inline styles are the UIs' own
// (styled-components); ReDoc's search runs in a blob: worker.
const pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// assetCache lets a browser keep the bundles: they change only with the
// library.
const assetCache = "public, max-age=86400"

// Files returns what cfg serves besides the document: each page and the
// assets it loads (under the page's path: /docs/swagger-ui.css), none when
// cfg is off.
func Files(cfg Config) []File {
	if !cfg.Enabled {
		return nil
	}
	var out []File
	if p := cfg.SwaggerUIPath; p != "" {
		out = append(out, File{Path: p, ContentType: "text/html; charset=utf-8", Body: swaggerPage(cfg),
			Headers: [][2]string{{"Content-Security-Policy", pagePolicy}}})
		out = append(out,
			asset(under(p, "swagger-ui-bundle.js"), "assets/swagger-ui/swagger-ui-bundle.js"),
			asset(under(p, "swagger-ui.css"), "assets/swagger-ui/swagger-ui.css"),
			asset(under(p, "swagger-init.js"), "assets/swagger-init.js"),
			asset(under(p, "favicon-32x32.png"), "assets/swagger-ui/favicon-32x32.png"))
	}
	if p := cfg.RedocPath; p != "" {
		out = append(out, File{Path: p, ContentType: "text/html; charset=utf-8", Body: redocPage(cfg),
			Headers: [][2]string{{"Content-Security-Policy", pagePolicy}}})
		out = append(out, asset(under(p, "redoc.standalone.js"), "assets/redoc/redoc.standalone.js"))
	}
	return out
}

// AssetVersions is assets/VERSIONS: which npm releases the pages ship.
func AssetVersions() string {
	b, _ := assets.ReadFile("assets/VERSIONS")
	return string(b)
}

func asset(at, name string) File {
	body, err := assets.ReadFile(name)
	if err != nil {
		panic("openapi: embedded asset missing: " + name) // the embed directive lists them
	}
	return File{Path: at, ContentType: mediaOf(name), Body: body, Headers: [][2]string{{"Cache-Control", assetCache}}}
}

func mediaOf(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// under is a page's asset path: /docs + x -> /docs/x (/ + x -> /x).
func under(page, name string) string {
	return strings.TrimSuffix(page, "/") + "/" + name
}

func swaggerPage(cfg Config) []byte {
	p := cfg.SwaggerUIPath
	t := html.EscapeString(cfg.Title)
	return []byte(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + t + ` - Swagger UI</title>
<link rel="stylesheet" href="` + html.EscapeString(under(p, "swagger-ui.css")) + `">
<link rel="icon" type="image/png" href="` + html.EscapeString(under(p, "favicon-32x32.png")) + `">
</head>
<body>
<div id="swagger-ui" data-url="` + html.EscapeString(cfg.OpenAPIPath) + `"></div>
<script src="` + html.EscapeString(under(p, "swagger-ui-bundle.js")) + `"></script>
<script src="` + html.EscapeString(under(p, "swagger-init.js")) + `"></script>
</body>
</html>
`)
}

func redocPage(cfg Config) []byte {
	p := cfg.RedocPath
	t := html.EscapeString(cfg.Title)
	return []byte(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + t + ` - ReDoc</title>
<link rel="icon" href="data:,">
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="` + html.EscapeString(cfg.OpenAPIPath) + `"></redoc>
<script src="` + html.EscapeString(under(p, "redoc.standalone.js")) + `"></script>
</body>
</html>
`)
}
