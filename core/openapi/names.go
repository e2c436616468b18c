package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Named models. A schema a binding sends (body_schema, response_schema,
// or anything inside them) becomes a component of components/schemas, and
// is replaced by a $ref to it, when it is
//
//   - an object schema with a string "title" and "properties": the title
//     names it (what msgspec, pydantic and dataclasses give a model, and
//     what a Zod object gets from .meta({title})), or
//   - an entry of the schema's top-level "$defs" (how a recursive model
//     travels): its "title" names it, else its key; "#/$defs/<key>"
//     references are rewritten to the component.
//
// A name keeps only the characters a component key may have
// ([A-Za-z0-9._-], others become '_'). The same name with the same schema
// is one component; a different schema under a name already taken gets
// the name plus 2, 3, ... in the order routes were added, so the names
// are stable for a given app.

// registry holds the components of one document.
type registry struct {
	byName map[string]any    // component name -> schema
	canon  map[string]string // component name -> canonical JSON of its schema
	used   map[string]bool   // names referenced by some operation
	order  []string
}

func newRegistry() *registry {
	return &registry{byName: map[string]any{}, canon: map[string]string{}, used: map[string]bool{}}
}

// reserve names one of core's own components (the problem documents),
// emitted only when needed (components).
func (r *registry) reserve(name string, schema map[string]any) {
	r.byName[name] = schema
	r.canon[name] = canonical(schema)
}

// components returns the schemas to emit: every model, and the problem
// components when some route is validated.
func (r *registry) components(validated bool) map[string]any {
	out := map[string]any{}
	for _, name := range r.order {
		out[name] = r.byName[name]
	}
	if validated {
		for _, name := range []string{problemName, validationEntryName, validationName} {
			out[name] = r.byName[name]
		}
	}
	return out
}

// schema decodes a schema and names its models.
func (r *registry) schema(raw []byte) (any, error) {
	v, err := decodeSchema(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return v, nil // true/false schemas
	}
	return r.transform(m)
}

// transform names the models of a decoded schema (see the rule above).
func (r *registry) transform(schema map[string]any) (any, error) {
	refs := map[string]string{}
	if defs, ok := schema["$defs"].(map[string]any); ok {
		schema = shallowCopy(schema)
		delete(schema, "$defs")
		// Names first, so that definitions may refer to one another.
		names := map[string]string{}
		for _, key := range sortedKeys(defs) {
			def, _ := defs[key].(map[string]any)
			name := key
			if t, ok := def["title"].(string); ok && t != "" {
				name = t
			}
			names[key] = r.claim(sanitize(name), def)
			refs["#/$defs/"+key] = "#/components/schemas/" + names[key]
		}
		for _, key := range sortedKeys(defs) {
			def, _ := defs[key].(map[string]any)
			body := r.walk(def, refs, false)
			r.byName[names[key]] = body
			r.canon[names[key]] = canonical(body)
		}
	}
	return r.walk(schema, refs, true), nil
}

// claim returns the component name for a model called name whose schema
// is def: name when free or holding the same schema, else the first free
// name2, name3, ...; the name is taken from then on.
func (r *registry) claim(name string, def any) string {
	c := canonical(def)
	for n := 1; ; n++ {
		candidate := name
		if n > 1 {
			candidate = name + strconv.Itoa(n)
		}
		have, taken := r.canon[candidate]
		if !taken {
			r.byName[candidate] = def
			r.canon[candidate] = c
			r.order = append(r.order, candidate)
			return candidate
		}
		if have == c && !isReserved(candidate) {
			return candidate
		}
	}
}

func isReserved(name string) bool {
	return name == problemName || name == validationName || name == validationEntryName
}

// Keywords whose value is one schema, a list of schemas, or an object of
// schemas by name (JSON Schema 2020-12). Values under any other keyword
// (enum, const, default, examples, ...) are data and are left alone.
var (
	oneSchema   = []string{"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
	listSchemas = []string{"allOf", "anyOf", "oneOf", "prefixItems"}
	mapSchemas  = []string{"properties", "patternProperties", "dependentSchemas", "$defs"}
)

// walk returns node with its models replaced by references; node itself
// becomes one when it is a model and mayName is set (not for the body of
// a component, which would refer to itself).
func (r *registry) walk(node any, refs map[string]string, mayName bool) any {
	m, ok := node.(map[string]any)
	if !ok {
		return node
	}
	out := shallowCopy(m)
	if s, ok := out["$ref"].(string); ok {
		if to, ok := refs[s]; ok {
			out["$ref"] = to
		}
	}
	for _, k := range oneSchema {
		if v, ok := out[k]; ok {
			out[k] = r.walk(v, refs, true)
		}
	}
	for _, k := range listSchemas {
		if list, ok := out[k].([]any); ok {
			next := make([]any, len(list))
			for i, v := range list {
				next[i] = r.walk(v, refs, true)
			}
			out[k] = next
		}
	}
	for _, k := range mapSchemas {
		if sub, ok := out[k].(map[string]any); ok {
			next := make(map[string]any, len(sub))
			for name, v := range sub {
				next[name] = r.walk(v, refs, true)
			}
			out[k] = next
		}
	}
	title, titled := out["title"].(string)
	_, hasProps := out["properties"].(map[string]any)
	if mayName && titled && title != "" && hasProps {
		name := r.claim(sanitize(title), out)
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return out
}

// sanitize keeps the characters a component name may have.
func sanitize(name string) string {
	var b strings.Builder
	for _, c := range name {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "Model"
	}
	return b.String()
}

// decodeSchema reads a schema keeping numbers as written.
func decodeSchema(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	return v, nil
}

// canonical is v as compact JSON with sorted keys: equal schemas, equal
// strings.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func shallowCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
