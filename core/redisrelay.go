package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis relay of broadcast.go: with Config.Broadcast.Redis, Publish
// queues a message for Redis (PUBLISH prefix+channel, one pipelined round
// trip per batch), and one subscriber connection per app (SUBSCRIBE for
// each channel that has a local subscriber) hands every message Redis
// sends back to the hub, which fans it out locally. A message is one byte
// of kind ('t' text, 'b' binary) then the data, so processes agree on how
// to send it.
//
// Order: a process that subscribes and then publishes sees its own
// message, because the publisher waits, before each batch, until Redis
// has confirmed the subscriptions made before the batch's messages were
// queued (up to relayConfirmWait). Across processes the order is
// Redis's. The client reconnects by itself; messages Redis never took
// while it was unreachable are lost, and the first failure of a run of
// them is logged.

// maxRelayQueue bounds the bytes queued for Redis and not yet sent.
const maxRelayQueue = 64 << 20

// relayConfirmWait bounds a publish batch's wait for subscriptions to be
// confirmed.
const relayConfirmWait = 2 * time.Second

// relayDialWait bounds the reachability check at Start.
const relayDialWait = 3 * time.Second

var quietRedis sync.Once

type relayed struct {
	channel string
	payload []byte // kind byte + data
	after   uint64 // subscriptions issued when it was queued
}

// redisRelay is one app's link to Redis. Safe for concurrent use.
type redisRelay struct {
	hub    *hub
	log    Logger
	prefix string
	client *redis.Client
	ps     *redis.PubSub

	mu        sync.Mutex
	cond      *sync.Cond // signalled on a confirmation, a queued message and close
	queue     []relayed
	bytes     int
	issued    uint64 // SUBSCRIBE commands sent
	confirmed uint64 // their confirmations received
	closed    bool
	failing   bool // the last batch failed: log only the first of a run
	done      sync.WaitGroup
}

type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}

// startRelay connects to Redis (failing if it does not answer a PING within
// relayDialWait) and starts the subscriber and publisher goroutines.
func startRelay(h *hub, cfg BroadcastConfig, log Logger) (*redisRelay, error) {
	// go-redis logs on its own to stderr; the library prints nothing it
	// was not asked to (one logger for the process: set once).
	quietRedis.Do(func() { redis.SetLogger(discardRedisLog{}) })
	opt, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		return nil, err
	}
	client := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), relayDialWait)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("broadcast: Redis at %s: %w", opt.Addr, err)
	}
	r := &redisRelay{hub: h, log: log, prefix: cfg.Prefix, client: client, ps: client.Subscribe(context.Background())}
	r.cond = sync.NewCond(&r.mu)
	r.done.Add(2)
	go r.receive()
	go r.send()
	return r, nil
}

// subscribe sends SUBSCRIBE for channel. The caller holds hub.mu, which
// orders it with unsubscribe.
func (r *redisRelay) subscribe(channel string) {
	r.mu.Lock()
	r.issued++
	r.mu.Unlock()
	if err := r.ps.Subscribe(context.Background(), r.prefix+channel); err != nil {
		r.log.Printf("spikard: broadcast: Redis SUBSCRIBE %s: %v", channel, err)
		r.mu.Lock()
		r.confirmed++ // no confirmation will come: publishes must not wait for it
		r.cond.Broadcast()
		r.mu.Unlock()
	}
}

// unsubscribe sends UNSUBSCRIBE for channel. The caller holds hub.mu.
func (r *redisRelay) unsubscribe(channel string) {
	_ = r.ps.Unsubscribe(context.Background(), r.prefix+channel)
}

// publish queues one message for Redis.
func (r *redisRelay) publish(channel string, kind uint8, data []byte) error {
	payload := make([]byte, 1+len(data))
	payload[0] = 't'
	if kind == msgBinary {
		payload[0] = 'b'
	}
	copy(payload[1:], data)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bytes > 0 && r.bytes+len(payload) > maxRelayQueue {
		return errPublishFull
	}
	r.queue = append(r.queue, relayed{channel: r.prefix + channel, payload: payload, after: r.issued})
	r.bytes += len(payload)
	r.cond.Broadcast()
	return nil
}

// send is the publisher goroutine: each batch waits for the subscriptions
// issued before it, then goes out in one pipeline.
func (r *redisRelay) send() {
	defer r.done.Done()
	for {
		r.mu.Lock()
		for len(r.queue) == 0 && !r.closed {
			r.cond.Wait()
		}
		if r.closed {
			r.mu.Unlock()
			return
		}
		batch := r.queue
		r.queue = nil
		r.bytes = 0
		need := batch[len(batch)-1].after
		if r.confirmed < need {
			deadline := time.Now().Add(relayConfirmWait)
			t := time.AfterFunc(relayConfirmWait, func() {
				r.mu.Lock()
				r.cond.Broadcast()
				r.mu.Unlock()
			})
			for r.confirmed < need && !r.closed && time.Now().Before(deadline) {
				r.cond.Wait()
			}
			t.Stop()
		}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, m := range batch {
				p.Publish(ctx, m.channel, m.payload)
			}
			return nil
		})
		cancel()
		r.mu.Lock()
		if err != nil && !r.failing && !r.closed {
			r.log.Printf("spikard: broadcast: Redis PUBLISH of %d message(s) failed: %v", len(batch), err)
		}
		r.failing = err != nil
		r.mu.Unlock()
	}
}

// receive is the subscriber goroutine: messages go to the hub, and
// confirmations release waiting publish batches.
func (r *redisRelay) receive() {
	defer r.done.Done()
	ctx := context.Background()
	for {
		m, err := r.ps.Receive(ctx)
		if err != nil {
			if errors.Is(err, redis.ErrClosed) {
				return
			}
			r.mu.Lock()
			closed := r.closed
			r.mu.Unlock()
			if closed {
				return
			}
			time.Sleep(100 * time.Millisecond) // go-redis reconnects on the next Receive
			continue
		}
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				r.mu.Lock()
				if r.confirmed < r.issued { // a reconnect's resubscriptions confirm nothing new
					r.confirmed++
				}
				r.cond.Broadcast()
				r.mu.Unlock()
			}
		case *redis.Message:
			channel, ok := strings.CutPrefix(m.Channel, r.prefix)
			if !ok || len(m.Payload) == 0 {
				continue
			}
			kind := msgText
			if m.Payload[0] == 'b' {
				kind = msgBinary
			}
			r.hub.fanOut(channel, kind, []byte(m.Payload[1:]))
		}
	}
}

// close stops both goroutines and the connections.
func (r *redisRelay) close() {
	r.mu.Lock()
	r.closed = true
	r.cond.Broadcast()
	r.mu.Unlock()
	_ = r.ps.Close()
	_ = r.client.Close()
	r.done.Wait()
}
