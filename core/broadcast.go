package core

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// Broadcast (ADR 0004): named channels that WebSockets subscribe to and
// any host code publishes to. A published message goes out to every
// subscribed WebSocket as is, core to client, without a trip through a
// host: Publish copies it once and queues it on each subscriber's
// outbound queue. A subscriber whose queue already holds more than twice
// Config.StreamQueueBytes is too slow for its channels and is closed with
// 1013 rather than left to grow.
//
// In-process by default. With Config.Broadcast.Redis every message goes
// through Redis pub/sub instead (redisrelay.go), even to this process's
// own subscribers, so that every process and host sharing the Redis server
// (workers=N) delivers it, all in Redis's order.
//
// Subscriptions belong to the WebSocket: they end with it.

var (
	errChannel       = fmt.Errorf("broadcast: a channel name is 1..%d bytes: %w", maxChannelLen, ErrInvalid)
	errPublishFlags  = fmt.Errorf("broadcast: publish flags are 0 (text) or ChunkWSBinary: %w", ErrUnsupported)
	errPublishText   = fmt.Errorf("broadcast: a text message must be valid UTF-8 (publish bytes with ChunkWSBinary): %w", ErrInvalid)
	errPublishFull   = fmt.Errorf("broadcast: the queue of messages for Redis is full (%d bytes); retry later: %w", maxRelayQueue, ErrAgain)
	errNotAWebSocket = fmt.Errorf("broadcast: the exchange is no open WebSocket: %w", ErrUnknownExchange)
)

// maxChannelLen bounds a channel name.
const maxChannelLen = 1024

// hub is an app's channels and their local subscribers. Safe for
// concurrent use.
type hub struct {
	mu    sync.RWMutex
	subs  map[string]map[*wsConn]struct{}
	of    map[*wsConn][]string // each subscriber's channels
	relay *redisRelay          // set at Start with Config.Broadcast.Redis; read-only afterwards
}

// Subscribe adds the open WebSocket of exchange id to channel (again is
// harmless). It returns ErrUnknownExchange (wrapped) if id names no open
// WebSocket, and refuses an empty or overlong channel name.
func (a *App) Subscribe(id uint64, channel string) error {
	if len(channel) == 0 || len(channel) > maxChannelLen {
		return errChannel
	}
	w := a.ex.socket(id)
	if w == nil {
		return errNotAWebSocket
	}
	h := &a.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	w.mu.Lock()
	over := w.phase == wsOver
	w.mu.Unlock()
	if over {
		return errNotAWebSocket
	}
	set := h.subs[channel]
	if set == nil {
		if h.subs == nil {
			h.subs = map[string]map[*wsConn]struct{}{}
			h.of = map[*wsConn][]string{}
		}
		set = map[*wsConn]struct{}{}
		h.subs[channel] = set
		if h.relay != nil {
			h.relay.subscribe(channel)
		}
	}
	if _, ok := set[w]; !ok {
		set[w] = struct{}{}
		h.of[w] = append(h.of[w], channel)
	}
	return nil
}

// Unsubscribe takes the WebSocket of exchange id off channel (harmless if
// it was not on it).
func (a *App) Unsubscribe(id uint64, channel string) error {
	if len(channel) == 0 || len(channel) > maxChannelLen {
		return errChannel
	}
	w := a.ex.socket(id)
	if w == nil {
		return errNotAWebSocket
	}
	h := &a.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[channel][w]; !ok {
		return nil
	}
	chans := h.of[w]
	for i, c := range chans {
		if c == channel {
			h.of[w] = append(chans[:i:i], chans[i+1:]...)
			break
		}
	}
	h.dropLocked(w, channel)
	return nil
}

// Publish sends data to every WebSocket subscribed to channel, as a text
// message (flags 0; data must be UTF-8) or a binary one (ChunkWSBinary).
// data is copied before Publish returns. In-process it is queued on every
// subscriber before Publish returns; through Redis it is queued for Redis,
// and ErrAgain (wrapped) means that queue is full.
func (a *App) Publish(channel string, flags uint32, data []byte) error {
	switch {
	case len(channel) == 0 || len(channel) > maxChannelLen:
		return errChannel
	case flags != 0 && flags != ChunkWSBinary:
		return errPublishFlags
	case flags == 0 && !utf8.Valid(data):
		return errPublishText
	}
	kind := msgText
	if flags == ChunkWSBinary {
		kind = msgBinary
	}
	if r := a.hub.relay; r != nil {
		return r.publish(channel, kind, data)
	}
	a.hub.fanOut(channel, kind, append([]byte(nil), data...))
	return nil
}

// fanOut queues data (which the subscribers share, and nobody changes) on
// every local subscriber of channel.
func (h *hub) fanOut(channel string, kind uint8, data []byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for w := range h.subs[channel] {
		w.broadcast(kind, data)
	}
}

// leave takes w off every channel, as it ends.
func (h *hub) leave(w *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.of[w] {
		h.dropLocked(w, c)
	}
	delete(h.of, w)
}

// dropLocked takes w off channel, and the channel off Redis once its last
// local subscriber is gone. The caller holds mu.
func (h *hub) dropLocked(w *wsConn, channel string) {
	set := h.subs[channel]
	delete(set, w)
	if len(set) == 0 {
		delete(h.subs, channel)
		if h.relay != nil {
			h.relay.unsubscribe(channel)
		}
	}
}

// broadcast queues one published message; a subscriber whose queue holds
// more than twice its bound is closed with 1013.
func (w *wsConn) broadcast(kind uint8, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase == wsOver {
		return
	}
	if w.queued > 0 && w.queued+len(data) > 2*w.limit {
		w.closeLocked(CloseTryLater, "too slow for its subscriptions", true)
		return
	}
	w.out = append(w.out, wsFrame{kind: kind, data: data})
	w.queued += len(data)
	w.kickLocked()
}
