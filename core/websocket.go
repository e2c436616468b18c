package core

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/network"
	"github.com/hertz-contrib/websocket"
)

// WebSockets (ADR 0004). A route declared with "websocket" is a GET route
// whose requests must be WebSocket handshakes: checkHandshake refuses any
// other request (426, or 400/403 with a problem document) before a host
// sees it. A handshake reaches the host as EventWSOpen, with params, facts
// and headers like a request. The host answers it with ResponseWSAccept
// (acceptWS), which upgrades, or with any other answer, which refuses. Both
// are in wshandshake.go; the set of open WebSockets Shutdown closes is
// wsset.go's; channels are broadcast.go's.
//
// After the upgrade (hertz-contrib/websocket over Hertz's hijack), the
// connection's Hertz goroutine reads (run): fragments are reassembled,
// pings answered, control frames checked, messages past
// Config.WSMaxMessageSize closed with 1009, text that is not UTF-8 closed
// with 1007, protocol errors closed with 1002. Each whole message is one
// EventWSMessage for the exchange's owner; core stops reading while the
// messages no host has polled pass Config.WSInboundBytes. Hosts send with
// StreamWrite (wswrite.go): text, binary, and a close, queued and bounded
// like a stream's bytes (ErrAgain, then one EventStreamCredit).
//
// Every accepted WebSocket gets exactly one terminal event, EventWSClose,
// queued as its close is decided: Code is the first close of the
// connection (the peer's, the host's, or core's: 1001 at Shutdown, 1002,
// 1007, 1009, 1013 for a subscriber too slow for its channels), or 1006
// when the connection ended without one. After it StreamWrite answers
// ErrUnknownExchange. The exchange itself lives until the TCP connection
// is gone, and counts as in flight, so Shutdown's lanes close only after
// every WebSocket's event is queued.
//
// Lock order: socketSet.mu and hub.mu, then wsConn.mu, then the lane's mu.

// Close codes core sends or reports (RFC 6455 §7.4).
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseProtocolError = 1002
	CloseNoStatus      = 1005 // reported only: the peer's close had no code
	CloseAbnormal      = 1006 // reported only: the connection ended without a close
	CloseInvalidData   = 1007
	CloseTooBig        = 1009
	CloseTryLater      = 1013
)

// wsCloseWait is how long core waits for the peer's answer to a close it
// sent before it drops the connection.
const wsCloseWait = 5 * time.Second

// wsControlWait bounds the write of a ping or a pong.
const wsControlWait = time.Second

// wsMessage is what an EventWSMessage or EventWSClose carries in its queue
// entry: the message (or the close reason), and for a message the
// connection whose inbound bytes it counts against.
type wsMessage struct {
	data  []byte
	flags uint32
	conn  *wsConn // nil for a close
}

// Kinds of a queued outbound frame.
const (
	msgText uint8 = iota + 1
	msgBinary
	msgClose
)

// wsFrame is one queued outbound frame.
type wsFrame struct {
	kind uint8
	code uint32 // msgClose: the close code, or 0 for none
	data []byte
}

// Phases of a WebSocket.
const (
	wsOpen uint8 = iota + 1 // messages flow both ways
	wsOver                  // its EventWSClose is queued: nothing more reaches the host or the peer but a close
)

