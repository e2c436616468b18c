package request

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/textproto"
	"testing"
)

func TestBoundary(t *testing.T) {
	cases := map[string]string{
		"multipart/form-data; boundary=abc":                                      "abc",
		`multipart/form-data; charset=x; BOUNDARY="a b"`:                         "a b",
		"multipart/form-data":                                                    "",
		"multipart/form-data; boundary=":                                         "",
		"multipart/form-data; boundary=" + string(bytes.Repeat([]byte("x"), 71)): "",
	}
	for ct, want := range cases {
		b, err := Boundary([]byte(ct))
		if string(b) != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q %v, want %q", ct, b, err, want)
		}
	}
}

func TestKindOf(t *testing.T) {
	cases := map[string]MediaKind{
		"": MediaJSON, "application/json": MediaJSON, "application/x+json; q=1": MediaJSON,
		"Application/X-WWW-Form-URLEncoded; charset=utf-8": MediaForm,
		"multipart/form-data; boundary=x":                  MediaMultipart,
		"text/plain":                                       MediaOther, "multipart/mixed; boundary=x": MediaOther,
	}
	for ct, want := range cases {
		if got := KindOf([]byte(ct)); got != want {
			t.Errorf("%q: %d, want %d", ct, got, want)
		}
	}
}

func TestParseMultipartDetails(t *testing.T) {
	body := []byte("--b\r\n" +
		"Content-Disposition: form-data; name=\"f\"; filename=\"a\\\"b.txt\"; filename*=UTF-8''%E2%9C%93.txt\r\n" +
		"Content-Type: text/csv\r\n\r\n" +
		"1,2\r\n--b\r\n" +
		"content-disposition: form-data; name=t\r\n\r\n" +
		"\r\n--b--")
	parts, err := ParseMultipart(body, []byte("b"), nil)
	if err != nil || len(parts) != 2 {
		t.Fatalf("%v %d", err, len(parts))
	}
	p := parts[0]
	if string(p.Name) != "f" || !p.IsFile || string(p.Filename) != "✓.txt" || string(p.ContentType) != "text/csv" || string(p.Data) != "1,2" {
		t.Errorf("file part %+v", p)
	}
	if string(body[p.Offset:p.Offset+len(p.Data)]) != "1,2" {
		t.Errorf("offset %d", p.Offset)
	}
	q := parts[1]
	if string(q.Name) != "t" || q.IsFile || string(q.ContentType) != "text/plain" || len(q.Data) != 0 {
		t.Errorf("text part %+v", q)
	}
	// Zero-copy: Data aliases body.
	if &p.Data[0] != &body[p.Offset] {
		t.Errorf("part data was copied")
	}
}

func FuzzParseMultipart(f *testing.F) {
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--"), "B")
	f.Add([]byte("pre\n--B\nContent-Disposition: form-data; name=a; filename=f\nContent-Type: x/y\n\n\n--B\n\n--B--"), "B")
	f.Add([]byte("--B--"), "B")
	f.Add([]byte("--BB\r\n--B\r\n\r\n\r\n--B--"), "B")
	shape, _ := CompileShape([]byte(`{"type":"object","properties":{"a":{"type":"integer"},"f":{"type":"string","format":"binary"}}}`))
	var sc FormScratch
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		parts, err := ParseMultipart(body, []byte(boundary), nil)
		if err != nil {
			return
		}
		for _, p := range parts {
			if p.Offset < 0 || p.Offset+len(p.Data) > len(body) || !bytes.Equal(body[p.Offset:p.Offset+len(p.Data)], p.Data) {
				t.Fatalf("part data not at its offset: %+v", p)
			}
		}
		ev, vdoc, _, _, err := shape.DecodeMultipart(body, []byte(boundary), &sc)
		if err != nil {
			t.Fatalf("parse succeeded, decode failed: %v", err)
		}
		if !json.Valid(ev) || !json.Valid(vdoc) {
			t.Fatalf("invalid JSON %s / %s", ev, vdoc)
		}
	})
}

// FuzzMultipartRoundTrip checks the parser against bodies written by the
// standard library's multipart writer.
func FuzzMultipartRoundTrip(f *testing.F) {
	f.Add("field", "", "text/plain", []byte("hello"), "x")
	f.Add("up", "a b.txt", "", []byte("\r\n--\r\n"), "y")
	f.Fuzz(func(t *testing.T, name, filename, ctype string, content []byte, second string) {
		for _, s := range []string{name, filename, ctype} {
			if bytes.ContainsAny([]byte(s), "\r\n\"\\") {
				return
			}
		}
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		h := textproto.MIMEHeader{}
		disp := `form-data; name="` + name + `"`
		if filename != "" {
			disp += `; filename="` + filename + `"`
		}
		h.Set("Content-Disposition", disp)
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		pw, _ := w.CreatePart(h)
		pw.Write(content)
		_ = w.WriteField("second", second)
		w.Close()
		parts, err := ParseMultipart(buf.Bytes(), []byte(w.Boundary()), nil)
		if err != nil {
			t.Fatalf("parse: %v\n%q", err, buf.Bytes())
		}
		if len(parts) != 2 || string(parts[0].Name) != name || !bytes.Equal(parts[0].Data, content) ||
			parts[0].IsFile != (filename != "") || string(parts[1].Data) != second {
			t.Fatalf("parts %+v", parts)
		}
	})
}

func BenchmarkDecodeMultipart(b *testing.B) {
	shape, _ := CompileShape([]byte(`{"type":"object","properties":{"n":{"type":"integer"},"f":{"type":"string","format":"binary"}}}`))
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("n", "42")
	fw, _ := w.CreateFormFile("f", "big.bin")
	fw.Write(bytes.Repeat([]byte("x"), 1<<20))
	w.Close()
	body, boundary := buf.Bytes(), []byte(w.Boundary())
	var sc FormScratch
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, _, err := shape.DecodeMultipart(body, boundary, &sc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeForm(b *testing.B) {
	shape, _ := CompileShape([]byte(`{"type":"object","properties":{"age":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}}}`))
	body := []byte("name=John+Doe&age=30&tags=a&tags=b&user%5Bemail%5D=j%40x.io")
	var sc FormScratch
	b.ReportAllocs()
	for b.Loop() {
		shape.DecodeForm(body, &sc)
	}
}
