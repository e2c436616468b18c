package core

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
)

// echoBody answers with the event body; the test reads what a host would.
func echoBody(r *Request) Response {
	return Response{Status: 200, Body: r.Body}
}

func TestFormBodies(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","required":["name"],"properties":{
		"name":{"type":"string","minLength":2},
		"age":{"type":"integer","minimum":0},
		"score":{"type":"number"},
		"ok":{"type":"boolean"},
		"tags":{"type":"array","items":{"type":"string"}},
		"nums":{"type":"array","items":{"type":"integer"}},
		"user":{"$ref":"#/$defs/User"},
		"items":{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer"},"s":{"type":"string"}}}}},
		"$defs":{"User":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}}}`)
	_, base := startApp(t, nil,
		RouteSpec{Method: "POST", Path: "/f", BodySchema: schema, Handler: echoBody},
		RouteSpec{Method: "POST", Path: "/raw", Handler: echoBody},
	)
	const form = "application/x-www-form-urlencoded"
	cases := []struct {
		body   string
		status int
		want   string
	}{
		{"name=John+Doe&age=30&score=1.5&ok=on", 200, `{"name":"John Doe","age":30,"score":1.5,"ok":true}`},
		{"name=a%26b%3D%20c", 200, `{"name":"a&b= c"}`},
		// Repeated keys become arrays; a single value of an array field too.
		{"name=xx&tags=a&tags=b&tags=c", 200, `{"name":"xx","tags":["a","b","c"]}`},
		{"name=xx&tags=only", 200, `{"name":"xx","tags":["only"]}`},
		{"name=xx&nums[]=1&nums[]=2", 200, `{"name":"xx","nums":[1,2]}`},
		// Brackets nest; indexes order array items.
		{"name=xx&user[name]=Ann&user[age]=7", 200, `{"name":"xx","user":{"name":"Ann","age":7}}`},
		{"name=xx&items[1][n]=2&items[0][n]=1&items[0][s]=a", 200, `{"name":"xx","items":[{"n":1,"s":"a"},{"n":2}]}`},
		// Several values for a single-valued field: the last wins.
		{"name=first&name=second", 200, `{"name":"second"}`},
		// An empty value for a typed field counts as absent.
		{"name=xx&age=", 200, `{"name":"xx"}`},
		{"name=xx&user[name]=x&user=flat", 200, `{"name":"xx","user":{"name":"x"}}`},
		// Names that are not well-formed brackets stay literal.
		{"name=xx&a[b=1&c]=2", 200, `{"name":"xx","a[b":"1","c]":"2"}`},
		{"", 422, `{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"missing","loc":["body","name"],"msg":"Field required","input":"required"}]}`},
	}
	for _, c := range cases {
		r := do(t, "POST", base+"/f", form, c.body)
		if r.status != c.status {
			t.Errorf("form %q: status %d, want %d: %s", c.body, r.status, c.status, r.body)
			continue
		}
		jsonEq(t, r.body, c.want)
	}

	// Coercion failures name the field; the validator's complaint about
	// the same position is not repeated, other errors are kept.
	r := do(t, "POST", base+"/f", form, "name=x&age=old&nums=1&nums=two&ok=maybe")
	if r.status != 422 {
		t.Fatalf("coercion: status %d: %s", r.status, r.body)
	}
	var p struct {
		Errors []struct {
			Type string `json:"type"`
			Loc  []any  `json:"loc"`
			Msg  string `json:"msg"`
			Ctx  any    `json:"ctx"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range p.Errors {
		b, _ := json.Marshal(e.Loc)
		if _, dup := got[string(b)]; dup {
			t.Errorf("two errors at %s: %s", b, r.body)
		}
		got[string(b)] = e.Type + ": " + e.Msg
	}
	want := map[string]string{
		`["body","age"]`:    "int_parsing: Input should be a valid integer",
		`["body","nums",1]`: "int_parsing: Input should be a valid integer",
		`["body","ok"]`:     "bool_parsing: Input should be a valid boolean",
		`["body","name"]`:   "string_too_short: ",
	}
	for loc, w := range want {
		if g, ok := got[loc]; !ok || !strings.HasPrefix(g, w) {
			t.Errorf("error at %s = %q, want prefix %q (all: %s)", loc, g, w, r.body)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors %v, want %d", got, len(want))
	}

	// Without a body schema the raw body passes unchanged, any type.
	for _, ct := range []string{form, "text/plain", "application/octet-stream", ""} {
		if r := do(t, "POST", base+"/raw", ct, "a=1&b=%20"); r.status != 200 || r.body != "a=1&b=%20" {
			t.Errorf("raw %q: %d %q", ct, r.status, r.body)
		}
	}
	// A body type the route cannot read is still a 415.
	if r := do(t, "POST", base+"/f", "application/xml", "<a/>"); r.status != 415 {
		t.Errorf("xml: %d %s", r.status, r.body)
	}
}

