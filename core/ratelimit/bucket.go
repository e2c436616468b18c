// Package ratelimit is a token bucket per client key, kept in process
// memory or in Redis so that several worker processes (or hosts) share one
// limit. It is pure Go; core turns a refused Decision into a 429.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Rate is a bucket's shape: it holds at most Burst tokens and refills at
// PerSecond tokens a second; a request takes one.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Check names the field at fault.
func (r Rate) Check(prefix string) error {
	if !(r.PerSecond > 0) || math.IsInf(r.PerSecond, 0) {
		return fmt.Errorf("%sper_second must be a positive number, got %v", prefix, r.PerSecond)
	}
	if r.Burst < 1 {
		return fmt.Errorf("%sburst must be at least 1, got %d", prefix, r.Burst)
	}
	return nil
}

// Decision is the verdict on one take, with what the RateLimit headers say.
type Decision struct {
	Allowed bool
	// Limit is the burst; Remaining the whole tokens left after this take.
	Limit     int
	Remaining int
	// Reset is how long until the bucket is full again; RetryAfter, for a
	// refused take, how long until one token is there.
	Reset      time.Duration
	RetryAfter time.Duration
}

// Store takes one token from the bucket of key at time now.
type Store interface {
	Take(ctx context.Context, key string, now time.Time) (Decision, error)
	Close() error
}

// ErrUnavailable wraps every failure of a shared store to answer.
var ErrUnavailable = errors.New("rate limit store unavailable")

// take is the bucket rule both stores apply (the Redis script is the same
// arithmetic in Lua): refill for the time since last, capped at burst; take
// one if there is one. Time going backwards refills nothing.
func take(r Rate, tokens float64, last, now int64) (float64, Decision) {
	if elapsed := now - last; elapsed > 0 {
		tokens = math.Min(float64(r.Burst), tokens+float64(elapsed)*r.PerSecond/1e6)
	}
	allowed := tokens >= 1-epsilon
	if allowed {
		tokens--
	}
	return tokens, decide(r, tokens, allowed)
}

// epsilon absorbs the rounding of many small refills (ten 0.1s are not
// quite 1.0), so a token due at an instant is there at that instant; the Lua
// script uses the same value.
const epsilon = 1e-9

// decide words the state after a take as a Decision.
func decide(r Rate, tokens float64, allowed bool) Decision {
	d := Decision{Allowed: allowed, Limit: r.Burst, Remaining: int(tokens + epsilon)}
	if !allowed {
		d.RetryAfter = micros((1 - tokens - epsilon) / r.PerSecond * 1e6)
	}
	d.Reset = micros((float64(r.Burst) - tokens) / r.PerSecond * 1e6)
	return d
}

func micros(us float64) time.Duration { return time.Duration(math.Ceil(us)) * time.Microsecond }
