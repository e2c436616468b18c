package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// message is the small JSON every echo round trip carries; an echo must
// decode to the same value (servers may space or order it their own way).
type message struct {
	Seq  int64  `json:"seq"`
	Conn int    `json:"conn"`
	Text string `json:"text"`
}

const echoText = "hello, realtime"

// encodeMessage writes the message without reflection: the generator's own
// cost per round trip must stay far below the server's.
func encodeMessage(buf []byte, conn int, seq int64) []byte {
	buf = append(buf[:0], `{"seq":`...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, `,"conn":`...)
	buf = strconv.AppendInt(buf, int64(conn), 10)
	buf = append(buf, `,"text":"`+echoText+`"}`...)
	return buf
}

// checkEcho is nil when reply is the JSON of the message sent: the same
// bytes (checked first, cheaply), or the same value spelled otherwise.
func checkEcho(reply, sent []byte, conn int, seq int64) error {
	if bytes.Equal(reply, sent) {
		return nil
	}
	var m message
	if err := json.Unmarshal(reply, &m); err != nil {
		return fmt.Errorf("the echo is not the JSON sent: %v: %.80q", err, reply)
	}
	if m.Seq != seq || m.Conn != conn || m.Text != echoText {
		return fmt.Errorf("the echo differs from the message sent (conn %d seq %d): %.80q", conn, seq, reply)
	}
	return nil
}

var dialer = websocket.Dialer{
	HandshakeTimeout: 10 * time.Second,
	ReadBufferSize:   4096,
	WriteBufferSize:  4096,
}

// runEcho dials every connection first (not timed), then runs the round
// trips of the window.
func runEcho(url string, n int, warmup, duration time.Duration) Result {
	res := Result{Mode: "ws", Conns: n, Seconds: duration.Seconds()}
	var errs errorLog
	cs := make([]*websocket.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, _, err := dialer.Dial(url, nil)
		if err != nil {
			errs.add(fmt.Errorf("dial: %w", err))
			break
		}
		cs = append(cs, c)
	}
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	if len(cs) < n {
		res.Errors, res.FirstError = errs.n, errs.first
		return res
	}
	w := newWindow(warmup, duration)
	hists := make([]Histogram, n)
	counts := make([]uint64, n)
	errCh := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func(i int, c *websocket.Conn) {
			defer wg.Done()
			errCh[i] = echoLoop(c, i, w, &hists[i], &counts[i])
		}(i, c)
	}
	res.CPUSeconds = cpuInWindow(w)
	wg.Wait()
	var all Histogram
	for i := range cs {
		all.Merge(&hists[i])
		res.Count += counts[i]
		if errCh[i] != nil {
			errs.add(errCh[i])
		}
	}
	res.Rate = float64(res.Count) / duration.Seconds()
	res.Latency = summarize(&all)
	res.Errors, res.FirstError = errs.n, errs.first
	return res
}

// echoLoop is one connection's round trips until w ends; those that start
// inside the measured window are recorded.
func echoLoop(c *websocket.Conn, conn int, w window, h *Histogram, count *uint64) error {
	buf := make([]byte, 0, 64)
	for seq := int64(0); ; seq++ {
		t0 := time.Now()
		if !t0.Before(w.end) {
			return nil
		}
		buf = encodeMessage(buf, conn, seq)
		if err := c.WriteMessage(websocket.TextMessage, buf); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		kind, reply, err := c.ReadMessage()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if kind != websocket.TextMessage {
			return errors.New("the echo is not a text message")
		}
		if err := checkEcho(reply, buf, conn, seq); err != nil {
			return err
		}
		if !t0.Before(w.measure) {
			h.Record(time.Since(t0))
			*count++
		}
	}
}
