package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Route is what the document says of one route: core fills it from the
// route document and the compiled parameter plan.
type Route struct {
	Method string // upper case
	Path   string // the pattern as registered ("/users/{id:int}")
	Params []Param
	// Body is the body_schema as declared, or nil; Files the declared
	// upload fields (file_params).
	Body  []byte
	Files []Upload
	// Response is the response_schema, or nil; Status the status of a
	// successful answer (0: 200).
	Response []byte
	Status   int
	// Summary, Description, Tags and OperationID are the route document's
	// keys of the same names; an empty OperationID is generated.
	Summary, Description, OperationID string
	Tags                              []string
	// Security is how a request may authenticate (core's guard), any one
	// of the ways doing; empty: no authentication. Limited says a rate
	// limit applies to the route.
	Security []Credential
	Limited  bool
}

// Credential is one way a route's requests authenticate: a JWT bearer
// token (Kind "bearer"), or an API key (Kind "apiKey") in a header or
// query parameter (In, Name).
type Credential struct {
	Kind, In, Name string
}

// Param is one parameter of a route.
type Param struct {
	Name      string // on the wire
	In        string // "path", "query", "header" or "cookie"
	Required  bool
	Schema    []byte
	Separator byte // a query array's one-value separator, or 0
	AnyValue  bool // core takes any value (an undeclared string placeholder): never a 422
}

// Upload is one declared upload field.
type Upload struct {
	Name     string
	Required bool
	Types    []string
}

// Media types of the documented bodies.
const (
	mediaJSON      = "application/json"
	mediaForm      = "application/x-www-form-urlencoded"
	mediaMultipart = "multipart/form-data"
	mediaProblem   = "application/problem+json"
)

// Names of the components every validated route refers to.
const (
	problemName         = "ProblemDetails"
	validationName      = "ValidationProblem"
	validationEntryName = "ValidationErrorItem"
)

