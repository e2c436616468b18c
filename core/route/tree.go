// The route tree has one node per pattern segment position. A node's
// children are split by segment kind: literal children (matched by exact
// text) and at most one child each for {x:int}, {x:uuid}, {x} and
// {x:path}. Placeholder names do not live in the tree: two routes may name
// the same position differently ("/u/{id}" GET, "/u/{uid}" POST), so a
// match yields positional captures and the caller names them from the
// route's own Pattern.
//
// A node that ends a pattern holds a route handle per method. Matching is
// a depth-first search trying, at each position, literal > typed > {x} >
// {x:path}; it backtracks because a more specific child may dead-end
// deeper down ("/a/{id:int}/x" vs "/a/{name}/y" for "/a/7/y").

package route

import (
	"fmt"
	"strings"
)

// Method indexes the HTTP methods a route may declare.
type Method uint8

// Methods a route may declare.
const (
	GET Method = iota
	POST
	PUT
	PATCH
	DELETE
	HEAD
	OPTIONS
	TRACE
	numMethods
)

var methodNames = [numMethods]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"}

// String returns the method's name.
func (m Method) String() string {
	if m < numMethods {
		return methodNames[m]
	}
	return "?"
}

// ParseMethod maps a method name (exact, upper-case) to its Method. It does
// not allocate, so the server calls it per request.
func ParseMethod(b []byte) (Method, bool) {
	switch string(b) {
	case "GET":
		return GET, true
	case "POST":
		return POST, true
	case "PUT":
		return PUT, true
	case "PATCH":
		return PATCH, true
	case "DELETE":
		return DELETE, true
	case "HEAD":
		return HEAD, true
	case "OPTIONS":
		return OPTIONS, true
	case "TRACE":
		return TRACE, true
	}
	return 0, false
}

// Tree is a route table. Insert is not safe for concurrent use; once
// inserting is over, Match is safe for concurrent use and allocates
// nothing.
type Tree struct {
	root node
}

type node struct {
	lits  []*node // literal children, text in lit
	lit   string
	int_  *node
	uuid  *node
	any   *node
	rest  *node
	leaf  bool
	mask  uint16 // bit m set when routes[m] is a route
	allow string // Allow header value for mask
	route [numMethods]int32
}

func newNode() *node {
	n := &node{}
	for i := range n.route {
		n.route[i] = -1
	}
	return n
}

// Insert adds handle for (m, p). It fails when the same method is already
// registered for an equivalent pattern.
func (t *Tree) Insert(m Method, p Pattern, handle int32) error {
	if m >= numMethods {
		return fmt.Errorf("route: unknown method %d", m)
	}
	if handle < 0 {
		return fmt.Errorf("route: negative handle")
	}
	if t.root.route[0] == 0 && t.root.mask == 0 && !t.root.leaf {
		// The zero Tree is valid: initialise the root's handles lazily.
		for i := range t.root.route {
			t.root.route[i] = -1
		}
	}
	n := &t.root
	for _, s := range p.Segments {
		var next **node
		switch s.Kind {
		case Literal:
			var found *node
			for _, c := range n.lits {
				if c.lit == s.Text {
					found = c
					break
				}
			}
			if found == nil {
				found = newNode()
				found.lit = s.Text
				n.lits = append(n.lits, found)
			}
			n = found
			continue
		case Int:
			next = &n.int_
		case UUID:
			next = &n.uuid
		case Any:
			next = &n.any
		case Rest:
			next = &n.rest
		}
		if *next == nil {
			*next = newNode()
		}
		n = *next
	}
	if n.route[m] >= 0 {
		return fmt.Errorf("route: %s %s conflicts with an earlier route", m, p.Raw)
	}
	n.leaf = true
	n.route[m] = handle
	n.mask |= 1 << m
	n.allow = AllowHeader(n.mask)
	return nil
}

// AllowHeader formats a method mask as an Allow header value, adding HEAD
// when GET is present since a GET route also answers HEAD.
func AllowHeader(mask uint16) string {
	if mask&(1<<GET) != 0 {
		mask |= 1 << HEAD
	}
	var b strings.Builder
	for m := Method(0); m < numMethods; m++ {
		if mask&(1<<m) != 0 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(methodNames[m])
		}
	}
	return b.String()
}
