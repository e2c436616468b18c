package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/protocol/suite"
)

// quietHertz silences Hertz's own logger. hlog is a process-wide global in
// Hertz, so it is set once for every App in the process; Spikard reports
// through Config.Logger instead, and Hertz's info lines ("listening on",
// "graceful shutdown") would duplicate or contradict ours.
var quietHertz sync.Once

// hertzPrefetch is how much of a body Hertz reads before handing the rest
// to us as a stream when max_body_size is 0 (no limit).
const hertzPrefetch = 4 << 20

// idleWithoutReadTimeout is how long an idle keep-alive connection is kept
// when read_timeout is 0 (Hertz's default idle timeout).
const idleWithoutReadTimeout = 3 * time.Minute

// flushGrace is how long Shutdown lets the answers given at its deadline
// flush before it cuts the connections still open.
const flushGrace = 50 * time.Millisecond

// Start opens the listener and serves in the background (Hertz Run in a
// goroutine; signals stay the host's). It returns once the listener
// accepts connections, or the error that prevented it.
func (a *App) Start() error {
	a.life.Lock()
	defer a.life.Unlock()
	a.mu.Lock()
	if a.started || a.stopped {
		a.mu.Unlock()
		return ErrStarted
	}
	a.mu.Unlock()
	// The document describes the routes added until now; its own routes
	// join the table while AddRoute still takes them.
	if err := a.addDocs(); err != nil { // openapi.go
		return err
	}
	a.mu.Lock()
	a.started = true
	a.mu.Unlock()

	worker, err := a.takeWorkerRole()
	if err != nil {
		a.failStart()
		return err
	}
	if a.cfg.Broadcast.Redis != "" {
		relay, err := startRelay(&a.hub, a.cfg.Broadcast, a.log) // redisrelay.go
		if err != nil {
			a.failStart()
			return fmt.Errorf("spikard: %w", err)
		}
		a.hub.relay = relay
	}
	if a.guards.err != nil {
		a.failStart()
		return a.guards.err
	}
	if err := a.openLimits(); err != nil { // guard.go
		a.failStart()
		return fmt.Errorf("spikard: %w", err)
	}
	quietHertz.Do(func() { hlog.SetLevel(hlog.LevelFatal) })
	if a.cfg.SchedBatch {
		if err := batchThreads(); err != nil {
			a.log.Printf("spikard: sched_batch: %v (serving under the default policy)", err)
		}
	}

	// We listen ourselves so that port 0 works, Port is known before
	// Start returns, and the socket accepts (kernel backlog) from here on.
	ln, err := a.listen()
	if err != nil {
		a.failStart()
		return fmt.Errorf("spikard: listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	dl, err := newDrainListener(ln) // drainlistener_linux.go
	if err != nil {
		_ = ln.Close()
		a.failStart()
		return fmt.Errorf("spikard: listen: %w", err)
	}
	a.ln = dl
	a.port.Store(int32(port))

	limit := hertzPrefetch
	if m := a.cfg.MaxBodySize; m > 0 && m < math.MaxInt32 {
		limit = int(m)
	}
	// Hertz gets no deadline of its own: Shutdown bounds the wait, and
	// calls Hertz's only once every connection is closed.
	exitWait := time.Hour
	opts := []config.Option{
		server.WithListener(dl),
		server.WithHostPorts(dl.Addr().String()),
		server.WithDisablePrintRoute(true),
		// Streaming lets us see an oversized body in our handler and answer
		// 413 problem details; Hertz's own 413 is plain text.
		server.WithStreamBody(true),
		server.WithMaxRequestBodySize(limit),
		// A connection keeps no large body buffer between requests
		// (body.go's keepBodyCap): Hertz's default keeps up to 4 MB.
		server.WithMaxKeepBodySize(keepBodyCap),
		server.WithDisablePreParseMultipartForm(true),
		// Cancels the connection's context when the client goes away, so a
		// request waiting on a lane can be dropped.
		server.WithSenseClientDisconnection(true),
		// An answer carries the content-type its host gave, or none: Hertz's
		// text/plain default would label bytes differently per binding.
		server.WithDisableDefaultContentType(true),
		server.WithRedirectTrailingSlash(false),
		server.WithRedirectFixedPath(false),
		server.WithHandleMethodNotAllowed(false),
		server.WithExitWaitTime(exitWait),
		server.WithOnAccept(a.onAccept),
		// Netpoll applies the read timeout to every blocking read of a
		// request; the front (front.go) bounds the wait for the next
		// request on a keep-alive connection and, with header_timeout, a
		// whole head. Each keeps a stalled client from holding a
		// connection and its goroutine.
		server.WithReadTimeout(a.cfg.ReadTimeout),
		// The front enforces max_header_size itself, in a problem
		// document; Hertz's own limit (plain text) must never come first.
		server.WithMaxHeaderBytes(0),
	}
	h := server.New(opts...)
	// Hertz's HTTP/1.1 server runs under the front (front.go), which
	// checks each request head before Hertz parses it.
	h.Engine.AddProtocol(suite.HTTP1, &frontFactory{engine: h.Engine, front: a.front()})
	// One catch-all handler; our own tree routes. Any("/*path") takes
	// every method Hertz lists (NoRoute alone would let Hertz replace an
	// empty-bodied 404 from a host with its own text); NoRoute takes the
	// other methods, so they get our 405 or 404.
	if a.alog != nil {
		a.alog.start()
	}
	h.Any("/*path", a.serveHTTP)
	h.NoRoute(a.serveHTTP)
	a.srv = h

	// Start returns once netpoll's server has the listening socket: a
	// Shutdown issued at once then finds a server to stop (before that,
	// Hertz's would return with nothing stopped, and the server start
	// afterwards and serve on).
	a.runDone = make(chan struct{})
	runErr := make(chan error, 1)
	go func() {
		defer close(a.runDone)
		defer func() {
			if r := recover(); r != nil {
				runErr <- fmt.Errorf("spikard: server stopped: %v", r)
			}
		}()
		runErr <- h.Run()
	}()
	select {
	case <-dl.registered:
	case err := <-runErr:
		_ = dl.Close()
		a.failStart()
		return fmt.Errorf("spikard: start: %w", err)
	}
	worker.ready()
	if !a.cfg.Quiet {
		a.log.Printf("spikard: listening on http://%s", net.JoinHostPort(a.cfg.Host, strconv.Itoa(a.Port())))
	}
	return nil
}

// front is the request-head front of the app's config (front.go).
func (a *App) front() front {
	return front{
		limits: headLimits{uri: a.cfg.MaxURILength, fields: a.cfg.MaxHeaderSize, count: a.cfg.MaxHeaderCount,
			maxBody: a.cfg.MaxBodySize},
		read:    a.cfg.ReadTimeout,
		idle:    a.idleTimeout(),
		header:  a.cfg.HeaderTimeout,
		sockets: &a.sockets,
	}
}

// idleTimeout is how long a connection may wait for a request's first
// byte: a new one, or a keep-alive one between requests.
func (a *App) idleTimeout() time.Duration {
	if rt := a.cfg.ReadTimeout; rt > 0 {
		return rt
	}
	return idleWithoutReadTimeout
}

// onAccept is Hertz's OnAccept hook: the connection is tracked, and
// closed if its first byte does not come within the idle timeout.
func (a *App) onAccept(conn net.Conn) context.Context {
	ctx, cs := a.conns.onAccept(conn) // conns.go
	t := time.AfterFunc(a.idleTimeout(), func() { _ = conn.Close() })
	if cs == nil {
		return context.WithValue(ctx, firstByteKey{}, t)
	}
	cs.first = t
	return ctx
}

func (a *App) failStart() {
	a.closeLimits()
	if a.hub.relay != nil {
		a.hub.relay.close()
		a.hub.relay = nil
	}
	a.mu.Lock()
	a.started = false
	a.mu.Unlock()
}

// Shutdown stops accepting, lets the requests begun finish until ctx ends,
// answers the rest 503 and closes lanes (Poll then returns ErrClosed).
//
// The listening socket closes once the connections the kernel queued on it
// have been accepted (drainlistener_linux.go); each is served. A connection
// is busy from its request's first byte until its answer is written
// (conns.go): idle keep-alive connections close at once, busy ones close
// after their answer (which says Connection: close), and a request whose
// head or body is still arriving at the deadline is cut. SSE streams are
// ended at once, flushing what they have queued; WebSockets close with
// 1001; other streams and WRITTEN answers may run until ctx ends and are
// then cut off. Every exchange so ended that asked for a terminal event
// (or, for a request a host holds, for "disconnect") gets EventDisconnect
// GoneStopping before the lanes close, so a host that polls until ErrClosed
// sees it. It is safe to call more than once, before Start and right after
// it; later calls wait for the first to finish.
func (a *App) Shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() {
		a.life.Lock()
		defer a.life.Unlock()
		a.stopErr = a.shutdown(ctx)
	})
	<-a.done
	return a.stopErr
}

