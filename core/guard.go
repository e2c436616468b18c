package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/spikard/spikard/core/auth"
	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/ratelimit"
)

// A guard is what a route demands before its host sees a request: a valid
// JWT or API key (core/auth), and a token from its rate limit
// (core/ratelimit). Each of the three comes from the app's config unless
// the route document names its own or false. Routes with none have a nil
// guard, so the request path of an app without guards pays one nil check.
//
// Order: a limit keyed by client address (or global) is taken first, so
// a flood of bad tokens costs no signature checks; a limit keyed by API
// key or JWT subject is taken after the credential is verified (an
// unverified subject would let a client spend someone else's bucket).
type guard struct {
	jwt        *auth.Verifier
	keys       *auth.APIKeys
	limit      *limitSlot
	limitFirst bool
	// challenge is the WWW-Authenticate of a 401 when both JWT and API
	// keys are accepted: either credential will do.
	both string
}

// limitSlot is a rate limit as configured, and its limiter once Start has
// opened its store (a Redis store connects then, so a start error is
// Start's).
type limitSlot struct {
	field  string
	cfg    ratelimit.Config
	prefix string // the Redis key prefix: the app's, or the route's own
	lim    *ratelimit.Limiter
}

// claimsHeader names the pair that carries a route's fact "claims" in an
// event's headers: a name no HTTP/1.1 field can have (':' is not a token
// character), as HTTP/2 spells its pseudo-headers.
const claimsHeader = ":claims"

// appGuards is the app-level part, compiled once by NewApp.
type appGuards struct {
	jwt    *auth.Verifier
	keys   *auth.APIKeys
	limit  *limitSlot
	limits []*limitSlot // every slot, the app's and the routes' own, for Start and Shutdown
	err    error        // a config the app cannot serve; AddRoute and Start return it
}

func compileAppGuards(cfg *Config) appGuards {
	var g appGuards
	var err error
	if cfg.JWTAuth != nil {
		if g.jwt, err = auth.NewVerifier(*cfg.JWTAuth, cfg.Now); err != nil {
			g.err = fmt.Errorf("spikard: config: %w", err)
			return g
		}
	}
	if cfg.APIKeyAuth != nil {
		if g.keys, err = auth.NewAPIKeys(*cfg.APIKeyAuth); err != nil {
			g.err = fmt.Errorf("spikard: config: %w", err)
			return g
		}
	}
	if cfg.RateLimit != nil {
		if err := cfg.RateLimit.Check("rate_limit."); err != nil {
			g.err = fmt.Errorf("spikard: config: %w", err)
			return g
		}
		g.limit = &limitSlot{field: "rate_limit.", cfg: *cfg.RateLimit, prefix: redisPrefix(cfg.RateLimit, "app:")}
		g.limits = append(g.limits, g.limit)
	}
	return g
}

func redisPrefix(c *ratelimit.Config, scope string) string {
	p := c.RedisPrefix
	if p == "" {
		p = "spikard:rl:"
	}
	return p + scope
}

// compileGuard builds a route's guard from its spec and the app's; nil when
// nothing guards it. Called by AddRoute before it takes a.mu.
func (a *App) compileGuard(spec *RouteSpec) (*guard, error) {
	if a.guards.err != nil {
		return nil, a.guards.err
	}
	g := &guard{}
	var err error
	switch {
	case spec.JWTAuth.Own != nil:
		if g.jwt, err = auth.NewVerifier(*spec.JWTAuth.Own, a.cfg.Now); err != nil {
			return nil, err
		}
	case !spec.JWTAuth.Off:
		g.jwt = a.guards.jwt
	}
	switch {
	case spec.APIKeyAuth.Own != nil:
		if g.keys, err = auth.NewAPIKeys(*spec.APIKeyAuth.Own); err != nil {
			return nil, err
		}
	case !spec.APIKeyAuth.Off:
		g.keys = a.guards.keys
	}
	switch {
	case spec.RateLimit.Own != nil:
		c := spec.RateLimit.Own
		if err := c.Check("rate_limit."); err != nil {
			return nil, err
		}
		g.limit = &limitSlot{field: "rate_limit.", cfg: *c, prefix: redisPrefix(c, "route:"+spec.Method+" "+spec.Path+":")}
	case !spec.RateLimit.Off:
		g.limit = a.guards.limit
	}
	if g.jwt == nil && g.keys == nil && g.limit == nil {
		return nil, nil
	}
	if g.limit != nil {
		switch k := g.limit.cfg.KeyBy; k {
		case ratelimit.BySub, ratelimit.ByAPIKey:
			if (k == ratelimit.BySub && g.jwt == nil) || (k == ratelimit.ByAPIKey && g.keys == nil) {
				return nil, fmt.Errorf("rate_limit.key_by %q: the route has no %s", k, map[string]string{
					ratelimit.BySub: "jwt_auth", ratelimit.ByAPIKey: "api_key_auth"}[k])
			}
		default:
			g.limitFirst = true
		}
	}
	if g.jwt != nil && g.keys != nil {
		_, fj := g.jwt.Authorize(nil)
		_, fk := g.keys.Check(nil, false)
		g.both = fj.Challenge + ", " + fk.Challenge
	}
	return g, nil
}

