package openapi

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// oas31 is the official OpenAPI 3.1 schema (testdata/README.md), compiled once.
func oas31(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/oas-3.1-schema-2022-10-07.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const id = "https://spec.openapis.org/oas/3.1/schema/2022-10-07"
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ValidOpenAPI fails t unless doc validates against the OpenAPI 3.1 schema.
func validOpenAPI(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
	if err != nil {
		t.Fatalf("document is not JSON: %v", err)
	}
	if err := oas31(t).Validate(v); err != nil {
		t.Fatalf("document breaks the OpenAPI 3.1 schema: %v\n%s", err, doc)
	}
	var m map[string]any
	_ = json.Unmarshal(doc, &m)
	return m
}

func build(t *testing.T, routes ...Route) map[string]any {
	t.Helper()
	doc, err := Build(Defaults(), routes)
	if err != nil {
		t.Fatal(err)
	}
	return validOpenAPI(t, doc)
}

// at walks m by keys.
func at(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %v: %q is not in an object (%v)", keys, k, v)
		}
		v, ok = m[k]
		if !ok {
			t.Fatalf("at %v: no %q in %v", keys, k, m)
		}
	}
	return v
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

const user = `{"title":"User","type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"}},"required":["id","name"]}`

func TestModelsBecomeComponents(t *testing.T) {
	d := build(t,
		Route{Method: "POST", Path: "/users", Body: []byte(user), Response: []byte(user), Status: 201},
		Route{Method: "GET", Path: "/users/{id:int}", Params: []Param{{Name: "id", In: "path", Required: true, Schema: []byte(`{"type":"integer"}`)}},
			Response: []byte(user)},
	)
	if got := compact(at(t, d, "paths", "/users", "post", "requestBody", "content", "application/json", "schema")); got != `{"$ref":"#/components/schemas/User"}` {
		t.Errorf("body schema = %s", got)
	}
	if got := compact(at(t, d, "paths", "/users/{id}", "get", "responses", "200", "content", "application/json", "schema")); got != `{"$ref":"#/components/schemas/User"}` {
		t.Errorf("response schema = %s", got)
	}
	at(t, d, "paths", "/users", "post", "responses", "201")
	schemas := at(t, d, "components", "schemas").(map[string]any)
	for _, name := range []string{"User", "ProblemDetails", "ValidationProblem", "ValidationErrorItem"} {
		if _, ok := schemas[name]; !ok {
			t.Errorf("no component %s in %v", name, schemas)
		}
	}
	if len(schemas) != 4 {
		t.Errorf("components %v: want one User", schemas)
	}
	if got := compact(at(t, d, "paths", "/users", "post", "responses", "422", "content", "application/problem+json", "schema")); got != `{"$ref":"#/components/schemas/ValidationProblem"}` {
		t.Errorf("422 = %s", got)
	}
	if got := at(t, d, "paths", "/users/{id}", "get", "operationId"); got != "get_users_id" {
		t.Errorf("operationId = %v", got)
	}
}

func TestSameTitleDifferentSchemaGetsSuffix(t *testing.T) {
	other := `{"title":"User","type":"object","properties":{"email":{"type":"string"}}}`
	d := build(t,
		Route{Method: "POST", Path: "/a", Body: []byte(user)},
		Route{Method: "POST", Path: "/b", Body: []byte(other)},
		Route{Method: "POST", Path: "/c", Body: []byte(`{"title":"Validation Problem","type":"object","properties":{"x":{"type":"string"}}}`)},
	)
	if got := compact(at(t, d, "paths", "/b", "post", "requestBody", "content", "application/json", "schema")); got != `{"$ref":"#/components/schemas/User2"}` {
		t.Errorf("second User = %s", got)
	}
	// Spaces become '_', and core's own names are never taken.
	if got := compact(at(t, d, "paths", "/c", "post", "requestBody", "content", "application/json", "schema")); got != `{"$ref":"#/components/schemas/Validation_Problem"}` {
		t.Errorf("sanitised = %s", got)
	}
}

func TestNestedModelsAndDefs(t *testing.T) {
	order := `{"title":"Order","type":"object","properties":{"buyer":` + user + `,"items":{"type":"array","items":{"title":"Item","type":"object","properties":{"sku":{"type":"string"}}}}}}`
	tree := `{"$ref":"#/$defs/Node","$defs":{"Node":{"title":"Node","type":"object","properties":{"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}}}}}`
	d := build(t,
		Route{Method: "POST", Path: "/orders", Body: []byte(order)},
		Route{Method: "POST", Path: "/trees", Body: []byte(tree)},
	)
	s := at(t, d, "components", "schemas")
	if got := compact(at(t, s, "Order", "properties", "buyer")); got != `{"$ref":"#/components/schemas/User"}` {
		t.Errorf("buyer = %s", got)
	}
	if got := compact(at(t, s, "Order", "properties", "items", "items")); got != `{"$ref":"#/components/schemas/Item"}` {
		t.Errorf("items = %s", got)
	}
	if got := compact(at(t, s, "Node", "properties", "children", "items")); got != `{"$ref":"#/components/schemas/Node"}` {
		t.Errorf("recursive ref = %s", got)
	}
	if got := compact(at(t, d, "paths", "/trees", "post", "requestBody", "content", "application/json", "schema")); got != `{"$ref":"#/components/schemas/Node"}` {
		t.Errorf("tree body = %s", got)
	}
}