// The phases of an app's life, in App.phase.
const (
	phaseServing  int32 = iota
	phaseDraining       // Shutdown has begun: requests are served, each answer closes its connection
	phaseClosing        // the drain is over: a request that still comes is answered 503
)

func (a *App) shutdown(ctx context.Context) error {
	a.mu.Lock()
	started := a.started
	a.stopped = true
	a.mu.Unlock()
	defer close(a.done)
	if !started {
		a.closeLanes()
		return nil
	}
	a.phase.Store(phaseDraining)

	// What the kernel queued is accepted, then the socket closes; every
	// connection netpoll was handed reaches the set before it is swept.
	handed := a.ln.drain()
	a.conns.drain()
	for handed >= 0 && a.conns.seen() < handed && ctx.Err() == nil {
		runtime.Gosched() // netpoll's poller is inside onAccept
	}

	// SSE streams end now (their clients reconnect by design), flushing
	// what is queued; raw streams and WRITTEN answers may finish until the
	// deadline, which ends them. Each ended so gets EventDisconnect
	// GoneStopping, queued before the lanes close.
	a.streams.stop()
	a.sockets.stop() // every WebSocket closes with 1001 (websocket.go)
	if !a.waitQuiet(ctx.Done()) {
		a.phase.Store(phaseClosing)
		a.streams.force()
		a.sockets.force()
		close(a.force) // remaining waiters answer 503 now
		grace, cancel := context.WithTimeout(context.Background(), time.Second)
		a.waitDrained(grace.Done())
		cancel()
		// Let the answers just given leave; what is still open then is a
		// request whose head or body is still arriving: it is cut.
		flush := time.NewTimer(flushGrace)
		for cut := false; !cut && a.conns.open() > 0; {
			select {
			case <-a.conns.changed:
			case <-flush.C:
				cut = true
			}
		}
		flush.Stop()
	}
	a.phase.Store(phaseClosing)
	if a.alog != nil {
		// Every request that left the handler has pushed its line; the
		// last batch goes out while the lanes still take it.
		a.alog.stop()
	}
	a.closeLanes()
	if a.hub.relay != nil {
		a.hub.relay.close()
	}
	a.closeLimits()
	a.conns.closeAll()

	// netpoll's server: it detaches and closes the listener's fd and
	// waits for the connections just closed to let go.
	select {
	case <-a.runDone:
		return nil // it has stopped on its own
	default:
	}
	hctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := a.srv.Engine.Shutdown(hctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// waitQuiet waits until every connection is closed and no request is in
// the handler, closing idle connections as it goes; false when stop fired
// first.
func (a *App) waitQuiet(stop <-chan struct{}) bool {
	var grace *time.Timer
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	for {
		left, next := a.conns.sweep()
		if left == 0 && a.inflight.Load() == 0 {
			return true
		}
		var graceC <-chan time.Time
		if !next.IsZero() {
			if grace == nil {
				grace = time.NewTimer(time.Until(next))
			} else {
				grace.Reset(time.Until(next))
			}
			graceC = grace.C
		}
		select {
		case <-a.conns.changed:
		case <-a.drained:
		case <-graceC:
		case <-stop:
			return false
		}
	}
}

// waitDrained waits until no request is in the handler, or stop fires.
func (a *App) waitDrained(stop <-chan struct{}) bool {
	for a.inflight.Load() > 0 {
		select {
		case <-a.drained:
		case <-stop:
			return a.inflight.Load() == 0
		}
	}
	return true
}

func (a *App) closeLanes() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range a.lanes {
		l.close()
	}
}

// Close shuts the app down if it still runs (as Shutdown with the
// configured ShutdownTimeout) and closes the fds of the Pollers not closed
// yet. Call it last: fds returned by Poller.ReadyFD are invalid afterwards.
func (a *App) Close() error {
	timeout := a.cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := a.Shutdown(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range a.lanes {
		l.release()
	}
	return err
}
