package ratelimit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// takeScript is take() in Lua, run atomically by Redis: one round trip per
// request, and no two workers can both spend the last token. The state is a
// hash {t: tokens, l: last µs}; it expires once the bucket would be full
// again, since a full bucket and no bucket mean the same. The caller's clock
// is used (not Redis's TIME) so the rule is testable with an injected clock;
// hosts sharing a store need synchronised clocks, and a clock that goes back
// refills nothing.
var takeScript = redis.NewScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 't', 'l')
local tokens = tonumber(s[1])
local last = tonumber(s[2])
if tokens == nil or last == nil then
  tokens = burst
  last = now
end
if now > last then
  tokens = math.min(burst, tokens + (now - last) * rate / 1e6)
  last = now
end
local allowed = 0
if tokens >= 1 - 1e-9 then
  tokens = tokens - 1
  allowed = 1
end
local t = string.format('%.17g', tokens)
redis.call('HSET', KEYS[1], 't', t, 'l', string.format('%d', last))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, t}
`)

// RedisOptions configure a Redis store.
type RedisOptions struct {
	// URL is redis://[user:password@]host:port[/db] (or rediss:// for TLS).
	URL string
	// Prefix goes before every bucket key, so apps sharing one Redis keep
	// apart; "spikard:rl:" by default.
	Prefix string
	// Timeout bounds each command, the connect included: an unreachable
	// Redis costs a request at most this, never a hang. 500 ms by default.
	Timeout time.Duration
}

// Redis keeps buckets in Redis, shared by every process using the same
// URL and prefix.
type Redis struct {
	rate    Rate
	client  *redis.Client
	prefix  string
	rateArg string
}

// NewRedis connects and checks the server answers (PING and loading the
// script). The error names the URL and says why; the store is returned
// alongside it so that a caller configured to fail open can keep it (it
// reconnects by itself when Redis comes back).
func NewRedis(ctx context.Context, r Rate, o RedisOptions) (*Redis, error) {
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("rate_limit.redis_url %q: %w", o.URL, err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 500 * time.Millisecond
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	opt.PoolTimeout = o.Timeout
	opt.MaxRetries = -1 // a retry doubles the wait of an unreachable store
	opt.DialerRetries = 1
	opt.ContextTimeoutEnabled = true
	if o.Prefix == "" {
		o.Prefix = "spikard:rl:"
	}
	s := &Redis{rate: r, client: redis.NewClient(opt), prefix: o.Prefix,
		rateArg: strconv.FormatFloat(r.PerSecond, 'g', -1, 64)}
	cctx, cancel := context.WithTimeout(ctx, 2*o.Timeout)
	defer cancel()
	if err := s.client.Ping(cctx).Err(); err != nil {
		return s, fmt.Errorf("%w: rate_limit.redis_url %s: %v", ErrUnavailable, opt.Addr, err)
	}
	if err := takeScript.Load(cctx, s.client).Err(); err != nil {
		return s, fmt.Errorf("%w: rate_limit.redis_url %s: loading the script: %v", ErrUnavailable, opt.Addr, err)
	}
	return s, nil
}

// Take runs the script once. Its error wraps ErrUnavailable.
func (s *Redis) Take(ctx context.Context, key string, now time.Time) (Decision, error) {
	res, err := takeScript.Run(ctx, s.client, []string{s.prefix + key},
		s.rateArg, s.rate.Burst, now.UnixMicro()).Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if len(res) != 2 {
		return Decision{}, fmt.Errorf("%w: the script answered %v", ErrUnavailable, res)
	}
	allowed, _ := res[0].(int64)
	ts, _ := res[1].(string)
	tokens, err := strconv.ParseFloat(ts, 64)
	if err != nil || math.IsNaN(tokens) {
		return Decision{}, fmt.Errorf("%w: the script answered tokens %q", ErrUnavailable, ts)
	}
	return decide(s.rate, tokens, allowed == 1), nil
}

// Close closes the connection pool.
func (s *Redis) Close() error { return s.client.Close() }
