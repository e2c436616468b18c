package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// eventCounter counts the events of an SSE byte stream fed to it in
// arbitrary pieces: a block of lines ended by a blank line is an event when
// one of its lines is a field (not a ":" comment, so keep-alives do not
// count). Lines may end in "\n" or "\r\n".
type eventCounter struct {
	lineStart bool // the next byte begins a line
	hasField  bool // the current block has a field line
	lineEmpty bool // the current line has had no byte but '\r'
	started   bool
}

// feed counts the events that end in p.
func (e *eventCounter) feed(p []byte) (events int) {
	if !e.started {
		e.lineStart, e.lineEmpty, e.started = true, true, true
	}
	for _, b := range p {
		switch b {
		case '\n':
			if e.lineEmpty {
				if e.hasField {
					events++
				}
				e.hasField = false
			}
			e.lineStart, e.lineEmpty = true, true
		case '\r':
			// part of a line ending; a blank line may be "\r\n"
		default:
			if e.lineStart && b != ':' {
				e.hasField = true
			}
			e.lineStart, e.lineEmpty = false, false
		}
	}
	return events
}

// runSSE opens every subscription first (not timed: the status and
// Content-Type are checked), then reads them all until the window ends.
func runSSE(url string, n int, warmup, duration time.Duration) Result {
	res := Result{Mode: "sse", Conns: n, Seconds: duration.Seconds()}
	var errs errorLog
	client := &http.Client{Transport: &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: n,
		MaxConnsPerHost:     0,
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bodies := make([]io.ReadCloser, 0, n)
	for i := 0; i < n; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := client.Do(req)
		if err != nil {
			errs.add(fmt.Errorf("subscribe: %w", err))
			break
		}
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
			resp.Body.Close()
			errs.add(fmt.Errorf("subscribe: status %d, Content-Type %q", resp.StatusCode, ct))
			break
		}
		bodies = append(bodies, resp.Body)
	}
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	if len(bodies) < n {
		res.Errors, res.FirstError = errs.n, errs.first
		return res
	}
	var total atomic.Uint64
	var sampleOnce sync.Once
	var sample string
	w := newWindow(warmup, duration)
	readErrs := make([]error, n)
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Add(1)
		go func(i int, body io.ReadCloser) {
			defer wg.Done()
			var ec eventCounter
			buf := make([]byte, 32<<10)
			for time.Now().Before(w.end) {
				k, err := body.Read(buf)
				if k > 0 {
					if i == 0 {
						sampleOnce.Do(func() { sample = string(buf[:min(k, 512)]) })
					}
					if ev := ec.feed(buf[:k]); ev > 0 {
						total.Add(uint64(ev))
					}
				}
				if err != nil {
					if time.Now().Before(w.end) {
						readErrs[i] = fmt.Errorf("read: %w", err)
					}
					return
				}
			}
		}(i, body)
	}
	time.Sleep(time.Until(w.measure))
	mark("measuring")
	c0, n0 := cpuTime(), total.Load()
	time.Sleep(time.Until(w.end))
	res.CPUSeconds, res.Count = cpuTime()-c0, total.Load()-n0
	mark("done")
	cancel() // ends the reads still blocked
	wg.Wait()
	for _, err := range readErrs {
		if err != nil {
			errs.add(err)
		}
	}
	res.Rate = float64(res.Count) / duration.Seconds()
	res.Errors, res.FirstError, res.Sample = errs.n, errs.first, sample
	return res
}