// wsConn is one WebSocket, from its ResponseWSAccept until the connection
// is gone. Safe for concurrent use: the connection's Hertz goroutine
// reads, a writer goroutine (started when there is something to send, and
// gone when there is not, so an idle WebSocket holds one goroutine) writes,
// hosts write through StreamWrite and broadcasts fan out into it.
type wsConn struct {
	a     *App
	ex    *exchange
	lane  *Lane
	limit int // Config.StreamQueueBytes, for the outbound queue

	inbound int64        // Config.WSInboundBytes
	inbox   atomic.Int64 // bytes of delivered messages no host has taken yet
	seenAt  atomic.Int64 // unix nanoseconds of the peer's last frame
	cut     atomic.Bool  // the queue was dropped: the writer skips the data frames it holds

	mu sync.Mutex
	// Guarded by mu.
	phase   uint8
	out     []wsFrame // queued outbound frames, oldest first
	queued  int       // bytes of data in out
	owed    bool      // an ErrAgain owes one EventStreamCredit
	waiters int       // StreamWrite calls waiting for room
	writing bool      // a writer goroutine runs
	dead    bool      // the connection is being torn down: the writer stops
	conn    *websocket.Conn
	// nc is the connection itself: the hijack hands the upgrader a
	// wrapper whose Close does nothing (Hertz closes the connection once
	// the handler returns), so dropping a peer closes this one.
	nc         network.Conn
	room0      sendRoom    // whether a frame may be written inline (wsinline_*.go)
	inlined    uint64      // frames written inline, on a StreamWrite caller's goroutine (for tests)
	closeTimer *time.Timer // drops the connection if the peer never answers our close
	pinger     *time.Timer

	writers sync.WaitGroup // the writer goroutine, if one runs
	room    chan struct{}  // cap 1: a waiting StreamWrite looks again
	space   chan struct{}  // cap 1: the reader looks again at the inbound bound
}

func newWSConn(a *App, ex *exchange) *wsConn {
	w := &wsConn{a: a, ex: ex, lane: ex.rt.lane, phase: wsOpen,
		limit: a.cfg.StreamQueueBytes, inbound: int64(a.cfg.WSInboundBytes),
		room: make(chan struct{}, 1), space: make(chan struct{}, 1)}
	if w.limit <= 0 {
		w.limit = defaultStreamQueueBytes
	}
	if w.inbound <= 0 {
		w.inbound = 1 << 20
	}
	w.seenAt.Store(time.Now().UnixNano())
	return w
}

// upgradeWS runs on the exchange's Hertz goroutine once Respond accepted:
// it hands the handshake to the upgrader, whose hijack handler (run) gets
// the connection after Hertz has written the 101. The WebSocket counts as
// one more request in flight until it is gone (serveHTTP's own leave
// balances its own count).
func (a *App) upgradeWS(ex *exchange) {
	w := ex.ws
	a.inflight.Add(1)
	conn := ex.c.GetConn()
	w.mu.Lock()
	w.nc = conn
	w.mu.Unlock()
	a.sockets.add(w, conn)
	u := websocket.HertzUpgrader{
		CheckOrigin:     func(*app.RequestContext) bool { return true }, // checked before the host saw it
		WriteBufferPool: &a.wsBufs,
	}
	if err := u.Upgrade(ex.c, w.run); err != nil {
		// Not reached: checkHandshake took what the upgrader takes. The
		// upgrader answered an error; the host still gets its close, and
		// serveHTTP releases the exchange.
		a.log.Printf("spikard: websocket upgrade of %s failed: %v", ex.rt.spec.Path, err)
		a.sockets.started(conn)
		w.mu.Lock()
		w.endLocked(CloseAbnormal, "")
		w.dead = true
		w.mu.Unlock()
		a.hub.leave(w)
		a.sockets.remove(w)
		a.ex.mu.Lock()
		ex.ws = nil
		a.ex.mu.Unlock()
		ex.answer = answerPlain
		a.leave()
	}
}

// orphan ends a WebSocket whose connection Hertz never handed over (the 101
// could not be written): the host gets its close, 1006.
func (w *wsConn) orphan() {
	w.mu.Lock()
	w.endLocked(CloseAbnormal, "")
	w.dead = true
	w.mu.Unlock()
	w.release()
}