func TestBodyMediaTypes(t *testing.T) {
	flat := `{"type":"object","properties":{"name":{"type":"string"},"n":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}}}`
	upload := `{"type":"object","properties":{"file":{"type":"string","format":"binary"},"note":{"type":"string"}},"required":["file"]}`
	d := build(t,
		Route{Method: "POST", Path: "/flat", Body: []byte(flat)},
		Route{Method: "POST", Path: "/upload", Body: []byte(upload)},
		Route{Method: "POST", Path: "/files", Files: []Upload{{Name: "avatar", Required: true, Types: []string{"image/png"}}}},
		Route{Method: "POST", Path: "/opt", Body: []byte(`{"anyOf":[{"type":"object","properties":{"a":{"type":"object"}}},{"type":"null"}]}`)},
	)
	content := at(t, d, "paths", "/flat", "post", "requestBody", "content").(map[string]any)
	if len(content) != 2 || content["application/x-www-form-urlencoded"] == nil || content["application/json"] == nil {
		t.Errorf("flat body content = %v", compact(content))
	}
	content = at(t, d, "paths", "/upload", "post", "requestBody", "content").(map[string]any)
	if len(content) != 1 || content["multipart/form-data"] == nil {
		t.Errorf("upload content = %v", compact(content))
	}
	mp := at(t, d, "paths", "/files", "post", "requestBody", "content", "multipart/form-data")
	if got := compact(at(t, mp, "schema")); got != `{"properties":{"avatar":{"format":"binary","type":"string"}},"required":["avatar"],"type":"object"}` {
		t.Errorf("file_params schema = %s", got)
	}
	if got := compact(at(t, mp, "encoding")); got != `{"avatar":{"contentType":"image/png"}}` {
		t.Errorf("encoding = %s", got)
	}
	if body := at(t, d, "paths", "/opt", "post", "requestBody").(map[string]any); body["required"] != nil {
		t.Errorf("an optional body is required: %v", compact(body))
	}
	if body := at(t, d, "paths", "/flat", "post", "requestBody").(map[string]any); body["required"] != true {
		t.Errorf("body not required: %v", compact(body))
	}
}

