package request

// DefaultMaxJSONDepth is the nesting a JSON body may have unless the app
// says otherwise: serde_json's recursion limit, which the original Spikard
// applied, between ASP.NET Core's 64 and the 1000 of Python's json and
// Jackson. Deeper documents are almost always hostile (each level costs a
// host's parser a stack frame) and no schema a model produces nests that
// far.
const DefaultMaxJSONDepth = 128

// TooDeep reports whether the JSON document doc nests arrays and objects
// more than limit levels deep ({"a":[1]} is 2). It reads brackets outside
// strings only and does not check the syntax, so it is safe on any bytes:
// a malformed document is left to the parser. It allocates nothing.
func TooDeep(doc []byte, limit int) bool {
	depth := 0
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '"':
			for i++; i < len(doc) && doc[i] != '"'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth++; depth > limit {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}