// run is the upgrader's hijack handler: the WebSocket's life, on the
// connection's Hertz goroutine.
func (w *wsConn) run(wc *websocket.Conn) {
	a := w.a
	a.sockets.started(w.ex.c.GetConn())
	if n := a.cfg.WSMaxMessageSize; n > 0 {
		wc.SetReadLimit(n)
	}
	wc.SetPingHandler(func(data string) error {
		w.seen()
		err := wc.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(wsControlWait))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			w.drop()
		}
		w.controlSent()
		return nil
	})
	wc.SetPongHandler(func(string) error { w.seen(); return nil })
	room := newSendRoom(w.nc)
	w.mu.Lock()
	w.conn = wc
	w.room0 = room
	if w.dead { // dropped before the upgrade was done
		_ = w.nc.Close()
	}
	if d := a.cfg.WSPingInterval; d > 0 && w.phase == wsOpen {
		w.pinger = time.AfterFunc(d, w.ping)
	}
	w.kickLocked() // what the host wrote before the upgrade was done
	w.mu.Unlock()
	code, reason := w.read(wc)
	w.mu.Lock()
	w.endLocked(code, reason) // unless a close came first: that one stands
	w.dead = true
	w.dropQueueLocked()
	if w.closeTimer != nil {
		w.closeTimer.Stop()
	}
	if w.pinger != nil {
		w.pinger.Stop()
	}
	w.mu.Unlock()
	_ = w.nc.Close() // a writer blocked in a write returns
	w.writers.Wait()
	w.release()
}

// read reads messages until the connection ends, and returns the close
// that ended it.
func (w *wsConn) read(wc *websocket.Conn) (uint32, string) {
	for {
		kind, data, err := readMessage(wc)
		if err != nil {
			return closeOf(err)
		}
		w.seen()
		if kind == websocket.TextMessage && !utf8.Valid(data) {
			w.close(CloseInvalidData, "text message is not valid UTF-8", true)
			continue // until the peer answers the close, or wsCloseWait
		}
		if m := w.ex.rt.ws.message; m != nil {
			if p := m.Validate(data); p != nil {
				w.close(CloseInvalidData, messageReason(p), true)
				continue
			}
		}
		w.deliver(kind, data)
	}
}

// readScratch holds the buffers readMessage reads into; one is taken only
// while a message is read, so an idle WebSocket holds none.
var readScratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledScratch is the largest buffer readMessage gives back to the pool.
const maxPooledScratch = 64 << 10

// readMessage is websocket.Conn.ReadMessage with one allocation of the
// message's own size (ReadMessage's io.ReadAll starts every message,
// however small, with 512 bytes and grows from there): the message is read
// into a pooled buffer and copied out.
func readMessage(wc *websocket.Conn) (int, []byte, error) {
	kind, r, err := wc.NextReader()
	if err != nil {
		return kind, nil, err
	}
	bp := readScratch.Get().(*[]byte)
	buf := (*bp)[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			putScratch(bp, buf)
			return kind, nil, err
		}
	}
	data := make([]byte, len(buf)) // never nil, as ReadMessage's
	copy(data, buf)
	putScratch(bp, buf)
	return kind, data, nil
}

func putScratch(bp *[]byte, buf []byte) {
	if cap(buf) <= maxPooledScratch {
		*bp = buf[:0]
		readScratch.Put(bp)
	}
}

// closeOf is the close a read error stands for: the peer's own, 1009 past
// the size limit, 1002 for a protocol error (the upgrader sent both
// closes), else 1006: the connection ended without a close.
func closeOf(err error) (uint32, string) {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		if ce.Code == websocket.CloseAbnormalClosure {
			return CloseAbnormal, ""
		}
		return uint32(ce.Code), ce.Text
	case errors.Is(err, websocket.ErrReadLimit):
		return CloseTooBig, "message too big"
	case strings.HasPrefix(err.Error(), "websocket: "):
		// The upgrader's protocol errors are plain errors, all with this
		// prefix; a network error never has it.
		return CloseProtocolError, strings.TrimPrefix(err.Error(), "websocket: ")
	}
	return CloseAbnormal, ""
}

