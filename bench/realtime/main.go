// Command realtime is the load generator of the realtime benchmark
// (bench/realtime/harness.py runs it pinned to CPU 1, the server on CPU 0).
//
//	realtime -mode ws   -url ws://127.0.0.1:PORT/ws   [-conns 64] [-warmup 2s] [-duration 10s]
//	realtime -mode sse  -url http://127.0.0.1:PORT/sse [-conns 64] [-warmup 2s] [-duration 10s]
//	realtime -mode idle -url ws://127.0.0.1:PORT/ws   [-conns 10000] [-dialers 64]
//
// ws: each connection sends a small JSON message, waits for its echo,
// checks that it is the same JSON, and sends the next: one round trip at a
// time per connection. Every round trip's time goes into a histogram.
// sse: each subscriber reads an event stream as fast as the server writes
// it and counts its events (blocks with a field; comments do not count).
// Both run warm-up + duration and count only the round trips or events of
// the measured window; the result is one JSON object on stdout.
// idle: opens the WebSockets (a handshake each, nothing sent), prints one
// JSON line once they are all open, holds them until stdin closes, then
// prints a second line with how many the server dropped meanwhile.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Result is what a ws or sse run prints.
type Result struct {
	Mode       string   `json:"mode"`
	Conns      int      `json:"conns"`
	Seconds    float64  `json:"seconds"` // the measured window
	Count      uint64   `json:"count"`   // round trips or events in it
	Rate       float64  `json:"rate"`    // Count per second
	Latency    *Summary `json:"latency,omitempty"`
	Errors     int      `json:"errors"`
	FirstError string   `json:"first_error,omitempty"`
	CPUSeconds float64  `json:"cpu_seconds"` // this process's user+system time in the window
	Sample     string   `json:"sample,omitempty"`
}

// Summary is a latency histogram's figures, in milliseconds.
type Summary struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

func summarize(h *Histogram) *Summary {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return &Summary{
		P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.max), Mean: ms(h.Mean()),
	}
}

// window is the timing of a run: the load starts at start, counting at
// measure, and everything stops at end.
type window struct {
	start, measure, end time.Time
}

func newWindow(warmup, duration time.Duration) window {
	now := time.Now()
	return window{start: now, measure: now.Add(warmup), end: now.Add(warmup + duration)}
}

// cpuTime is this process's user+system time so far.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// cpuInWindow sleeps through w and returns the CPU seconds spent between
// its measure and end.
func cpuInWindow(w window) float64 {
	time.Sleep(time.Until(w.measure))
	mark("measuring")
	c0 := cpuTime()
	time.Sleep(time.Until(w.end))
	c := cpuTime() - c0
	mark("done")
	return c
}

// mark tells the harness, on stderr, that the measured window starts or
// ends, so that it samples the server's CPU over the same window.
func mark(what string) { fmt.Fprintln(os.Stderr, "realtime:", what) }

// errorLog keeps the count of errors and the first one.
type errorLog struct {
	n     int
	first string
}

func (e *errorLog) add(err error) {
	if e.n == 0 {
		e.first = err.Error()
	}
	e.n++
}

func main() {
	mode := flag.String("mode", "ws", "ws, sse or idle")
	url := flag.String("url", "", "ws://host:port/path (ws, idle) or http://host:port/path (sse)")
	conns := flag.Int("conns", 64, "connections (ws), subscribers (sse), idle connections (idle)")
	warmup := flag.Duration("warmup", 2*time.Second, "load before counting starts")
	duration := flag.Duration("duration", 10*time.Second, "the measured window")
	dialers := flag.Int("dialers", 64, "idle: handshakes in flight at once")
	flag.Parse()
	if *url == "" || *conns < 1 {
		fmt.Fprintln(os.Stderr, "realtime: -url and a positive -conns are required")
		os.Exit(2)
	}
	var out any
	switch *mode {
	case "ws":
		out = runEcho(*url, *conns, *warmup, *duration)
	case "sse":
		out = runSSE(*url, *conns, *warmup, *duration)
	case "idle":
		os.Exit(runIdle(*url, *conns, *dialers, os.Stdin, os.Stdout))
	default:
		fmt.Fprintf(os.Stderr, "realtime: unknown -mode %q\n", *mode)
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "realtime:", err)
		os.Exit(1)
	}
}
