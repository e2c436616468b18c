package core

// factScratch holds an exchange's parsed facts between requests, so that a
// steady load allocates nothing for them.
type factScratch struct{}

// collectFacts fills the fact fields of ex.req the route asks for
// (cookies, query pairs, upload pointers).
func (ex *exchange) collectFacts(rt *compiledRoute, body []byte) {}
