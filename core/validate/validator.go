// Package validate compiles a request-body JSON Schema into a validator
// specialised for it, for the subset of JSON Schema that typed models
// produce (types, properties and required, additionalProperties, items
// and prefixItems, enum and const, numeric bounds and multipleOf, string
// lengths, RE2 patterns and common formats, array and object sizes,
// uniqueItems, local $ref with recursion, allOf/anyOf/oneOf). Validation
// is one pass over the document bytes and allocates nothing when the
// document is valid. Schemas outside the subset make Compile return
// ErrUnsupported; the caller validates those with a general validator.
package validate

import (
	"errors"
	"fmt"
	"sync"

	"github.com/spikard/spikard/core/problem"
)

// ErrMalformed is returned by Validate for a document that is not JSON
// (see scan.go for the exact grammar, which requires UTF-8).
var ErrMalformed = errors.New("validate: malformed JSON")

// ErrUndecided is returned by Validate for a well-formed document whose
// answer the compiled validator does not decide: an object repeats a key
// the schema constrains (a decoder keeps only the last value), or
// uniqueItems compares containers or more than 256 items. The caller must
// validate the document with the general validator.
var ErrUndecided = errors.New("validate: document needs the general validator")

// maxProps bounds the properties one object schema may name.
const maxProps = 256

// Validator is a compiled schema. It is immutable and safe for concurrent
// use.
type Validator struct {
	root *node
	// states recycles walker state (location stack, scratch buffers), so
	// a validation allocates nothing once the pool is warm.
	states sync.Pool
}

// Compile compiles a JSON Schema (draft 2020-12; a $schema naming another
// draft is unsupported). It returns an error wrapping ErrUnsupported for a
// schema outside the compiled subset, or another error for a document that
// is not a schema. Formats uuid, date, date-time, time, duration, email,
// uri, iri, ipv4 and ipv6 are asserted.
func Compile(schema []byte) (*Validator, error) {
	doc, err := parseSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("validate: schema is not JSON: %v", err)
	}
	c := &compiler{root: doc, nodes: map[string]*node{}}
	root, err := c.compilePtr("")
	if err != nil {
		return nil, err
	}
	for ptr, n := range c.nodes {
		if len(n.props) > maxProps {
			return nil, unsupported(ptr, "too many properties")
		}
		n.own = n.hasOwn()
	}
	for ptr, n := range c.nodes {
		if err := n.resolveAlias(ptr); err != nil {
			return nil, err
		}
	}
	return &Validator{root: root}, nil
}

// hasOwn reports whether n asserts anything besides its combinators.
func (n *node) hasOwn() bool {
	return n.types != 0 || n.never || n.hasEnum || n.hasConst || n.format != nil ||
		n.props != nil || n.addl != nil || n.addlNo || n.minProps >= 0 || n.maxProps >= 0 ||
		n.prefix != nil || n.items != nil || n.minItems >= 0 || n.maxItems >= 0 || n.unique ||
		n.minLen >= 0 || n.maxLen >= 0 || n.pattern != nil ||
		n.min != nil || n.max != nil || n.exMin != nil || n.exMax != nil || n.multipleOf != nil
}

// isAlias reports whether n is exactly one $ref (or one-branch allOf).
func (n *node) isAlias() bool {
	return !n.own && len(n.allOf) == 1 && len(n.anyOf) == 0 && len(n.oneOf) == 0
}

// resolveAlias points n.alias at the node a chain of bare $refs ends at,
// so the walker follows one pointer.
func (n *node) resolveAlias(ptr string) error {
	if !n.isAlias() {
		return nil
	}
	t := n.allOf[0]
	for steps := 0; t.isAlias(); steps++ {
		if steps > 1000 || t == n {
			return unsupported(ptr, "$ref cycle")
		}
		t = t.allOf[0]
	}
	n.alias = t
	return nil
}

// Validate checks doc against the schema and appends one entry per
// violation to errs, in document order (an object's missing properties
// after its members). It returns errs unchanged when doc is valid,
// ErrMalformed when doc is not JSON, and ErrUndecided (with errs
// unchanged) when the general validator must decide.
func (v *Validator) Validate(doc []byte, errs []problem.Entry) ([]problem.Entry, error) {
	out, _, err := v.run(doc, errs, false, maxDepth)
	return out, err
}

// ErrInvalid is returned by Check for a document that violates the schema.
var ErrInvalid = errors.New("validate: document violates the schema")

// ErrTooDeep is returned by CheckDepth for a document that nests arrays
// and objects deeper than its limit, whether or not the rest is JSON.
var ErrTooDeep = errors.New("validate: document nested too deeply")

// Check is Validate without the entries: it returns nil when doc is valid,
// ErrInvalid, ErrMalformed or ErrUndecided. Once warm it allocates nothing for
// typical documents, failing ones included.
func (v *Validator) Check(doc []byte) error {
	return v.CheckDepth(doc, maxDepth)
}

// CheckDepth is Check for documents that may nest arrays and objects at
// most limit levels deep ({"a":[1]} is 2; limit is at most 10000):
// ErrTooDeep for a deeper one, decided in the same single pass.
func (v *Validator) CheckDepth(doc []byte, limit int) error {
	_, fails, err := v.run(doc, nil, true, limit)
	if err == nil && fails > 0 {
		return ErrInvalid
	}
	return err
}

// run walks doc; quiet counts failures without building entries.
func (v *Validator) run(doc []byte, errs []problem.Entry, quiet bool, limit int) ([]problem.Entry, int, error) {
	st, _ := v.states.Get().(*state)
	if st == nil {
		st = &state{path: make([]step, 0, 16)}
	}
	if limit <= 0 || limit > maxDepth {
		limit = maxDepth
	}
	*st = state{d: doc, errs: errs, path: st.path[:0], spans: st.spans[:0], keys: st.keys[:0], scratch: st.scratch[:0], limit: limit}
	if quiet {
		st.quiet = 1
	}
	end := st.value(v.root, skipWS(doc, 0), 0)
	deep, bad, undec, out, fails := st.deep, st.bad || end < 0 || skipWS(doc, end) != len(doc), st.undec, st.errs, st.fails
	if cap(st.scratch) > 1<<16 {
		st.scratch = nil // do not pin one huge string's buffer
	}
	st.d, st.errs = nil, nil
	v.states.Put(st)
	switch {
	case deep:
		if limit == maxDepth {
			return errs, 0, ErrMalformed // Check's own bound: not JSON it reads
		}
		return errs, 0, ErrTooDeep
	case bad:
		return errs, 0, ErrMalformed
	case undec:
		return errs, 0, ErrUndecided
	}
	return out, fails, nil
}
