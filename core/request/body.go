package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/validate"
)

// Body is a route's compiled body schema. It is immutable and safe for
// concurrent use.
type Body struct {
	schema *jsonschema.Schema
	// doc is the schema document, and oneOf every oneOf's branches
	// compiled alone (by the JSON Pointer of the schema holding it): the
	// error path reads them to say what a failed not or oneOf required.
	doc   any
	oneOf map[string][]*jsonschema.Schema
	// fast is the compiled validator, nil when the schema is outside its
	// subset. It decides validity in one pass without decoding; only a
	// failing document goes through schema, which builds the entries.
	fast *validate.Validator
	// maxDepth is how deeply a body may nest arrays and objects.
	maxDepth int
}

// CompileBody compiles a JSON Schema (draft 2020-12 unless it says
// otherwise) for request bodies nested at most DefaultMaxJSONDepth deep.
func CompileBody(schema []byte) (*Body, error) {
	return CompileBodyDepth(schema, DefaultMaxJSONDepth)
}

// CompileBodyDepth is CompileBody for bodies nested at most maxDepth
// levels deep (1..10000; see TooDeep); a deeper body fails Validate with
// the 400 of problem.TooDeep before anything else is checked.
func CompileBodyDepth(schema []byte, maxDepth int) (*Body, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxJSONDepth
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("body_schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Formats are assertions here, as they are for parameters: an
	// "email" field that is not an email is a 422, not an annotation.
	c.AssertFormat()
	if err := c.AddResource(bodyURL, doc); err != nil {
		return nil, fmt.Errorf("body_schema: %v", err)
	}
	s, err := c.Compile(bodyURL)
	if err != nil {
		return nil, fmt.Errorf("body_schema: %v", err)
	}
	fast, _ := validate.Compile(schema) // nil (unsupported) keeps the general path
	b := &Body{schema: s, fast: fast, doc: doc, maxDepth: maxDepth}
	b.compileOneOf(c, doc, "")
	return b, nil
}

// compileOneOf compiles the branches of every oneOf in the schema
// document v (at pointer ptr) on their own, so that a failure can say how
// many matched.
func (b *Body) compileOneOf(c *jsonschema.Compiler, v any, ptr string) {
	switch v := v.(type) {
	case map[string]any:
		if list, ok := v["oneOf"].([]any); ok {
			branches := make([]*jsonschema.Schema, 0, len(list))
			for i := range list {
				s, err := c.Compile(bodyURL + "#" + ptr + "/oneOf/" + strconv.Itoa(i))
				if err != nil {
					return // the count falls back to what the validator saw
				}
				branches = append(branches, s)
			}
			if b.oneOf == nil {
				b.oneOf = map[string][]*jsonschema.Schema{}
			}
			b.oneOf[ptr] = branches
		}
		for k, sub := range v {
			b.compileOneOf(c, sub, ptr+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"))
		}
	case []any:
		for i, sub := range v {
			b.compileOneOf(c, sub, ptr+"/"+strconv.Itoa(i))
		}
	}
}

// jsonAPI decodes bodies for validation. UseNumber keeps big integers
// exact for the validator. It is configured once and never changed, so
// sharing it is safe.
var jsonAPI = sonic.Config{UseNumber: true}.Froze()

// CheckContentType checks that ct (a Content-Type header value) declares
// JSON in UTF-8: application/json or any */*+json, case-insensitive, with
// parameters allowed. It returns the 415 to send, or nil.
func CheckContentType(ct []byte) *problem.Problem {
	mt := ct
	params := []byte(nil)
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		mt, params = ct[:i], ct[i+1:]
	}
	mt = bytes.TrimSpace(mt)
	if !isJSONMediaType(mt) {
		p := problem.UnsupportedMediaType()
		return &p
	}
	for len(params) > 0 {
		var kv []byte
		if i := bytes.IndexByte(params, ';'); i >= 0 {
			kv, params = params[:i], params[i+1:]
		} else {
			kv, params = params, nil
		}
		k, v, _ := bytes.Cut(kv, []byte("="))
		if !bytes.EqualFold(bytes.TrimSpace(k), []byte("charset")) {
			continue
		}
		v = bytes.Trim(bytes.TrimSpace(v), `"`)
		if !bytes.EqualFold(v, []byte("utf-8")) && !bytes.EqualFold(v, []byte("utf8")) {
			p := problem.UnsupportedCharset(strings.ToLower(string(v)))
			return &p
		}
	}
	return nil
}

func isJSONMediaType(mt []byte) bool {
	if bytes.EqualFold(mt, []byte("application/json")) {
		return true
	}
	slash := bytes.IndexByte(mt, '/')
	if slash <= 0 || len(mt) < len("+json") {
		return false
	}
	return bytes.EqualFold(mt[len(mt)-5:], []byte("+json")) && len(mt)-5 > slash+1
}

// Validate parses body and validates it. It returns nil when the body is
// valid, the 400 for malformed JSON, or the 422 listing every violation.
// The body itself is never re-encoded: the host receives the original
// bytes.
func (b *Body) Validate(body []byte) *problem.Problem {
	if len(bytes.TrimSpace(body)) == 0 {
		p := problem.Validation([]problem.Entry{problem.Missing().At([]problem.Loc{problem.Key("body")}, nil)})
		return &p
	}
	if b.fast != nil {
		// One pass decides the depth and the verdict.
		switch err := b.fast.CheckDepth(body, b.maxDepth); {
		case err == nil:
			return nil
		case errors.Is(err, validate.ErrTooDeep):
			p := problem.TooDeep(b.maxDepth)
			return &p
		case errors.Is(err, validate.ErrMalformed):
			p := problem.MalformedJSON()
			return &p
		}
	} else if TooDeep(body, b.maxDepth) {
		p := problem.TooDeep(b.maxDepth)
		return &p
	}
	var v any
	if err := jsonAPI.Unmarshal(body, &v); err != nil {
		p := problem.MalformedJSON()
		return &p
	}
	err := b.schema.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		p := problem.Validation([]problem.Entry{problem.Keyword("", err.Error()).At([]problem.Loc{problem.Key("body")}, nil)})
		return &p
	}
	entries := b.flatten(ve, v, nil)
	if len(entries) == 0 {
		entries = append(entries, problem.Keyword("", "Value error").At([]problem.Loc{problem.Key("body")}, nil))
	}
	p := problem.Validation(entries)
	return &p
}

// encodeInput renders an instance value for an entry's "input".
func encodeInput(v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return out
}