// deliver queues one received message for the host, waiting while the
// messages no host has taken pass the inbound bound (one always passes).
// A message that arrives once the WebSocket is over is dropped.
func (w *wsConn) deliver(kind int, data []byte) {
	msg := &wsMessage{data: data, conn: w}
	if kind == websocket.BinaryMessage {
		msg.flags = EventFBinary
	}
	n := int64(len(data))
	for {
		w.mu.Lock()
		if w.phase == wsOver {
			w.mu.Unlock()
			return
		}
		if in := w.inbox.Load(); in == 0 || in+n <= w.inbound {
			if w.lane.deliverMessage(w.ex, EventWSMessage, 0, msg) {
				w.inbox.Add(n)
			}
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		<-w.space
	}
}

// taken records that a host polled a message of n bytes.
func (w *wsConn) taken(n int) {
	w.inbox.Add(-int64(n))
	notify(w.space)
}

func (w *wsConn) seen() { w.seenAt.Store(time.Now().UnixNano()) }

// ping sends a ping each Config.WSPingInterval, and drops a connection
// silent for two of them.
func (w *wsConn) ping() {
	d := w.a.cfg.WSPingInterval
	if time.Since(time.Unix(0, w.seenAt.Load())) > 2*d {
		w.drop()
		return
	}
	w.mu.Lock()
	wc, over := w.conn, w.phase == wsOver || w.dead
	w.mu.Unlock()
	if over {
		return
	}
	if err := wc.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsControlWait)); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		w.drop()
		return
	}
	w.mu.Lock()
	w.room0.forget()
	if !w.dead {
		w.pinger.Reset(d)
	}
	w.mu.Unlock()
}

// controlSent records that a control frame went out beside the queue.
func (w *wsConn) controlSent() {
	w.mu.Lock()
	w.room0.forget()
	w.mu.Unlock()
}

// endLocked queues the terminal EventWSClose, once. The caller holds mu.
func (w *wsConn) endLocked(code uint32, reason string) {
	if w.phase == wsOver {
		return
	}
	w.phase = wsOver
	w.owed = false // no credit after the terminal event
	w.lane.deliverMessage(w.ex, EventWSClose, code, &wsMessage{data: []byte(reason)})
	notify(w.room)
	notify(w.space)
}

// close starts a close handshake of core's or the host's: the host's
// EventWSClose now, then the close frame after what is queued (or, with
// drop, instead of it); the connection is dropped if the peer has not
// answered within wsCloseWait.
func (w *wsConn) close(code uint32, reason string, drop bool) {
	w.mu.Lock()
	w.closeLocked(code, reason, drop)
	w.mu.Unlock()
}

func (w *wsConn) closeLocked(code uint32, reason string, drop bool) {
	if w.phase == wsOver {
		return
	}
	w.endLocked(code, reason)
	if drop {
		w.dropQueueLocked()
	}
	w.out = append(w.out, wsFrame{kind: msgClose, code: code, data: []byte(reason)})
	w.kickLocked()
	w.closeTimer = time.AfterFunc(wsCloseWait, w.drop)
}

// drop ends the connection without a close handshake (a stalled or silent
// peer, an abort, the shutdown deadline): the reader fails, and the host
// gets 1006 unless a close came first.
func (w *wsConn) drop() {
	w.mu.Lock()
	nc := w.nc
	w.dead = true
	w.mu.Unlock()
	if nc != nil {
		_ = nc.Close()
	}
}

// abortLocked is the host's ChunkAbort: 1006 for the host, and the
// connection dropped. The caller holds mu.
func (w *wsConn) abortLocked() {
	w.endLocked(CloseAbnormal, "")
	w.dead = true
	if w.nc != nil {
		_ = w.nc.Close()
	}
}

// dropQueueLocked forgets the queued data frames, those the writer holds
// included. The caller holds mu.
func (w *wsConn) dropQueueLocked() {
	w.cut.Store(true)
	for _, f := range w.out {
		if f.kind != msgClose {
			w.queued -= len(f.data)
		}
	}
	w.out = nil
}

// kickLocked starts the writer if there is something to write and the
// connection is upgraded. The caller holds mu.
func (w *wsConn) kickLocked() {
	if w.writing || w.dead || w.conn == nil || len(w.out) == 0 {
		return
	}
	w.writing = true
	w.writers.Add(1)
	go w.write()
}

