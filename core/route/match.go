package route

// Span is a captured placeholder value: path[Start:End].
type Span struct{ Start, End int32 }

// Captures holds the placeholder values of one match, in pattern order. A
// caller keeps one per request (it is a fixed-size array) so matching does
// not allocate.
type Captures struct {
	N     int
	Spans [MaxParams]Span
}

// Outcome says how a path matched.
type Outcome uint8

// Match outcomes.
const (
	NotFound         Outcome = iota // no pattern matches the path: 404
	Found                           // Route is the handle
	MethodNotAllowed                // the path matches, the method does not: 405, see Allow
	// Mismatch: no pattern matches, but one would if its typed
	// placeholders ({x:int}, {x:uuid}) took any segment. Route and the
	// captures are set, so that the caller can report the placeholder's
	// parse error (a 422) instead of a 404.
	Mismatch
)

// Result is the result of Tree.Match.
type Result struct {
	Outcome Outcome
	Route   int32
	// HeadFromGet is set when a HEAD request is served by the GET route;
	// the server must send headers but no body.
	HeadFromGet bool
	// Allow lists the allowed methods when Outcome is MethodNotAllowed.
	Allow string
}

// Match finds the route for method m and path (which must start with '/').
// Captures are written to caps. It allocates nothing.
func (t *Tree) Match(m Method, path string, caps *Captures) Result {
	caps.N = 0
	if len(path) == 0 || path[0] != '/' {
		return Result{Outcome: NotFound}
	}
	var mr matcher
	mr.path = path
	mr.root = &t.root
	mr.caps = caps
	mr.method = m
	// An unknown method (m >= numMethods) can only be a 405 or a 404.
	if n := mr.find(m); n != nil {
		r := n.route[m]
		head := false
		if r < 0 {
			r = n.route[GET]
			head = true
		}
		return Result{Outcome: Found, Route: r, HeadFromGet: head}
	}
	// No route for this method: collect the methods of every pattern the
	// path matches, for the 405's Allow header. This is the slow path.
	mr.collect = true
	mr.walk(&t.root, 1, 0)
	caps.N = 0
	if mr.mask == 0 {
		// Nothing matches at all: look again with typed placeholders
		// taking any segment, for the route the client most likely meant.
		mr.collect, mr.loose = false, true
		if n := mr.find(m); n != nil {
			r := n.route[m]
			if r < 0 {
				r = n.route[GET]
			}
			return Result{Outcome: Mismatch, Route: r, HeadFromGet: m == HEAD && n.route[m] < 0}
		}
		caps.N = 0
		return Result{Outcome: NotFound}
	}
	allow := mr.allow
	if mr.multi {
		allow = AllowHeader(mr.mask)
	}
	return Result{Outcome: MethodNotAllowed, Route: -1, Allow: allow}
}

// find runs the search for a known method.
func (mr *matcher) find(m Method) *node {
	if m >= numMethods {
		return nil
	}
	return mr.walk(mr.root, 1, 0)
}

type matcher struct {
	root    *node
	path    string
	caps    *Captures
	method  Method
	collect bool // gather methods from all matching leaves instead of stopping
	loose   bool // typed placeholders take any non-empty segment
	mask    uint16
	allow   string
	multi   bool
}

// accepts reports whether leaf n ends the search.
func (mr *matcher) accepts(n *node) bool {
	if !n.leaf {
		return false
	}
	if mr.collect {
		if mr.mask != 0 && mr.mask != n.mask {
			mr.multi = true
		}
		mr.mask |= n.mask
		mr.allow = n.allow
		return false
	}
	if n.route[mr.method] >= 0 {
		return true
	}
	return mr.method == HEAD && n.route[GET] >= 0
}

// walk matches the segment starting at pos (just after a '/') against the
// children of n. k is the number of captures so far. It returns the leaf
// that accepted the request, or nil.
func (mr *matcher) walk(n *node, pos int, k int) *node {
	path := mr.path
	if pos > len(path) {
		return nil
	}
	end := pos
	for end < len(path) && path[end] != '/' {
		end++
	}
	seg := path[pos:end]
	last := end == len(path)

	// The root pattern "/" has no segments: it is the root node itself.
	if pos == 1 && len(path) == 1 && mr.accepts(n) {
		mr.caps.N = k
		return n
	}
	for _, c := range n.lits {
		if c.lit == seg {
			if r := mr.next(c, end, last, k); r != nil {
				return r
			}
		}
	}
	if n.int_ != nil && (isInt(seg) || mr.loose && seg != "") && k < MaxParams {
		mr.caps.Spans[k] = Span{int32(pos), int32(end)}
		if r := mr.next(n.int_, end, last, k+1); r != nil {
			return r
		}
	}
	if n.uuid != nil && (isUUID(seg) || mr.loose && seg != "") && k < MaxParams {
		mr.caps.Spans[k] = Span{int32(pos), int32(end)}
		if r := mr.next(n.uuid, end, last, k+1); r != nil {
			return r
		}
	}
	if n.any != nil && seg != "" && k < MaxParams {
		mr.caps.Spans[k] = Span{int32(pos), int32(end)}
		if r := mr.next(n.any, end, last, k+1); r != nil {
			return r
		}
	}
	if n.rest != nil && k < MaxParams && mr.accepts(n.rest) {
		mr.caps.Spans[k] = Span{int32(pos), int32(len(path))}
		mr.caps.N = k + 1
		return n.rest
	}
	return nil
}

func (mr *matcher) next(c *node, end int, last bool, k int) *node {
	if last {
		if mr.accepts(c) {
			mr.caps.N = k
			return c
		}
		return nil
	}
	return mr.walk(c, end+1, k)
}

func isInt(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUUID accepts the canonical 8-4-4-4-12 hex form, any case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
