package core

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/spikard/spikard/core/openapi"
)

// The OpenAPI document and docs pages (config "openapi"): at Start, when
// enabled, core builds the document once from the routes added so far and
// adds Go-handler routes that answer it and the pages from memory. Nothing
// runs per request for an app without them.

// routeDocKeys are the route document's keys that only the OpenAPI
// document reads (see ParseRouteSpec and include/spikard.h).
var routeDocKeys = []string{"summary", "description", "tags", "operation_id", "status_code"}

// checkRouteDocKey checks the value of one of routeDocKeys.
func checkRouteDocKey(k string, raw []byte) error {
	switch k {
	case "summary", "description":
		_, err := text(raw)
		return err
	case "operation_id":
		s, err := text(raw)
		if err == nil && s == "" {
			err = errors.New("must not be empty")
		}
		return err
	case "tags":
		var tags []string
		if !decode(raw, &tags) {
			return errors.New("must be a list of strings")
		}
		for i, t := range tags {
			if t == "" {
				return errors.New("must not list an empty tag")
			}
			if slices.Contains(tags[:i], t) {
				return fmt.Errorf("lists %q twice", t)
			}
		}
	case "status_code":
		_, err := integer(raw, 100, 599)
		return err
	}
	return nil
}

// addDocs adds the routes of the document and the pages, once, before
// Start sets started. The document covers every route added before, but
// WebSocket endpoints (OpenAPI describes no upgrade).
func (a *App) addDocs() error {
	cfg := a.cfg.OpenAPI
	if !cfg.Enabled || a.docsAdded {
		return nil
	}
	a.mu.Lock()
	routes := make([]openapi.Route, 0, len(a.routes))
	for _, rt := range a.routes {
		if rt.ws != nil {
			continue
		}
		routes = append(routes, documented(rt))
	}
	a.mu.Unlock()
	doc, err := openapi.Build(cfg, routes)
	if err != nil {
		return fmt.Errorf("spikard: %w (%w)", err, ErrInvalid)
	}
	serve := []openapi.File{{Path: cfg.OpenAPIPath, ContentType: "application/json", Body: doc}}
	serve = append(serve, openapi.Files(cfg)...)
	for _, f := range serve {
		headers := []Header{{Name: []byte("Content-Type"), Value: []byte(f.ContentType)}}
		for _, h := range f.Headers {
			headers = append(headers, Header{Name: []byte(h[0]), Value: []byte(h[1])})
		}
		resp := Response{Status: 200, Headers: headers, Body: f.Body}
		_, err := a.AddRoute(RouteSpec{Method: "GET", Path: f.Path, Handler: func(*Request) Response { return resp }})
		if err != nil {
			return fmt.Errorf("spikard: openapi: serving %s: %w (%w)", f.Path, err, ErrInvalid)
		}
	}
	a.docsAdded = true
	return nil
}

// documented is what the OpenAPI document says of a compiled route.
func documented(rt *compiledRoute) openapi.Route {
	s := &rt.spec
	r := openapi.Route{
		Method:      s.Method,
		Path:        s.Path,
		Response:    nonNull(s.ResponseSchema),
		Body:        nonNull(s.BodySchema),
		Status:      s.StatusCode,
		Summary:     s.Summary,
		Description: s.Description,
		Tags:        s.Tags,
		OperationID: s.OperationID,
	}
	for _, p := range rt.params.Describe() {
		r.Params = append(r.Params, openapi.Param{Name: p.Name, In: p.In, Required: p.Required, Schema: p.Schema, Separator: p.Separator, AnyValue: p.AnyValue})
	}
	for _, f := range rt.files.Describe() {
		r.Files = append(r.Files, openapi.Upload{Name: f.Name, Required: f.Required, Types: f.Types})
	}
	return r
}

func nonNull(raw []byte) []byte {
	if t := bytes.TrimSpace(raw); len(t) > 0 && string(t) != "null" {
		return t
	}
	return nil
}
