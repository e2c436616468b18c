package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config is the "rate_limit" configuration key as JSON carries it.
type Config struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
	// IPBased keys buckets by client address (the default); false makes
	// one bucket shared by every client, unless KeyBy says otherwise.
	IPBased *bool `json:"ip_based"`
	// KeyBy is "ip", "api_key" or "jwt_sub": a request without the chosen
	// credential falls back to its address.
	KeyBy string `json:"key_by"`
	// TrustedProxies are the addresses/CIDRs whose Forwarded and
	// X-Forwarded-For headers are believed.
	TrustedProxies []string `json:"trusted_proxies"`
	// RedisURL, when set, keeps buckets in Redis, shared by every worker
	// and host using it. FailOpen admits requests (with a logged warning)
	// while Redis does not answer; without it such requests get a 503, and
	// an unreachable Redis at start is a start error.
	RedisURL     string  `json:"redis_url"`
	RedisPrefix  string  `json:"redis_prefix"`
	RedisTimeout float64 `json:"redis_timeout"`
	FailOpen     bool    `json:"fail_open"`
}

// Logger is where a Limiter writes its warnings (core's Logger, or a
// *log.Logger).
type Logger interface {
	Printf(format string, args ...any)
}

// Key sources a Limiter may use.
const (
	ByIP     = "ip"
	ByAPIKey = "api_key"
	BySub    = "jwt_sub"
	ByNone   = "global"
)

// Limiter is one configured limit: its store, how keys are made, and what
// happens when the store cannot answer.
type Limiter struct {
	Rate     Rate
	KeyBy    string
	Proxies  Proxies
	store    Store
	failOpen bool
	now      func() time.Time
	log      Logger
	warned   atomic.Int64 // unix seconds of the last fail-open warning
}

// Check reports the first field of cfg at fault, its name prefixed with
// field ("rate_limit."), without opening anything.
func (cfg Config) Check(field string) error {
	_, err := cfg.compile(field)
	return err
}

func (cfg Config) compile(field string) (*Limiter, error) {
	r := Rate{PerSecond: cfg.PerSecond, Burst: cfg.Burst}
	if err := r.Check(field); err != nil {
		return nil, err
	}
	l := &Limiter{Rate: r, KeyBy: cfg.KeyBy, failOpen: cfg.FailOpen}
	switch cfg.KeyBy {
	case "":
		l.KeyBy = ByIP
		if cfg.IPBased != nil && !*cfg.IPBased {
			l.KeyBy = ByNone
		}
	case ByIP, ByAPIKey, BySub:
	default:
		return nil, fmt.Errorf("%skey_by must be \"ip\", \"api_key\" or \"jwt_sub\", got %q", field, cfg.KeyBy)
	}
	var err error
	if l.Proxies, err = ParseProxies(field+"trusted_proxies", cfg.TrustedProxies); err != nil {
		return nil, err
	}
	if cfg.RedisTimeout < 0 {
		return nil, fmt.Errorf("%sredis_timeout must be >= 0, got %v", field, cfg.RedisTimeout)
	}
	if cfg.RedisURL != "" {
		if _, err := redis.ParseURL(cfg.RedisURL); err != nil {
			return nil, fmt.Errorf("%sredis_url %q: %w", field, cfg.RedisURL, err)
		}
	}
	return l, nil
}

// New checks cfg and opens its store. now is the clock (time.Now when nil).
// field prefixes error messages ("rate_limit." or a route's own key).
func New(ctx context.Context, field string, cfg Config, now func() time.Time, lg Logger) (*Limiter, error) {
	l, err := cfg.compile(field)
	if err != nil {
		return nil, err
	}
	l.now, l.log = now, lg
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = log.Default()
	}
	if cfg.RedisURL == "" {
		l.store = NewMemory(l.Rate)
		return l, nil
	}
	rs, err := NewRedis(ctx, l.Rate, RedisOptions{URL: cfg.RedisURL, Prefix: cfg.RedisPrefix,
		Timeout: time.Duration(cfg.RedisTimeout * float64(time.Second))})
	if err != nil {
		if rs == nil || !cfg.FailOpen {
			if rs != nil {
				_ = rs.Close()
			}
			return nil, err
		}
		l.log.Printf("spikard: rate_limit: %v; admitting requests until it answers (fail_open)", err)
	}
	l.store = rs
	return l, nil
}

// Take takes a token for key. A store failure is an admitted Decision with
// Limit 0 (no RateLimit headers: nothing is known) when failing open (a warning logged at most once a second), else an error
// wrapping ErrUnavailable.
func (l *Limiter) Take(ctx context.Context, key string) (Decision, error) {
	d, err := l.store.Take(ctx, key, l.now())
	if err == nil {
		return d, nil
	}
	if !l.failOpen || !errors.Is(err, ErrUnavailable) {
		return d, err
	}
	if s := time.Now().Unix(); l.warned.Swap(s) != s {
		l.log.Printf("spikard: rate_limit: %v; request admitted (fail_open)", err)
	}
	return Decision{Allowed: true}, nil // Limit 0: nothing known to tell the client
}

// Close releases the store.
func (l *Limiter) Close() error { return l.store.Close() }
