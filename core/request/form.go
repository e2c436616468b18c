package request

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/spikard/spikard/core/problem"
)

// Form and multipart bodies arrive as flat name/value pairs; hosts want the
// same JSON object a JSON body would give. This file turns pairs into a
// tree (repeated names become arrays, bracket names a[b][0][] nest), then
// writes that tree as JSON, coercing each string to the type the route's
// body schema gives its position. The JSON is then validated like a JSON
// body, so forms, multipart and JSON share one validation path.

// Shape is the part of a body schema that form decoding needs: which JSON
// type each position has and which positions are files. It is compiled
// once per route and immutable afterwards.
type Shape struct {
	kind  shapeKind
	items *Shape            // array items
	props map[string]*Shape // object properties (read-only after compile)
	extra *Shape            // additionalProperties, or nil
}

type shapeKind uint8

const (
	sAny shapeKind = iota
	sString
	sInteger
	sNumber
	sBoolean
	sArray
	sObject
	sFile // {"type":"string","format":"binary"}: an uploaded file
)

// maxShapeDepth bounds schema nesting (and recursive $refs) at compile time.
const maxShapeDepth = 32

// CompileShape derives the form shape of a body schema. Unknown or
// unsupported keywords only make positions untyped (values stay strings);
// it fails only on a document that is not JSON.
func CompileShape(schema []byte) (*Shape, error) {
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, fmt.Errorf("body_schema: %v", err)
	}
	return shapeOf(root, root, 0), nil
}

func shapeOf(root, node any, depth int) *Shape {
	s := &Shape{}
	m, ok := node.(map[string]any)
	if !ok || depth > maxShapeDepth {
		return s
	}
	if ref, ok := m["$ref"].(string); ok {
		if target := resolveRef(root, ref); target != nil {
			return shapeOf(root, target, depth+1)
		}
	}
	typ := ""
	switch t := m["type"].(type) {
	case string:
		typ = t
	case []any:
		for _, x := range t {
			if ts, ok := x.(string); ok && ts != "null" {
				typ = ts
				break
			}
		}
	}
	if typ == "" {
		// A union (Optional[X] is anyOf [X, null]) takes its first
		// non-null branch; allOf its first member.
		for _, kw := range [...]string{"anyOf", "oneOf", "allOf"} {
			if branches, ok := m[kw].([]any); ok {
				for _, b := range branches {
					if bm, ok := b.(map[string]any); ok && bm["type"] == "null" {
						continue
					}
					if sub := shapeOf(root, b, depth+1); sub.kind != sAny {
						return sub
					}
				}
			}
		}
		switch {
		case m["properties"] != nil:
			typ = "object"
		case m["items"] != nil:
			typ = "array"
		}
	}
	switch typ {
	case "string":
		s.kind = sString
		if m["format"] == "binary" {
			s.kind = sFile
		}
	case "integer":
		s.kind = sInteger
	case "number":
		s.kind = sNumber
	case "boolean":
		s.kind = sBoolean
	case "array":
		s.kind = sArray
		s.items = shapeOf(root, m["items"], depth+1)
	case "object":
		s.kind = sObject
		if props, ok := m["properties"].(map[string]any); ok {
			s.props = make(map[string]*Shape, len(props))
			for k, v := range props {
				s.props[k] = shapeOf(root, v, depth+1)
			}
		}
		if ap, ok := m["additionalProperties"].(map[string]any); ok {
			s.extra = shapeOf(root, ap, depth+1)
		}
	}
	return s
}