// Build returns the OpenAPI 3.1 document of routes as compact JSON, the
// same bytes for the same routes (whatever binding declared them): object
// keys sorted, paths sorted, operations in OpenAPI's order, components
// named as names.go says. It fails when two routes declare one
// operation_id, or have one method and one template (/a/{x:int} and /a/{x}).
func Build(cfg Config, routes []Route) ([]byte, error) {
	reg := newRegistry()
	// The problem components are named first, so a model that happens to
	// share a name gets the suffix, never core's own.
	reg.reserve(problemName, problemSchema())
	reg.reserve(validationEntryName, validationEntrySchema())
	reg.reserve(validationName, validationSchema())

	paths := map[string]map[string]any{}
	ids := map[string]string{} // operationId -> "METHOD path" that took it
	for i := range routes {
		r := &routes[i]
		if r.OperationID == "" {
			continue
		}
		where := r.Method + " " + r.Path
		if first, dup := ids[r.OperationID]; dup {
			return nil, fmt.Errorf("openapi: operation_id %q is declared by %s and by %s", r.OperationID, first, where)
		}
		ids[r.OperationID] = where
	}
	schemes := newSchemes()
	problems := false
	owner := map[string]string{} // "method template" -> the route pattern it came from
	for i := range routes {
		r := &routes[i]
		key := strings.ToLower(r.Method) + " " + template(r.Path)
		if first, dup := owner[key]; dup {
			// Core routes /a/{x:int} and /a/{x} apart; OpenAPI has one
			// operation per method and template.
			return nil, fmt.Errorf("openapi: %s %s and %s %s are one OpenAPI operation (%s); give one another path",
				r.Method, first, r.Method, r.Path, strings.TrimPrefix(key, strings.ToLower(r.Method)+" "))
		}
		owner[key] = r.Path
		op, usesProblems, err := operation(r, reg)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s %s: %w", r.Method, r.Path, err)
		}
		problems = problems || usesProblems
		if len(r.Security) > 0 {
			op["security"] = schemes.requirements(r.Security)
		}
		id := r.OperationID
		if id == "" {
			id = uniqueID(generatedID(r.Method, r.Path), ids)
			ids[id] = r.Method + " " + r.Path
		}
		op["operationId"] = id
		tpl := template(r.Path)
		if paths[tpl] == nil {
			paths[tpl] = map[string]any{}
		}
		paths[tpl][strings.ToLower(r.Method)] = op
	}
	info := map[string]any{"title": cfg.Title, "version": cfg.Version}
	if cfg.Description != "" {
		info["description"] = cfg.Description
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    info,
		"paths":   paths,
	}
	components := map[string]any{}
	if schemas := reg.components(problems); len(schemas) > 0 {
		components["schemas"] = schemas
	}
	if len(schemes.byName) > 0 {
		components["securitySchemes"] = schemes.byName
	}
	if len(components) > 0 {
		doc["components"] = components
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// operation is the Operation Object of r, and whether it refers to the
// problem components (core validates some of its input and may answer
// 422, or its guard may answer 401 or 429).
func operation(r *Route, reg *registry) (map[string]any, bool, error) {
	op := map[string]any{}
	if r.Summary != "" {
		op["summary"] = r.Summary
	}
	if r.Description != "" {
		op["description"] = r.Description
	}
	if len(r.Tags) > 0 {
		op["tags"] = r.Tags
	}
	validated := false
	if len(r.Params) > 0 {
		params := make([]any, 0, len(r.Params))
		for _, p := range inOrder(r.Params) {
			schema, err := reg.schema(p.Schema)
			if err != nil {
				return nil, false, fmt.Errorf("parameter %q: %w", p.Name, err)
			}
			po := map[string]any{"name": p.Name, "in": p.In, "schema": schema}
			if p.Required || p.In == "path" {
				po["required"] = true
			}
			switch p.Separator {
			case 0:
			case ',':
				po["style"], po["explode"] = "form", false
			case ' ':
				po["style"] = "spaceDelimited"
			case '|':
				po["style"] = "pipeDelimited"
			}
			params = append(params, po)
			validated = validated || !p.AnyValue
		}
		op["parameters"] = params
	}
	if len(bytes.TrimSpace(r.Body)) > 0 || len(r.Files) > 0 {
		body, err := requestBody(r, reg)
		if err != nil {
			return nil, false, err
		}
		op["requestBody"] = body
		validated = true
	}
	status := r.Status
	if status == 0 {
		status = 200
	}
	ok := map[string]any{"description": describeStatus(status)}
	if len(bytes.TrimSpace(r.Response)) > 0 {
		schema, err := reg.schema(r.Response)
		if err != nil {
			return nil, false, fmt.Errorf("response_schema: %w", err)
		}
		ok["content"] = map[string]any{mediaJSON: map[string]any{"schema": schema}}
	}
	responses := map[string]any{strconv.Itoa(status): ok}
	if op["requestBody"] != nil {
		// A body core cannot read (malformed JSON, a broken multipart
		// form, nesting past max_json_depth) is a 400 problem.
		responses["400"] = map[string]any{
			"description": "Malformed Body",
			"content":     map[string]any{mediaProblem: map[string]any{"schema": ref(problemName)}},
		}
	}
	if validated {
		responses["422"] = map[string]any{
			"description": "Validation Error",
			"content":     map[string]any{mediaProblem: map[string]any{"schema": ref(validationName)}},
		}
	}
	problems := validated || op["requestBody"] != nil
	if len(r.Security) > 0 {
		responses["401"] = map[string]any{
			"description": "Unauthorized",
			"content":     map[string]any{mediaProblem: map[string]any{"schema": ref(problemName)}},
		}
		problems = true
	}
	if r.Limited {
		responses["429"] = map[string]any{
			"description": "Too Many Requests",
			"content":     map[string]any{mediaProblem: map[string]any{"schema": ref(problemName)}},
		}
		problems = true
	}
	op["responses"] = responses
	return op, problems, nil
}

// requestBody is the Request Body Object of r. A body with upload fields
// (a "format": "binary" property, or file_params) is multipart/form-data
// only; a flat object (every property a scalar or a list of scalars) is
// JSON or a urlencoded form, both of which core decodes and validates; any
// other body is JSON.
func requestBody(r *Route, reg *registry) (map[string]any, error) {
	raw := bytes.TrimSpace(r.Body)
	var schema map[string]any
	if len(raw) > 0 {
		v, err := decodeSchema(raw)
		if err != nil {
			return nil, fmt.Errorf("body_schema: %w", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			m = map[string]any{}
		}
		schema = m
	}
	required := schema == nil || !allowsNull(schema)
	files := len(r.Files) > 0 || hasBinary(schema)
	flat := !files && isFlat(schema)
	if len(r.Files) > 0 {
		schema = withFiles(schema, r.Files)
	}
	doc, err := reg.transform(schema)
	if err != nil {
		return nil, fmt.Errorf("body_schema: %w", err)
	}
	content := map[string]any{}
	switch {
	case files:
		mt := map[string]any{"schema": doc}
		if enc := fileEncoding(r.Files); enc != nil {
			mt["encoding"] = enc
		}
		content[mediaMultipart] = mt
	case flat:
		content[mediaJSON] = map[string]any{"schema": doc}
		content[mediaForm] = map[string]any{"schema": doc}
	default:
		content[mediaJSON] = map[string]any{"schema": doc}
	}
	body := map[string]any{"content": content}
	if required {
		body["required"] = true
	}
	return body, nil
}

// withFiles adds the declared upload fields core knows from file_params to
// an object schema as binary strings (required ones to "required").
func withFiles(schema map[string]any, files []Upload) map[string]any {
	out := map[string]any{}
	for k, v := range schema {
		out[k] = v
	}
	out["type"] = "object"
	props, _ := out["properties"].(map[string]any)
	merged := map[string]any{}
	for k, v := range props {
		merged[k] = v
	}
	var required []any
	if list, ok := out["required"].([]any); ok {
		required = append(required, list...)
	}
	for _, f := range files {
		if _, declared := merged[f.Name]; !declared {
			merged[f.Name] = map[string]any{"type": "string", "format": "binary"}
		}
		if f.Required && !containsString(required, f.Name) {
			required = append(required, f.Name)
		}
	}
	out["properties"] = merged
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// fileEncoding is the multipart Encoding Object of the upload fields that
// allow only some media types.
func fileEncoding(files []Upload) map[string]any {
	enc := map[string]any{}
	for _, f := range files {
		if len(f.Types) > 0 {
			enc[f.Name] = map[string]any{"contentType": strings.Join(f.Types, ", ")}
		}
	}
	if len(enc) == 0 {
		return nil
	}
	return enc
}

// hasBinary reports whether an object schema has a top-level upload field:
// {"type": "string", "format": "binary"}, or an array of them.
func hasBinary(schema map[string]any) bool {
	props, _ := schema["properties"].(map[string]any)
	for _, p := range props {
		pm, _ := p.(map[string]any)
		if pm["type"] == "array" {
			pm, _ = pm["items"].(map[string]any)
		}
		if pm != nil && pm["format"] == "binary" {
			return true
		}
	}
	return false
}

// isFlat reports whether a form can carry the schema's object: an object
// whose properties are all scalars or arrays of scalars.
func isFlat(schema map[string]any) bool {
	props, ok := schema["properties"].(map[string]any)
	if !ok || len(props) == 0 {
		return false
	}
	if t, _ := schema["type"].(string); t != "object" {
		return false
	}
	for _, p := range props {
		pm, _ := p.(map[string]any)
		if pm == nil {
			return false
		}
		if pm["type"] == "array" {
			pm, _ = pm["items"].(map[string]any)
			if pm == nil {
				return false
			}
		}
		switch pm["type"] {
		case "string", "integer", "number", "boolean":
		default:
			return false
		}
	}
	return true
}

// allowsNull reports whether a body schema admits null (an optional body).
func allowsNull(schema map[string]any) bool {
	switch t := schema["type"].(type) {
	case string:
		if t == "null" {
			return true
		}
	case []any:
		if containsString(t, "null") {
			return true
		}
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		branches, _ := schema[k].([]any)
		for _, b := range branches {
			if bm, ok := b.(map[string]any); ok && allowsNull(bm) {
				return true
			}
		}
	}
	return false
}

func containsString(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// template is a route pattern as an OpenAPI path template: each typed
// placeholder {x:int} becomes {x} (its type is the parameter's schema).
func template(pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == ':' && strings.LastIndexByte(pattern[:i], '{') > strings.LastIndexByte(pattern[:i], '}') {
			end := strings.IndexByte(pattern[i:], '}')
			if end > 0 {
				i += end - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// generatedID is the operationId of a route that declares none:
// get_users_user_id for GET /users/{user_id:int}.
func generatedID(method, pattern string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	under := true
	b.WriteByte('_')
	for _, c := range template(pattern) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		switch {
		case ok:
			b.WriteRune(c)
			under = false
		case !under:
			b.WriteByte('_')
			under = true
		}
	}
	id := strings.TrimSuffix(b.String(), "_")
	if id == strings.ToLower(method) {
		id += "_root"
	}
	return id
}

// uniqueID is id, or id_2, id_3, ... when taken.
func uniqueID(id string, taken map[string]string) string {
	if _, dup := taken[id]; !dup {
		return id
	}
	for n := 2; ; n++ {
		c := id + "_" + strconv.Itoa(n)
		if _, dup := taken[c]; !dup {
			return c
		}
	}
}

// describeStatus is a success response's description.
func describeStatus(status int) string {
	switch status {
	case 200:
		return "Successful Response"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 204:
		return "No Content"
	}
	return "Status " + strconv.Itoa(status)
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// The problem components: core's RFC 9457 documents (core/problem).
func problemSchema() map[string]any {
	return map[string]any{
		"title":       problemName,
		"description": "An RFC 9457 problem document, as core answers every error it produces.",
		"type":        "object",
		"required":    []any{"type", "title", "status", "detail"},
		"properties": map[string]any{
			"type":   map[string]any{"type": "string"},
			"title":  map[string]any{"type": "string"},
			"status": map[string]any{"type": "integer"},
			"detail": map[string]any{"type": "string"},
		},
	}
}

func validationEntrySchema() map[string]any {
	return map[string]any{
		"title":    validationEntryName,
		"type":     "object",
		"required": []any{"type", "loc", "msg"},
		"properties": map[string]any{
			"type":  map[string]any{"type": "string"},
			"loc":   map[string]any{"type": "array", "items": map[string]any{"type": []any{"string", "integer"}}},
			"msg":   map[string]any{"type": "string"},
			"input": map[string]any{},
			"ctx":   map[string]any{"type": "object"},
		},
	}
}

func validationSchema() map[string]any {
	return map[string]any{
		"title":       validationName,
		"description": "The 422 of a request that fails validation: a problem document with one entry per error.",
		"allOf": []any{
			ref(problemName),
			map[string]any{
				"type":     "object",
				"required": []any{"errors"},
				"properties": map[string]any{
					"status": map[string]any{"const": 422},
					"errors": map[string]any{"type": "array", "items": ref(validationEntryName)},
				},
			},
		},
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sourceOrder is where each source's parameters go in an operation.
var sourceOrder = map[string]int{"path": 0, "query": 1, "header": 2, "cookie": 3}

// inOrder is params by source (path, query, header, cookie), each source
// in declaration order: the document then does not depend on how a
// binding interleaves sources (a Python signature, Node's groups).
func inOrder(params []Param) []Param {
	out := append([]Param(nil), params...)
	sort.SliceStable(out, func(i, j int) bool { return sourceOrder[out[i].In] < sourceOrder[out[j].In] })
	return out
}
