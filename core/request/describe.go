package request

import (
	"bytes"
	"encoding/json"
)

// ParamDoc describes one parameter of a Plan for documentation (the
// OpenAPI document of core/openapi): where it comes from, its name on the
// wire and the JSON Schema a value must satisfy.
type ParamDoc struct {
	Name     string // the name on the wire: query key, header name (lower case), cookie or placeholder name
	In       string // "path", "query", "header" or "cookie"
	Required bool
	// Schema is the declared property schema without the keywords that are
	// Spikard's ("source", "alias", "separator", a boolean "required"), as
	// compact JSON; for a placeholder no schema declares, the schema its
	// kind implies ({"type":"integer"} for {x:int}).
	Schema []byte
	// Separator is the byte an array's values are joined with in one query
	// value (colors=red,green), or 0 when every value is its own pair.
	Separator byte
	// AnyValue: core takes whatever value arrives (a {name} or {name:path}
	// placeholder no schema declares), so this parameter is never a 422.
	AnyValue bool
}

// spikardKeywords are the property keywords of a parameter_schema that are
// not JSON Schema.
var spikardKeywords = []string{"source", "alias", "separator"}

// Describe returns the plan's parameters in extraction order. It allocates
// and is meant for start-up, never for a request.
func (p *Plan) Describe() []ParamDoc {
	if p == nil {
		return nil
	}
	out := make([]ParamDoc, 0, len(p.fields))
	for i := range p.fields {
		f := &p.fields[i]
		d := ParamDoc{Name: f.wire, In: locNames[f.src], Required: f.required}
		if f.src == FromHeader {
			d.In = "header"
		}
		if f.typ == tArray {
			d.Separator = f.separator
		}
		d.Schema = cleanParamSchema(f)
		d.AnyValue = f.doc == nil && f.typ == tString && f.format == ""
		out = append(out, d)
	}
	return out
}

// cleanParamSchema is f's declared schema without Spikard's keywords, or
// the schema of an undeclared placeholder.
func cleanParamSchema(f *field) []byte {
	if f.doc == nil {
		switch {
		case f.typ == tInteger:
			return []byte(`{"type":"integer"}`)
		case f.format == "uuid":
			return []byte(`{"type":"string","format":"uuid"}`)
		}
		return []byte(`{"type":"string"}`)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(f.doc, &m) != nil {
		return []byte(`{}`)
	}
	for _, k := range spikardKeywords {
		delete(m, k)
	}
	if r, ok := m["required"]; ok && !bytes.HasPrefix(bytes.TrimSpace(r), []byte("[")) {
		delete(m, "required") // the draft-3 boolean spelling, not JSON Schema 2020-12
	}
	out, err := json.Marshal(m) // keys sorted: the same bytes whatever order a binding wrote
	if err != nil {
		return []byte(`{}`)
	}
	return out
}

// FileDoc describes one declared upload field of FileRules.
type FileDoc struct {
	Name     string
	Required bool
	Types    []string // allowed media types, lower case; empty: any
}

// Describe returns the declared upload fields, sorted by name.
func (fr *FileRules) Describe() []FileDoc {
	if fr == nil {
		return nil
	}
	out := make([]FileDoc, 0, len(fr.rules))
	for _, r := range fr.rules {
		out = append(out, FileDoc{Name: r.name, Required: r.required, Types: append([]string(nil), r.types...)})
	}
	return out
}