// resolveRef follows a local JSON pointer ("#/$defs/Item").
func resolveRef(root any, ref string) any {
	if len(ref) < 1 || ref[0] != '#' {
		return nil
	}
	cur := root
	for _, tok := range bytes.Split([]byte(ref[1:]), []byte("/")) {
		if len(tok) == 0 {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		tok = bytes.ReplaceAll(bytes.ReplaceAll(tok, []byte("~1"), []byte("/")), []byte("~0"), []byte("~"))
		cur = m[string(tok)]
	}
	return cur
}

func (s *Shape) child(key []byte) *Shape {
	if s == nil {
		return nil
	}
	if s.props != nil {
		if c, ok := s.props[string(key)]; ok {
			return c
		}
	}
	return s.extra
}

func (s *Shape) kindOf() shapeKind {
	if s == nil {
		return sAny
	}
	return s.kind
}

// FormScratch holds one request's decoding buffers. It is reused across
// requests (owned by the exchange), so steady traffic allocates little.
type FormScratch struct {
	nodes []fnode
	dec   []byte // decoded keys and values
	out   []byte // the event body
	vdoc  []byte // the validation document when it differs from out
	order []int32
	path  []step // location of the value being written
	valid bool   // writing the validation document
	parts []Part
	index map[childKey]int32 // child lookup for wide nodes
	coerc []problem.Entry
}

// span is a range of FormScratch.dec.
type span struct{ off, len int32 }

type nodeKind uint8

const (
	nLeaf nodeKind = iota
	nObject
	nArray
)

// fnode is one node of the decoded tree. Children form a linked list in
// insertion order.
type fnode struct {
	kind              nodeKind
	key               span  // name in the parent object
	idx               int32 // explicit index in the parent array, -1 if none
	val               span  // leaf value
	file              int32 // leaf: 1+index into parts when a file, else 0
	first, last, next int32 // children (0: none; node 0 is the root)
	n                 int32 // number of children
}

type childKey struct {
	parent int32
	key    string
}

// wideNode is the child count from which lookups go through the index map
// rather than a scan, keeping huge flat forms linear.
const wideNode = 16

func (sc *FormScratch) reset() {
	sc.nodes = append(sc.nodes[:0], fnode{kind: nObject, idx: -1})
	sc.dec = sc.dec[:0]
	sc.out = sc.out[:0]
	sc.vdoc = sc.vdoc[:0]
	sc.parts = sc.parts[:0]
	sc.coerc = sc.coerc[:0]
	sc.order = sc.order[:0]
	sc.path = sc.path[:0]
	if len(sc.index) > 0 {
		clear(sc.index)
	}
}

func (sc *FormScratch) bytesOf(s span) []byte { return sc.dec[s.off : s.off+s.len] }

func (sc *FormScratch) addNode(parent int32, n fnode) int32 {
	id := int32(len(sc.nodes))
	sc.nodes = append(sc.nodes, n)
	p := &sc.nodes[parent]
	if p.first == 0 {
		p.first = id
	} else {
		sc.nodes[p.last].next = id
	}
	p.last = id
	p.n++
	if p.kind == nObject && p.n >= wideNode {
		if sc.index == nil {
			sc.index = make(map[childKey]int32)
		}
		if p.n == wideNode {
			for c := p.first; c != 0; c = sc.nodes[c].next {
				sc.index[childKey{parent, string(sc.bytesOf(sc.nodes[c].key))}] = c
			}
		} else {
			sc.index[childKey{parent, string(sc.bytesOf(n.key))}] = id
		}
	}
	return id
}

// findKey returns parent's child named key, or 0.
func (sc *FormScratch) findKey(parent int32, key []byte) int32 {
	p := &sc.nodes[parent]
	if p.n >= wideNode {
		return sc.index[childKey{parent, string(key)}]
	}
	for c := p.first; c != 0; c = sc.nodes[c].next {
		if bytes.Equal(sc.bytesOf(sc.nodes[c].key), key) {
			return c
		}
	}
	return 0
}

// findIndex returns parent's child with explicit index i, or 0.
func (sc *FormScratch) findIndex(parent, i int32) int32 {
	for c := sc.nodes[parent].first; c != 0; c = sc.nodes[c].next {
		if sc.nodes[c].idx == i {
			return c
		}
	}
	return 0
}

// maxFormDepth bounds bracket nesting, so a hostile name cannot make the
// JSON (and its validation) arbitrarily deep.
const maxFormDepth = 32

// maxFormIndex bounds explicit array indexes so a[999999999] cannot make
// anything large; larger ones are taken as object keys.
const maxFormIndex = 10000

// segment is one step of a bracketed name: a key, an index, or "[]".
// key is the text between the brackets (the digits for an index), which
// is how an index is named when its parent turns out to be an object.
type segment struct {
	key    []byte
	idx    int32 // >= 0 for [n]
	append bool  // []
}

// nextSegment splits the first segment off rest ("[b][0]" → b, "[0]").
// ok is false when rest does not start with a [..] group.
func nextSegment(rest []byte) (seg segment, tail []byte, ok bool) {
	if len(rest) < 2 || rest[0] != '[' {
		return seg, nil, false
	}
	end := bytes.IndexByte(rest, ']')
	if end < 0 {
		return seg, nil, false
	}
	inner := rest[1:end]
	seg.idx = -1
	seg.key = inner
	switch {
	case len(inner) == 0:
		seg.append = true
	case isIndex(inner):
		n, _ := strconv.Atoi(bstr(inner))
		seg.idx = int32(n)
	}
	return seg, rest[end+1:], true
}

func isIndex(b []byte) bool {
	if len(b) == 0 || len(b) > 5 {
		return false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= maxFormIndex && (len(b) == 1 || b[0] != '0')
}

// bracketed reports whether name is a non-empty base followed only by
// well-formed [..] groups (at most maxFormDepth), and where the groups
// start. Other names ("a[b", "[x]", "a]b") are taken literally.
func bracketed(name []byte) (int, bool) {
	i := bytes.IndexByte(name, '[')
	if i <= 0 {
		return 0, false
	}
	rest := name[i:]
	for n := 0; len(rest) > 0; n++ {
		var ok bool
		if _, rest, ok = nextSegment(rest); !ok || n == maxFormDepth {
			return 0, false
		}
	}
	return i, true
}

// insert adds one pair: a name (decoded, in dec) with a leaf value or a
// file. Pairs whose structure conflicts with earlier pairs (a=1 then
// a[b]=2) are dropped: the first structure wins. insert never grows dec,
// so sub-slices of the name stay valid and map back to spans.
func (sc *FormScratch) insert(name span, val span, file int32) {
	full := sc.bytesOf(name)
	spanIn := func(b []byte) span {
		return span{name.off + int32(cap(full)-cap(b)), int32(len(b))}
	}
	var (
		cur  int32 // container we descend from
		seg  = segment{key: full, idx: -1}
		rest []byte
	)
	if i, ok := bracketed(full); ok {
		seg.key, rest = full[:i], full[i:]
	}
	for {
		var next segment
		last := len(rest) == 0
		if !last {
			next, rest, _ = nextSegment(rest)
		}
		want := nLeaf
		if !last {
			want = nObject
			if next.append || next.idx >= 0 {
				want = nArray
			}
		}
		child := sc.locate(cur, seg)
		switch {
		case child < 0:
			return // conflict
		case child == 0:
			n := fnode{kind: want, idx: -1}
			if sc.nodes[cur].kind == nObject {
				n.key = spanIn(seg.key)
			} else {
				n.idx = seg.idx
			}
			if last {
				n.val, n.file = val, file
			}
			child = sc.addNode(cur, n)
			if last {
				return
			}
		case last:
			sc.repeat(child, val, file)
			return
		case sc.nodes[child].kind == nLeaf:
			return // a=1 then a[b]=2
		}
		// An existing container of the other kind is kept: a later
		// segment that does not fit it is dropped by locate.
		cur, seg = child, next
	}
}

// locate finds cur's child for seg: its id, 0 if absent, -1 on conflict.
func (sc *FormScratch) locate(cur int32, seg segment) int32 {
	switch sc.nodes[cur].kind {
	case nObject:
		if seg.append {
			return -1
		}
		return sc.findKey(cur, seg.key)
	case nArray:
		switch {
		case seg.append:
			return 0
		case seg.idx >= 0:
			return sc.findIndex(cur, seg.idx)
		}
	}
	return -1
}

// repeat records another value for an existing node: a leaf becomes an
// array of leaves; an array of leaves grows; an object keeps its shape.
func (sc *FormScratch) repeat(id int32, val span, file int32) {
	n := &sc.nodes[id]
	switch n.kind {
	case nLeaf:
		first := fnode{kind: nLeaf, idx: -1, val: n.val, file: n.file}
		n.kind, n.val, n.file = nArray, span{}, 0
		sc.addNode(id, first)
	case nObject:
		return
	}
	sc.addNode(id, fnode{kind: nLeaf, idx: -1, val: val, file: file})
}

// DecodeForm parses an application/x-www-form-urlencoded body into a JSON
// object shaped by s (nil: every value stays a string). It returns the
// JSON, aliasing sc, and the coercion errors (loc ["body", ...]); the
// caller validates the JSON and combines both with MergeCoercion.
func (s *Shape) DecodeForm(body []byte, sc *FormScratch) ([]byte, []problem.Entry) {
	sc.reset()
	forEachPair(body, func(k, v []byte) {
		koff := len(sc.dec)
		sc.dec = decodeQuery(sc.dec, k)
		voff := len(sc.dec)
		sc.dec = decodeQuery(sc.dec, v)
		sc.insert(span{int32(koff), int32(voff - koff)}, span{int32(voff), int32(len(sc.dec) - voff)}, 0)
	})
	return s.finish(sc)
}

func (s *Shape) finish(sc *FormScratch) ([]byte, []problem.Entry) {
	sc.valid = false
	sc.out = sc.emit(sc.out, 0, s, false)
	return sc.out, sc.coerc
}

// emit appends node id as JSON. valid selects the validation document,
// where files at file-typed positions become "" so that a schema's
// {"type":"string","format":"binary"} accepts them.
func (sc *FormScratch) emit(dst []byte, id int32, s *Shape, valid bool) []byte {
	n := &sc.nodes[id]
	switch n.kind {
	case nObject:
		dst = append(dst, '{')
		first := true
		for c := n.first; c != 0; c = sc.nodes[c].next {
			key := sc.bytesOf(sc.nodes[c].key)
			cs := s.child(key)
			if sc.omitted(c, cs) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = problem.AppendString(dst, bstr(key))
			dst = append(dst, ':')
			dst = sc.emitAt(dst, c, cs, valid)
		}
		return append(dst, '}')
	case nArray:
		k := s.kindOf()
		if k != sArray && k != sAny && k != sObject && sc.allLeaves(id) {
			// Several values for a single-valued field: the last wins,
			// as in Starlette's form handling.
			return sc.emit(dst, n.last, s, valid)
		}
		var items *Shape
		if s != nil {
			items = s.items
		}
		dst = append(dst, '[')
		list, start := sc.ordered(id)
		for i, c := range list {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = sc.emitItem(dst, c, items, valid, i)
		}
		sc.order = sc.order[:start]
		return append(dst, ']')
	}
	// Leaf.
	if s.kindOf() == sArray {
		dst = append(dst, '[')
		dst = sc.emitItem(dst, id, s.items, valid, 0)
		return append(dst, ']')
	}
	return sc.leaf(dst, id, s, valid)
}

// emitAt and emitItem track where the value being written sits, so a
// coercion error can name it; the location is only built on error.
func (sc *FormScratch) emitAt(dst []byte, id int32, s *Shape, valid bool) []byte {
	sc.path = append(sc.path, step{node: id, index: -1})
	dst = sc.emit(dst, id, s, valid)
	sc.path = sc.path[:len(sc.path)-1]
	return dst
}

func (sc *FormScratch) emitItem(dst []byte, id int32, s *Shape, valid bool, i int) []byte {
	sc.path = append(sc.path, step{node: id, index: i})
	dst = sc.emit(dst, id, s, valid)
	sc.path = sc.path[:len(sc.path)-1]
	return dst
}

// step is one level of the location being written: an object member
// (index -1, named by node's key) or an array item.
type step struct {
	node  int32
	index int
}

// coercionError records that the value v at the current location does
// not parse as typ ("integer", "number", "boolean"): pydantic's parse
// error, as for the same string in a query. The value is still written as
// a string; the validator's own complaint about that position is dropped
// in favour of this one by MergeCoercion.
func (sc *FormScratch) coercionError(typ string, v []byte) {
	if sc.valid {
		return // reported by the event-body pass
	}
	loc := make([]problem.Loc, 0, len(sc.path)+1)
	loc = append(loc, problem.Key("body"))
	for _, st := range sc.path {
		if st.index >= 0 {
			loc = append(loc, problem.Index(st.index))
		} else {
			loc = append(loc, problem.Key(string(sc.bytesOf(sc.nodes[st.node].key))))
		}
	}
	sc.coerc = append(sc.coerc, problem.Parsing(typ).At(loc, problem.AppendString(nil, string(v))))
}

// MarkFormMissing sets the input of every body field reported missing
// from a form (url-encoded or multipart) body to "required": the client
// sent no JSON object, so echoing the object rebuilt from its fields
// would show something it never sent; the entry names the broken rule.
func MarkFormMissing(entries []problem.Entry) {
	for i := range entries {
		e := &entries[i]
		if e.Type == "missing" && len(e.Loc) > 1 && e.Loc[0] == problem.Key("body") {
			e.Input = []byte(`"required"`)
		}
	}
}

// MergeCoercion combines coercion errors with the validator's entries
// for the same document: a position that failed coercion keeps only the
// coercion error.
func MergeCoercion(coerc, validation []problem.Entry) []problem.Entry {
	if len(coerc) == 0 {
		return validation
	}
	out := append([]problem.Entry(nil), coerc...)
	for _, e := range validation {
		dup := false
		for i := range coerc {
			if sameLoc(coerc[i].Loc, e.Loc) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

func sameLoc(a, b []problem.Loc) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// omitted reports whether child c is dropped from its object: an empty
// string for a number or boolean field means "not given", as browsers
// send empty inputs, so defaults and "missing" apply (FastAPI's rule).
func (sc *FormScratch) omitted(c int32, s *Shape) bool {
	n := &sc.nodes[c]
	if n.kind != nLeaf || n.file != 0 || n.val.len != 0 {
		return false
	}
	switch s.kindOf() {
	case sInteger, sNumber, sBoolean, sFile:
		return true
	}
	return false
}

func (sc *FormScratch) allLeaves(id int32) bool {
	for c := sc.nodes[id].first; c != 0; c = sc.nodes[c].next {
		if sc.nodes[c].kind != nLeaf {
			return false
		}
	}
	return true
}

// ordered lists id's children, sorted by explicit index when every child
// has one (a[1]=x&a[0]=y), else in arrival order. The list lives in
// sc.order from start on; the caller truncates order back to start when
// done (nested calls only append after the list, and if that moves
// order the list still reads the old, unchanged array).
func (sc *FormScratch) ordered(id int32) ([]int32, int) {
	start := len(sc.order)
	indexed := true
	for c := sc.nodes[id].first; c != 0; c = sc.nodes[c].next {
		sc.order = append(sc.order, c)
		if sc.nodes[c].idx < 0 {
			indexed = false
		}
	}
	list := sc.order[start:len(sc.order):len(sc.order)]
	if indexed {
		for i := 1; i < len(list); i++ {
			for j := i; j > 0 && sc.nodes[list[j]].idx < sc.nodes[list[j-1]].idx; j-- {
				list[j], list[j-1] = list[j-1], list[j]
			}
		}
	}
	return list, start
}

// leaf appends one value: a file descriptor, or a string coerced to s.
func (sc *FormScratch) leaf(dst []byte, id int32, s *Shape, valid bool) []byte {
	n := &sc.nodes[id]
	if n.file != 0 {
		if valid && s.kindOf() == sFile {
			return append(dst, `""`...)
		}
		return sc.parts[n.file-1].appendDescriptor(dst)
	}
	v := sc.bytesOf(n.val)
	switch s.kindOf() {
	case sInteger:
		if i, err := strconv.ParseInt(bstr(trimPlus(v)), 10, 64); err == nil {
			return strconv.AppendInt(dst, i, 10)
		}
		sc.coercionError("integer", v)
	case sNumber:
		if f, err := strconv.ParseFloat(bstr(v), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return strconv.AppendFloat(dst, f, 'g', -1, 64)
		}
		sc.coercionError("number", v)
	case sBoolean:
		if b, ok := parseBool(v); ok {
			return strconv.AppendBool(dst, b)
		}
		sc.coercionError("boolean", v)
	}
	return problem.AppendString(dst, bstr(v))
}