func TestParametersAndIDs(t *testing.T) {
	d := build(t,
		Route{Method: "GET", Path: "/items/{id:uuid}/{rest:path}", OperationID: "read_item", Summary: "Read", Description: "Long", Tags: []string{"items"},
			Params: []Param{
				{Name: "id", In: "path", Required: true, Schema: []byte(`{"type":"string","format":"uuid"}`)},
				{Name: "rest", In: "path", Required: true, Schema: []byte(`{"type":"string"}`)},
				{Name: "limit", In: "query", Schema: []byte(`{"type":"integer","default":10,"maximum":100}`)},
				{Name: "colors", In: "query", Schema: []byte(`{"type":"array","items":{"type":"string"}}`), Separator: ','},
				{Name: "x-token", In: "header", Required: true, Schema: []byte(`{"type":"string"}`)},
				{Name: "session", In: "cookie", Schema: []byte(`{"type":"string"}`)},
			}},
		Route{Method: "GET", Path: "/", Status: 204},
		Route{Method: "GET", Path: "/root"},
		Route{Method: "POST", Path: "/root/"},
	)
	op := at(t, d, "paths", "/items/{id}/{rest}", "get")
	for k, want := range map[string]string{"operationId": `"read_item"`, "summary": `"Read"`, "description": `"Long"`, "tags": `["items"]`} {
		if got := compact(at(t, op, k)); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	params := at(t, op, "parameters").([]any)
	if got := compact(params[2]); got != `{"in":"query","name":"limit","schema":{"default":10,"maximum":100,"type":"integer"}}` {
		t.Errorf("limit = %s", got)
	}
	if got := compact(params[3]); got != `{"explode":false,"in":"query","name":"colors","schema":{"items":{"type":"string"},"type":"array"},"style":"form"}` {
		t.Errorf("colors = %s", got)
	}
	if got := at(t, d, "paths", "/", "get", "operationId"); got != "get_root" {
		t.Errorf("/ id = %v", got)
	}
	if got := at(t, d, "paths", "/root", "get", "operationId"); got != "get_root_2" {
		t.Errorf("/root id = %v", got)
	}
	if _, ok := at(t, d, "paths", "/", "get", "responses").(map[string]any)["422"]; ok {
		t.Error("a route with nothing to validate documents a 422")
	}
	if _, ok := build(t, Route{Method: "GET", Path: "/plain"})["components"]; ok {
		t.Error("components without a validated route or a model")
	}
	_ = at(t, d, "paths", "/", "get", "responses", "204")
}

func TestDuplicateOperationID(t *testing.T) {
	_, err := Build(Defaults(), []Route{{Method: "GET", Path: "/a", OperationID: "x"}, {Method: "POST", Path: "/b", OperationID: "x"}})
	if err == nil || !strings.Contains(err.Error(), `operation_id "x" is declared by GET /a and by POST /b`) {
		t.Fatalf("err = %v", err)
	}
}

func TestSameBytesWhateverKeyOrder(t *testing.T) {
	a, _ := Build(Defaults(), []Route{{Method: "POST", Path: "/u", Body: []byte(user)}})
	b, _ := Build(Defaults(), []Route{{Method: "POST", Path: "/u", Body: []byte(`{"required":["id","name"],"properties":{"name":{"type":"string"},"id":{"type":"integer"}},"type":"object","title":"User"}`)}})
	if string(a) != string(b) {
		t.Errorf("documents differ:\n%s\n%s", a, b)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"title":"My API","version":"2","redoc_path":"","swagger_ui_path":"/api/docs/"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || c.Title != "My API" || c.RedocPath != "" || c.SwaggerUIPath != "/api/docs" || c.OpenAPIPath != "/openapi.json" {
		t.Errorf("config = %+v", c)
	}
	for doc, want := range map[string]string{
		`{"title":""}`:                 `"title": must be a non-empty string`,
		`{"swagger_ui_path":"docs"}`:   `"swagger_ui_path": must be a path`,
		`{"openapi_path":""}`:          `"openapi_path": must be a path`,
		`{"redoc_path":"/docs"}`:       `"swagger_ui_path" and "redoc_path" are both "/docs"`,
		`{"enabled":"yes"}`:            `"enabled": must be true or false`,
		`{"titel":"x"}`:                `unknown key "titel"`,
		`[]`:                           `must be an object`,
		`{"swagger_ui_path":"/d/{x}"}`: `no placeholder`,
		`{"openapi_path":"/a","swagger_ui_path":"/a/"}`: `are both "/a"`,
	} {
		if _, err := ParseConfig([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseConfig(%s) = %v, want %q", doc, err, want)
		}
	}
}

func TestFilesOnlyWhenEnabled(t *testing.T) {
	if f := Files(Config{}); f != nil {
		t.Errorf("disabled config serves %d files", len(f))
	}
	c := Defaults()
	c.Title = `<script>`
	var paths []string
	for _, f := range Files(c) {
		paths = append(paths, f.Path)
		if len(f.Body) == 0 {
			t.Errorf("%s is empty", f.Path)
		}
		if strings.HasPrefix(f.ContentType, "text/html") && strings.Contains(string(f.Body), "<script>") {
			t.Errorf("%s does not escape the title", f.Path)
		}
	}
	want := "/docs /docs/swagger-ui-bundle.js /docs/swagger-ui.css /docs/swagger-init.js /docs/favicon-32x32.png /redoc /redoc/redoc.standalone.js"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("paths = %s", got)
	}
	if !strings.Contains(AssetVersions(), "swagger-ui-dist ") || !strings.Contains(AssetVersions(), "redoc ") {
		t.Errorf("VERSIONS = %q", AssetVersions())
	}
}

// A placeholder core takes whatever its value documents no 422; a typed or
// declared one does.
func TestAnyValuePlaceholderIsNotValidated(t *testing.T) {
	d := build(t,
		Route{Method: "GET", Path: "/files/{name:path}", Params: []Param{{Name: "name", In: "path", Required: true, Schema: []byte(`{"type":"string"}`), AnyValue: true}}},
		Route{Method: "GET", Path: "/n/{id:int}", Params: []Param{{Name: "id", In: "path", Required: true, Schema: []byte(`{"type":"integer"}`)}}},
	)
	if _, ok := at(t, d, "paths", "/files/{name}", "get", "responses").(map[string]any)["422"]; ok {
		t.Error("an any-value placeholder documents a 422")
	}
	at(t, d, "paths", "/n/{id}", "get", "responses", "422")
}

func TestOneOperationPerTemplate(t *testing.T) {
	_, err := Build(Defaults(), []Route{{Method: "GET", Path: "/a/{x:int}"}, {Method: "GET", Path: "/a/{x}"}, {Method: "POST", Path: "/a/{x}"}})
	if err == nil || !strings.Contains(err.Error(), "GET /a/{x:int} and GET /a/{x} are one OpenAPI operation (/a/{x})") {
		t.Fatalf("err = %v", err)
	}
}
