package ratelimit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
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
//
// Takes are pipelined: a request's take joins a queue, and a few batcher
// goroutines each send whatever has queued as one pipeline of scripts and
// hand each answer back. Under load that is one round trip and two
// syscalls for many requests instead of one each (the script is run per
// take, atomically, as before); alone, a take still goes out at once.
type Redis struct {
	rate    Rate
	client  *redis.Client
	prefix  string
	rateArg string
	calls   chan *takeCall
	closed  chan struct{}
	once    sync.Once
}

// batchers is how many pipelines may be in flight at once; maxBatch bounds
// one pipeline.
const (
	batchers = 4
	maxBatch = 128
)

// takeCall is one queued take and, once done is signalled, its answer.
type takeCall struct {
	key  string
	now  int64
	res  Decision
	err  error
	done chan struct{} // one send per answer
}

var takeCalls = sync.Pool{New: func() any { return &takeCall{done: make(chan struct{}, 1)} }}

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
		rateArg: strconv.FormatFloat(r.PerSecond, 'g', -1, 64),
		calls:   make(chan *takeCall, batchers*maxBatch), closed: make(chan struct{})}
	for range batchers {
		go s.batcher()
	}
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

// Take runs the script once for key, in a pipeline with whatever other
// takes are waiting. Its error wraps ErrUnavailable.
func (s *Redis) Take(ctx context.Context, key string, now time.Time) (Decision, error) {
	c := takeCalls.Get().(*takeCall)
	c.key, c.now = s.prefix+key, now.UnixMicro()
	select {
	case s.calls <- c:
	case <-s.closed:
		takeCalls.Put(c)
		return Decision{}, fmt.Errorf("%w: the store is closed", ErrUnavailable)
	case <-ctx.Done():
		takeCalls.Put(c)
		return Decision{}, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
	select {
	case <-c.done:
		d, err := c.res, c.err
		c.res, c.err = Decision{}, nil
		takeCalls.Put(c)
		return d, err
	case <-ctx.Done():
		// A batcher may still hold c and answer into its buffered
		// channel; c is not reused.
		return Decision{}, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	case <-s.closed: // the batchers have stopped, or are stopping
		return Decision{}, fmt.Errorf("%w: the store is closed", ErrUnavailable)
	}
}

// batcher sends queued takes in pipelines until the store closes.
func (s *Redis) batcher() {
	batch := make([]*takeCall, 0, maxBatch)
	cmds := make([]*redis.Cmd, maxBatch)
	for {
		select {
		case c := <-s.calls:
			batch = append(batch[:0], c)
		case <-s.closed:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case c := <-s.calls:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		s.runBatch(batch, cmds[:len(batch)])
		for i, c := range batch {
			c.done <- struct{}{}
			batch[i], cmds[i] = nil, nil
		}
	}
}

// runBatch runs the script for each call in one pipeline (by its SHA, and
// again by its text if Redis has lost it: a restart or SCRIPT FLUSH) and
// sets each call's answer. The client's read and write timeouts bound it.
func (s *Redis) runBatch(batch []*takeCall, cmds []*redis.Cmd) {
	ctx := context.Background()
	send := func(byText bool) {
		pipe := s.client.Pipeline()
		for i, c := range batch {
			keys, args := []string{c.key}, []any{s.rateArg, s.rate.Burst, c.now}
			if byText {
				cmds[i] = takeScript.Eval(ctx, pipe, keys, args...)
			} else {
				cmds[i] = takeScript.EvalSha(ctx, pipe, keys, args...)
			}
		}
		_, _ = pipe.Exec(ctx) // each command keeps its own error
	}
	send(false)
	if err := cmds[0].Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		send(true)
	}
	for i, c := range batch {
		c.res, c.err = s.decision(cmds[i])
	}
}

// decision reads one script answer.
func (s *Redis) decision(cmd *redis.Cmd) (Decision, error) {
	res, err := cmd.Slice()
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

// Close stops the batchers and closes the connection pool. Takes after it
// fail with ErrUnavailable.
func (s *Redis) Close() error {
	s.once.Do(func() { close(s.closed) })
	return s.client.Close()
}
