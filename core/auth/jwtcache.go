package auth

import (
	"hash/maphash"
	"sync/atomic"
	"time"
)

// A client sends the same token with every request until it expires, and
// checking it again each time is the whole cost of a guarded route: 6.5 µs
// and 50 allocations of golang-jwt's parse for HS256 (far more for RS and
// ES), and the garbage collector's work for them, which halved path-simple's
// rate (62k to 32k req/s pinned). So a Verifier remembers the tokens it has
// verified.
//
// What may be remembered: the token's bytes, compared whole, decide every
// check but the clock's — the signature (the keys are fixed at start), the
// algorithm, aud and iss. exp and nbf are judged again on every use against
// the Verifier's clock with its leeway, exactly as the library judges them,
// and a token outside its window goes through the full check, which words
// the refusal. Refusals are never remembered.
//
// The cache is a fixed table of slots indexed by a hash of the token, each
// an atomic pointer to one verified token: no lock, nothing allocated on a
// hit, bounded memory (a newer token evicts whichever shared its slot).

// cacheSlots is the number of tokens remembered at most (a power of two).
const cacheSlots = 4096

// maxCachedToken bounds the tokens worth remembering; longer ones are
// checked every time, so a flood of huge tokens cannot pin memory.
const maxCachedToken = 4096

// verifiedToken is a token that passed every check, and the window of
// time in which it keeps passing them.
type verifiedToken struct {
	token  string
	claims Claims
	// from and until bound when the token is valid, leeway included:
	// valid at t when !t.Before(from) (no bound when from is zero) and
	// t.Before(until) (no bound when until is zero).
	from, until time.Time
}

// current reports whether the token is valid at t.
func (e *verifiedToken) current(t time.Time) bool {
	return (e.from.IsZero() || !t.Before(e.from)) && (e.until.IsZero() || t.Before(e.until))
}

type verifiedCache struct {
	seed  maphash.Seed
	slots [cacheSlots]atomic.Pointer[verifiedToken]
}

func newVerifiedCache() *verifiedCache {
	return &verifiedCache{seed: maphash.MakeSeed()}
}

// find returns the verified token equal to token, or nil.
func (c *verifiedCache) find(token []byte) *verifiedToken {
	e := c.slots[maphash.Bytes(c.seed, token)&(cacheSlots-1)].Load()
	if e != nil && e.token == string(token) {
		return e
	}
	return nil
}

// store remembers e, in place of what shared its slot.
func (c *verifiedCache) store(e *verifiedToken) {
	if len(e.token) <= maxCachedToken {
		c.slots[maphash.String(c.seed, e.token)&(cacheSlots-1)].Store(e)
	}
}
