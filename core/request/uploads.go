package request

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spikard/spikard/core/problem"
)

// FileRules are a route's declared upload fields ("file_params"): which
// multipart fields are files, which are required, which media types they
// may have and whether their content must match that type's magic
// numbers. Immutable after compile.
type FileRules struct {
	rules []fileRule
}

type fileRule struct {
	name     string
	required bool
	types    []string // allowed media types, lower-case; empty: any
	magic    bool     // check the content against the declared type
}

// CompileFileParams reads a file_params object:
//
//	{"<field>": {"required": bool, "content_type": [media types] | "type",
//	             "validate_magic_numbers": bool}, ...}
//
// Unknown keys are ignored. A nil or empty document yields nil rules.
func CompileFileParams(doc []byte) (*FileRules, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || string(doc) == "null" {
		return nil, nil
	}
	var raw map[string]struct {
		Required    *bool           `json:"required"`
		Optional    bool            `json:"optional"`
		ContentType json.RawMessage `json:"content_type"`
		Magic       bool            `json:"validate_magic_numbers"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("file_params: %v", err)
	}
	fr := &FileRules{}
	for name, r := range raw {
		rule := fileRule{name: name, required: !r.Optional, magic: r.Magic}
		if r.Required != nil {
			rule.required = *r.Required
		}
		if len(r.ContentType) > 0 && string(r.ContentType) != "null" {
			var list []string
			if err := json.Unmarshal(r.ContentType, &list); err != nil {
				var one string
				if err := json.Unmarshal(r.ContentType, &one); err != nil {
					return nil, fmt.Errorf("file_params.%s.content_type: want a string or a list", name)
				}
				list = []string{one}
			}
			for _, t := range list {
				rule.types = append(rule.types, strings.ToLower(strings.TrimSpace(t)))
			}
		}
		fr.rules = append(fr.rules, rule)
	}
	// Map order is random; errors must come out in a stable order.
	sort.Slice(fr.rules, func(i, j int) bool { return fr.rules[i].name < fr.rules[j].name })
	return fr, nil
}

// Check appends an entry for each rule the uploaded parts break: a
// required file absent (loc ["body", name], like a missing body field), a
// media type not allowed, an empty file or content whose magic numbers
// contradict its declared type (loc ["files", name]).
func (fr *FileRules) Check(parts []Part, errs []problem.Entry) []problem.Entry {
	if fr == nil {
		return errs
	}
	for i := range fr.rules {
		r := &fr.rules[i]
		found := false
		for j := range parts {
			p := &parts[j]
			if !p.IsFile || string(p.Name) != r.name {
				continue
			}
			found = true
			errs = r.checkPart(p, errs)
		}
		if !found && r.required {
			errs = append(errs, problem.Entry{Type: "missing", Loc: []problem.Loc{problem.Key("body"), problem.Key(r.name)}, Msg: "Field required"})
		}
	}
	return errs
}

func (r *fileRule) checkPart(p *Part, errs []problem.Entry) []problem.Entry {
	loc := []problem.Loc{problem.Key("files"), problem.Key(r.name)}
	declared := mediaType(p.ContentType)
	if len(r.types) > 0 && !allowedType(r.types, declared) {
		ctx := append(problem.AppendString([]byte(`{"content_type":`), declared), `,"allowed_types":[`...)
		for i, t := range r.types {
			if i > 0 {
				ctx = append(ctx, ',')
			}
			ctx = problem.AppendString(ctx, t)
		}
		ctx = append(ctx, "]}"...)
		return append(errs, problem.Entry{Type: "validation_error", Loc: loc,
			Msg: "Invalid file type '" + declared + "'. Allowed types: " + strings.Join(r.types, ", "), Ctx: ctx, NoInput: true})
	}
	if !r.magic {
		return errs
	}
	if len(p.Data) == 0 {
		return append(errs, problem.Entry{Type: "validation_error", Loc: loc, Msg: "File buffer is empty", Ctx: []byte(`{"buffer_size":0}`), NoInput: true})
	}
	// Only a declared type that has a signature can be contradicted; a
	// text file that happens to start with "BM" is still text.
	detected, want := sniff(p.Data), canonicalType(declared)
	if detected == "" || detected == want || !hasSignature(want) {
		return errs
	}
	head := p.Data[:min(len(p.Data), magicShown)]
	ctx := append(problem.AppendString([]byte(`{"declared_mime":`), declared), `,"detected_type":`...)
	ctx = problem.AppendString(ctx, detected)
	ctx = append(ctx, `,"magic_bytes":`...)
	ctx = append(problem.AppendString(ctx, hex.EncodeToString(head)), '}')
	return append(errs, problem.Entry{Type: "validation_error", Loc: loc,
		Msg: "File type mismatch: MIME type is " + declared + " but magic numbers indicate " + detected, Ctx: ctx, NoInput: true})
}

// magicShown is how many leading bytes a mismatch error shows, in hex.
const magicShown = 16

func mediaType(ct []byte) string {
	mt, _, _ := bytes.Cut(ct, []byte(";"))
	return strings.ToLower(string(bytes.TrimSpace(mt)))
}

// allowedType matches declared against a list that may hold wildcards
// ("image/*", "*/*").
func allowedType(types []string, declared string) bool {
	for _, t := range types {
		if t == declared || t == "*/*" || strings.HasSuffix(t, "/*") && strings.HasPrefix(declared, t[:len(t)-1]) {
			return true
		}
	}
	return false
}

// canonicalType folds common aliases so "image/jpg" matches JPEG content.
func canonicalType(t string) string {
	switch t {
	case "image/jpg", "image/pjpeg":
		return "image/jpeg"
	case "application/x-pdf":
		return "application/pdf"
	case "application/x-zip-compressed":
		return "application/zip"
	}
	return t
}

// magic lists signatures of common upload types. Types without a
// signature (text, JSON, CSV) are never reported as mismatches.
var magic = [...]struct {
	sig  string
	at   int
	kind string
}{
	{"\xff\xd8\xff", 0, "image/jpeg"},
	{"\x89PNG\r\n\x1a\n", 0, "image/png"},
	{"GIF87a", 0, "image/gif"},
	{"GIF89a", 0, "image/gif"},
	{"%PDF-", 0, "application/pdf"},
	{"PK\x03\x04", 0, "application/zip"},
	{"\x1f\x8b", 0, "application/gzip"},
	{"BM", 0, "image/bmp"},
	{"II*\x00", 0, "image/tiff"},
	{"MM\x00*", 0, "image/tiff"},
	{"WEBP", 8, "image/webp"},
}

func hasSignature(t string) bool {
	for _, m := range magic {
		if m.kind == t {
			return true
		}
	}
	return false
}

// sniff returns the media type data's magic numbers indicate, or "".
func sniff(data []byte) string {
	for _, m := range magic {
		if len(data) >= m.at+len(m.sig) && string(data[m.at:m.at+len(m.sig)]) == m.sig {
			if m.kind == "image/webp" && string(data[:4]) != "RIFF" {
				continue
			}
			return m.kind
		}
	}
	return ""
}
