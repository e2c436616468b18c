package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// IdleReport is each of the two lines an idle run prints.
type IdleReport struct {
	Phase      string  `json:"phase"` // "open", then "closed"
	Open       int     `json:"open"`  // connections open at that moment
	Wanted     int     `json:"wanted"`
	DialSecs   float64 `json:"dial_seconds"`
	Dropped    int64   `json:"dropped"` // closed by the server while held
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
}

// runIdle opens n WebSockets, dialers handshakes at a time, reports, holds
// them until in ends (the harness closes it after sampling the server),
// and reports again. Its exit code is 1 when not all opened.
func runIdle(url string, n, dialers int, in io.Reader, out io.Writer) int {
	conns := make([]*websocket.Conn, n)
	var errs errorLog
	var mu sync.Mutex
	var dropped atomic.Int64
	var holding atomic.Bool
	holding.Store(true)
	next := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for d := 0; d < max(dialers, 1); d++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, _, err := dialer.Dial(url, nil)
				if err != nil {
					mu.Lock()
					errs.add(fmt.Errorf("dial %d: %w", i, err))
					mu.Unlock()
					continue
				}
				conns[i] = c
				// A reader per connection answers the server's pings and
				// notices a close; it reads nothing else from an idle one.
				go func() {
					if _, _, err := c.ReadMessage(); err != nil && holding.Load() {
						dropped.Add(1)
					}
				}()
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	open := 0
	for _, c := range conns {
		if c != nil {
			open++
		}
	}
	enc := json.NewEncoder(out)
	_ = enc.Encode(IdleReport{Phase: "open", Open: open, Wanted: n, DialSecs: time.Since(t0).Seconds(),
		Errors: errs.n, FirstError: errs.first})
	_, _ = io.Copy(io.Discard, in)
	holding.Store(false)
	report := IdleReport{Phase: "closed", Open: open - int(dropped.Load()), Wanted: n,
		Dropped: dropped.Load(), Errors: errs.n, FirstError: errs.first}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	_ = enc.Encode(report)
	if open < n {
		return 1
	}
	return 0
}