// part is one multipart part to build.
type part struct {
	name, filename, ctype, content string
	file                           bool
	extra                          map[string]string
}

func buildMultipart(t *testing.T, parts []part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := `form-data; name="` + p.name + `"`
		if p.file {
			disp += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", disp)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		for k, v := range p.extra {
			h.Set(k, v)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write([]byte(p.content))
	}
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

type descriptor struct {
	Filename    *string           `json:"filename"`
	ContentType string            `json:"content_type"`
	Size        int               `json:"size"`
	Headers     map[string]string `json:"headers"`
	Offset      int               `json:"offset"`
	Length      int               `json:"length"`
}

func TestMultipartBodies(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","required":["doc"],"properties":{
		"doc":{"type":"string","format":"binary"},
		"files":{"type":"array","items":{"type":"string","format":"binary"}},
		"count":{"type":"integer"},
		"tags":{"type":"array","items":{"type":"string"}},
		"note":{"type":"string"}}}`)
	type seen struct {
		body, attachments []byte
	}
	got := make(chan seen, 1)
	a, base := startApp(t, nil,
		RouteSpec{Method: "POST", Path: "/up", BodySchema: schema},
		RouteSpec{Method: "POST", Path: "/raw", Handler: echoBody},
	)
	go host(a, 0, func(r *Request) Response {
		got <- seen{append([]byte(nil), r.Body...), append([]byte(nil), r.Attachments...)}
		return Response{Status: 200, Body: []byte("ok")}
	})

	parts := []part{
		{name: "doc", filename: "report.pdf", ctype: "application/pdf", content: "%PDF-1.4 fake", file: true, extra: map[string]string{"X-Trace": "abc"}},
		{name: "files", filename: "a.txt", ctype: "text/plain", content: "first file", file: true},
		{name: "files", filename: "b.bin", content: "\x00\x01\x02second", file: true},
		{name: "count", content: "3"},
		{name: "tags", content: "x"},
		{name: "tags", content: "y"},
		{name: "note", content: "héllo\r\n--not a boundary"},
	}
	ct, body := buildMultipart(t, parts)
	r := do(t, "POST", base+"/up", ct, string(body))
	if r.status != 200 {
		t.Fatalf("multipart: %d %s", r.status, r.body)
	}
	s := <-got
	if !bytes.Equal(s.attachments, body) {
		t.Fatalf("attachments are not the raw body")
	}
	var ev struct {
		Doc   descriptor   `json:"doc"`
		Files []descriptor `json:"files"`
		Count int          `json:"count"`
		Tags  []string     `json:"tags"`
		Note  string       `json:"note"`
	}
	if err := json.Unmarshal(s.body, &ev); err != nil {
		t.Fatalf("event body %s: %v", s.body, err)
	}
	check := func(d descriptor, p part) {
		t.Helper()
		if d.Filename == nil || *d.Filename != p.filename {
			t.Errorf("filename %v, want %q", d.Filename, p.filename)
		}
		wantCT := p.ctype
		if wantCT == "" {
			wantCT = "application/octet-stream"
		}
		if d.ContentType != wantCT || d.Headers["content-type"] != p.ctype && p.ctype != "" {
			t.Errorf("content type %q (headers %v), want %q", d.ContentType, d.Headers, wantCT)
		}
		if d.Size != len(p.content) || d.Length != len(p.content) {
			t.Errorf("size %d length %d, want %d", d.Size, d.Length, len(p.content))
		}
		if d.Offset < 0 || d.Offset+d.Length > len(s.attachments) || string(s.attachments[d.Offset:d.Offset+d.Length]) != p.content {
			t.Errorf("offset %d length %d do not locate %q", d.Offset, d.Length, p.content)
		}
		if !strings.Contains(d.Headers["content-disposition"], `filename="`+p.filename+`"`) {
			t.Errorf("headers %v lack the disposition", d.Headers)
		}
	}
	check(ev.Doc, parts[0])
	if ev.Doc.Headers["x-trace"] != "abc" {
		t.Errorf("per-part header missing: %v", ev.Doc.Headers)
	}
	if len(ev.Files) != 2 {
		t.Fatalf("files: %s", s.body)
	}
	check(ev.Files[0], parts[1])
	check(ev.Files[1], parts[2])
	if ev.Count != 3 || strings.Join(ev.Tags, ",") != "x,y" || ev.Note != parts[6].content {
		t.Errorf("fields: %s", s.body)
	}

	// A single file for an array field is still an array.
	ct, body = buildMultipart(t, []part{{name: "doc", filename: "d", content: "d", file: true}, {name: "files", filename: "one", content: "1", file: true}})
	if r := do(t, "POST", base+"/up", ct, string(body)); r.status != 200 {
		t.Fatalf("one file: %d %s", r.status, r.body)
	}
	s = <-got
	if !bytes.Contains(s.body, []byte(`"files":[{`)) {
		t.Errorf("single file of an array field: %s", s.body)
	}

	// A part without a filename is a text field, even at a file position;
	// no files means no attachments.
	ct, body = buildMultipart(t, []part{{name: "doc", content: "inline text"}})
	if r := do(t, "POST", base+"/up", ct, string(body)); r.status != 200 {
		t.Fatalf("text doc: %d %s", r.status, r.body)
	}
	s = <-got
	jsonEq(t, string(s.body), `{"doc":"inline text"}`)
	if s.attachments != nil {
		t.Errorf("attachments without files: %d bytes", len(s.attachments))
	}

	// Required file missing, and a coercion error, in one 422.
	ct, body = buildMultipart(t, []part{{name: "count", content: "many"}})
	r = do(t, "POST", base+"/up", ct, string(body))
	if r.status != 422 || !strings.Contains(r.body, `{"type":"missing","loc":["body","doc"],"msg":"Field required"`) ||
		!strings.Contains(r.body, `"loc":["body","count"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"many"`) {
		t.Errorf("required file missing: %d %s", r.status, r.body)
	}

	// Missing boundary: 400 in the plain shape, for schema and raw routes.
	for _, path := range []string{"/up", "/raw"} {
		r = do(t, "POST", base+path, "multipart/form-data", "--x\r\n")
		if r.status != 400 {
			t.Errorf("%s no boundary: %d %s", path, r.status, r.body)
		}
		jsonEq(t, r.body, `{"error":"multipart/form-data requires 'boundary' parameter"}`)
	}

	// Malformed bodies: 400.
	for _, bad := range []string{
		"no delimiter at all",
		"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
		"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",               // no disposition
		"--B\r\nContent-Disposition: form-data; name=\"a\"\r\nx\r\n--B--", // headers never end
		"--B\r\nbroken header line\r\n\r\nx\r\n--B--",
	} {
		r = do(t, "POST", base+"/up", "multipart/form-data; boundary=B", bad)
		if r.status != 400 {
			t.Errorf("malformed %q: %d %s", bad, r.status, r.body)
		}
	}
	// Hand-written body: LF-only lines, preamble, quoted boundary, a part
	// without headers' Content-Type.
	raw := "preamble\r\n--B\nContent-Disposition: form-data; name=\"doc\"; filename=\"x.txt\"\n\nDATA\n--B--\r\nepilogue"
	if r = do(t, "POST", base+"/up", `multipart/form-data; boundary="B"`, raw); r.status != 200 {
		t.Fatalf("lenient body: %d %s", r.status, r.body)
	}
	s = <-got
	var one struct{ Doc descriptor }
	json.Unmarshal(s.body, &one)
	if string(s.attachments[one.Doc.Offset:one.Doc.Offset+one.Doc.Length]) != "DATA" || one.Doc.ContentType != "application/octet-stream" {
		t.Errorf("lenient body: %s", s.body)
	}
}

func TestFormBodyLimit(t *testing.T) {
	schema := json.RawMessage(`{"type":"object"}`)
	_, base := startApp(t, func(c *Config) { c.MaxBodySize = 64 },
		RouteSpec{Method: "POST", Path: "/f", BodySchema: schema, Handler: echoBody})
	big := strings.Repeat("a=1&", 40)
	if r := do(t, "POST", base+"/f", "application/x-www-form-urlencoded", big); r.status != 413 {
		t.Errorf("form over limit: %d", r.status)
	}
	if r := doReader(t, "POST", base+"/f", strings.NewReader("--B\r\n"+big)); r.status != 413 {
		t.Errorf("chunked over limit: %d", r.status)
	}
	if r := do(t, "POST", base+"/f", "application/x-www-form-urlencoded", "a=1"); r.status != 200 {
		t.Errorf("form under limit: %d %s", r.status, r.body)
	}
}

func TestFileParams(t *testing.T) {
	fp := json.RawMessage(`{"image":{"required":true,"content_type":["image/png","image/jpeg"],"validate_magic_numbers":true},"extra":{"required":false}}`)
	_, base := startApp(t, nil, RouteSpec{Method: "POST", Path: "/up", FileParams: fp, Handler: echoBody})
	png := "\x89PNG\r\n\x1a\nrest"
	cases := []struct {
		parts  []part
		status int
		want   string // substring of the answer
	}{
		{[]part{{name: "image", filename: "a.png", ctype: "image/png", content: png, file: true}}, 200, `"image":{"filename":"a.png"`},
		{[]part{{name: "image", filename: "a.png", ctype: "image/png", content: "\xff\xd8\xff\xe0", file: true}}, 422,
			`{"type":"validation_error","loc":["files","image"],"msg":"File type mismatch: MIME type is image/png but magic numbers indicate image/jpeg","ctx":{"declared_mime":"image/png","detected_type":"image/jpeg","magic_bytes":"ffd8ffe0"}}`},
		{[]part{{name: "image", filename: "a.png", ctype: "image/png", content: "", file: true}}, 422,
			`"loc":["files","image"],"msg":"File buffer is empty","ctx":{"buffer_size":0}`},
		{[]part{{name: "image", filename: "a.gif", ctype: "image/gif", content: "GIF89a", file: true}}, 422, `"loc":["files","image"]`},
		{[]part{{name: "other", content: "x"}}, 422, `{"type":"missing","loc":["body","image"],"msg":"Field required","input":"required"}`},
	}
	for i, c := range cases {
		ct, body := buildMultipart(t, c.parts)
		r := do(t, "POST", base+"/up", ct, string(body))
		if r.status != c.status || !strings.Contains(r.body, c.want) {
			t.Errorf("case %d: %d %s\nwant %d with %s", i, r.status, r.body, c.status, c.want)
		}
	}
	if r := do(t, "POST", base+"/up", "multipart/form-data", ""); r.status != 400 {
		t.Errorf("no boundary: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/up", "application/json", "{}"); r.status != 422 {
		t.Errorf("json body without the required file: %d %s", r.status, r.body)
	}
}