// openLimits opens every limit's store; Start calls it before listening.
func (a *App) openLimits() error {
	logger := a.log
	for _, s := range a.guards.limits {
		c := s.cfg
		c.RedisPrefix = s.prefix
		lim, err := ratelimit.New(context.Background(), s.field, c, a.cfg.Now, logger)
		if err != nil {
			a.closeLimits()
			return err
		}
		s.lim = lim
	}
	return nil
}

func (a *App) closeLimits() {
	for _, s := range a.guards.limits {
		if s.lim != nil {
			_ = s.lim.Close()
			s.lim = nil
		}
	}
}

// checkGuard applies g to the request of ex. It returns false when it has
// answered the request itself (401, 429 or 503); true lets it through,
// with ex.claims set when a JWT was verified.
func (a *App) checkGuard(ctx context.Context, ex *exchange, g *guard) bool {
	ex.claims = nil
	if g.limitFirst && !a.takeToken(ctx, ex, g.limit, "") {
		return false
	}
	var key string // the limit's key when keyed by credential
	if g.jwt != nil || g.keys != nil {
		h := &ex.c.Request.Header
		authz := h.Peek("Authorization")
		if g.jwt != nil && (g.keys == nil || len(authz) > 0) {
			claims, f := g.jwt.Authorize(authz)
			if f != nil {
				return a.refuse(ex, f, g.both)
			}
			ex.claims = claims.Payload
			key = claims.LimitKey
		} else {
			v := h.Peek(g.keys.Header)
			present := len(v) > 0
			if !present && g.keys.Query != "" {
				v = ex.c.Request.URI().QueryArgs().Peek(g.keys.Query)
				present = v != nil
			}
			deprecated, f := g.keys.Check(v, present)
			if f != nil {
				return a.refuse(ex, f, g.both)
			}
			if deprecated {
				ex.c.Response.Header.Set("X-API-Key-Deprecated", "true")
			}
			if g.limit != nil && g.limit.cfg.KeyBy == ratelimit.ByAPIKey {
				key = "key:" + keyDigest(v)
			}
		}
	}
	if g.limit != nil && !g.limitFirst {
		if key == "sub:" { // a verified token without "sub": its client's address
			key = ""
		}
		return a.takeToken(ctx, ex, g.limit, key)
	}
	return true
}

// refuse answers 401 with the failure's problem and challenge.
func (a *App) refuse(ex *exchange, f *auth.Failure, both string) bool {
	p := problem.Unauthorized(f.Title, f.Detail)
	ex.out = writeProblem(ex.c, &p, ex.out)
	challenge := f.Challenge
	if both != "" {
		challenge = both
	}
	ex.c.Response.Header.Set("WWW-Authenticate", challenge)
	return false
}

// takeToken takes one token of s for key (the client's address when key
// is ""), sets the RateLimit headers of draft-ietf-httpapi-ratelimit-headers-07
// (RateLimit-Limit, -Remaining, -Reset in delta seconds) on whatever the
// request is answered, and answers 429 with Retry-After when the bucket is
// empty. A store that does not answer is a 503, or, failing open, no
// headers at all.
func (a *App) takeToken(ctx context.Context, ex *exchange, s *limitSlot, key string) bool {
	if key == "" {
		switch s.lim.KeyBy {
		case ratelimit.ByNone:
			key = "all"
		default:
			key = "ip:" + s.lim.Proxies.ClientIP(peerAddr(ex), ex.c.Request.Header.Peek("Forwarded"),
				ex.c.Request.Header.Peek("X-Forwarded-For"))
		}
	}
	d, err := s.lim.Take(ctx, key)
	if err != nil {
		if !errors.Is(err, ratelimit.ErrUnavailable) {
			a.log.Printf("spikard: rate_limit: %v", err)
		}
		p := problem.LimitUnavailable()
		ex.out = writeProblem(ex.c, &p, ex.out)
		return false
	}
	if d.Limit == 0 {
		return true
	}
	h := &ex.c.Response.Header
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(d.Reset), 10))
	if d.Allowed {
		return true
	}
	retry := max(ceilSeconds(d.RetryAfter), 1)
	p := problem.TooManyRequests(retry)
	ex.out = writeProblem(ex.c, &p, ex.out)
	h.Set("Retry-After", strconv.FormatInt(retry, 10))
	return false
}

// keyDigest names an API key's bucket without putting the key itself in
// memory maps or Redis.
func keyDigest(k []byte) string {
	d := sha256.Sum256(k)
	return hex.EncodeToString(d[:12])
}

func ceilSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

func peerAddr(ex *exchange) netip.Addr {
	switch a := ex.c.RemoteAddr().(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case nil:
		return netip.Addr{}
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Addr{}
		}
		return ap.Addr().Unmap()
	}
}