// sendLocked sends f, a data frame whose bytes are only lent for the call:
// on the caller's goroutine when nothing else writes, nothing is queued and
// the kernel has room for it (a host thread's StreamWrite then sends its
// frame itself, without a copy and without a goroutine another thread must
// wake for), else queued, copied, for the writer goroutine. Its bytes are
// counted in queued already. The caller holds mu; sendLocked may release
// it, and holds it again when it returns.
func (w *wsConn) sendLocked(f wsFrame) {
	if w.writing || w.dead || w.conn == nil || len(w.out) != 0 || !w.room0.fits(len(f.data)) {
		f.data = append([]byte(nil), f.data...)
		w.out = append(w.out, f)
		w.kickLocked()
		return
	}
	w.inlined++
	w.writing = true
	w.writers.Add(1)
	wc := w.conn
	w.mu.Unlock()
	err := w.writeFrame(wc, f)
	w.mu.Lock()
	w.sentLocked(len(f.data), true)
	if err != nil {
		w.mu.Unlock()
		w.drop()
		w.mu.Lock()
		w.writing = false
		w.writers.Done()
		return
	}
	if len(w.out) == 0 || w.dead {
		w.writing = false
		w.writers.Done()
		return
	}
	w.mu.Unlock()
	w.write() // what was queued meanwhile
	w.mu.Lock()
}

// write is the writer goroutine (or sendLocked's tail): it sends what is
// queued, then returns.
func (w *wsConn) write() {
	defer w.writers.Done()
	for {
		w.mu.Lock()
		if len(w.out) == 0 || w.dead {
			w.writing = false
			w.room0.forget() // it wrote: the next inline frame asks the kernel
			w.mu.Unlock()
			return
		}
		batch := w.out
		w.out = nil
		wc := w.conn
		w.mu.Unlock()
		for _, f := range batch {
			if f.kind != msgClose && w.cut.Load() {
				w.sent(len(f.data), true) // dropped: a close replaced it
				continue
			}
			err := w.writeFrame(wc, f)
			w.sent(len(f.data), f.kind != msgClose)
			if err != nil {
				w.drop()
				w.mu.Lock()
				w.writing = false
				w.mu.Unlock()
				return
			}
		}
	}
}

// writeFrame writes one frame, within the same stall rule as a stream's
// (Config.ReadTimeout; a close within wsCloseWait without one).
func (w *wsConn) writeFrame(wc *websocket.Conn, f wsFrame) error {
	var deadline time.Time
	if timeout := w.a.cfg.ReadTimeout; timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	_ = wc.SetWriteDeadline(deadline)
	switch f.kind {
	case msgText:
		return wc.WriteMessage(websocket.TextMessage, f.data)
	case msgBinary:
		return wc.WriteMessage(websocket.BinaryMessage, f.data)
	}
	var payload []byte
	if f.code != 0 {
		payload = websocket.FormatCloseMessage(int(f.code), string(f.data))
	}
	if deadline.IsZero() {
		deadline = time.Now().Add(wsCloseWait)
	}
	return wc.WriteControl(websocket.CloseMessage, payload, deadline)
}

// sent records that a frame of n data bytes left the queue; a credit owed
// goes out once the queue is down to half its bound.
func (w *wsConn) sent(n int, counted bool) {
	w.mu.Lock()
	w.sentLocked(n, counted)
	w.mu.Unlock()
}

func (w *wsConn) sentLocked(n int, counted bool) {
	if counted {
		w.queued -= n
	}
	if w.owed && w.queued <= w.limit/2 && w.phase != wsOver {
		w.owed = false
		w.lane.deliver(w.ex, EventStreamCredit, 0)
	}
	if w.waiters > 0 {
		notify(w.room)
	}
}

// release gives the exchange back once the connection is gone.
func (w *wsConn) release() {
	a := w.a
	a.hub.leave(w)
	a.sockets.remove(w)
	a.ex.mu.Lock()
	w.ex.ws = nil
	a.ex.mu.Unlock()
	a.ex.release(w.ex)
	a.leave()
}
