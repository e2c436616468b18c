package openapi

import "strconv"

// Security schemes (components/securitySchemes) from the routes' guards:
// one "bearerAuth" for every route that takes a JWT, and one apiKey scheme
// per distinct place a key is read from, named "apiKeyHeader" and
// "apiKeyQuery" (then "apiKeyHeader2", ... for a route whose own config
// reads another header), in route order, so the names are stable.

// schemes names the security schemes of one document as routes need them.
type schemes struct {
	byName map[string]any
	names  map[Credential]string
	next   map[string]int // base name -> the suffix the next one takes
}

func newSchemes() *schemes {
	return &schemes{byName: map[string]any{}, names: map[Credential]string{}, next: map[string]int{}}
}

// requirements is an operation's security: any one of creds will do, so
// each is a Security Requirement Object of its own.
func (s *schemes) requirements(creds []Credential) []any {
	out := make([]any, 0, len(creds))
	for _, c := range creds {
		out = append(out, map[string]any{s.name(c): []any{}})
	}
	return out
}

// name is c's scheme name, defining the scheme the first time.
func (s *schemes) name(c Credential) string {
	if n, ok := s.names[c]; ok {
		return n
	}
	var base string
	var scheme map[string]any
	if c.Kind == "bearer" {
		// Every JWT config reads the same header: one scheme serves all.
		c = Credential{Kind: "bearer"}
		if n, ok := s.names[c]; ok {
			return n
		}
		base = "bearerAuth"
		scheme = map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
	} else {
		base = "apiKeyHeader"
		if c.In == "query" {
			base = "apiKeyQuery"
		}
		scheme = map[string]any{"type": "apiKey", "in": c.In, "name": c.Name}
	}
	n := base
	if k := s.next[base]; k > 0 {
		n = base + strconv.Itoa(k+1)
	}
	s.next[base]++
	s.names[c] = n
	s.byName[n] = scheme
	return n
}
