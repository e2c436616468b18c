// Command ceiling is the realtime benchmark's plain-Hertz server: the same
// WebSocket echo and SSE stream as the Python apps, with no host language,
// through the same libraries as Spikard's core (Hertz, hertz-contrib/websocket).
// bench/realtime/harness.py runs it to show that the load generator on the
// other core outruns even this server, so that its figures for the Python
// servers are theirs, not the generator's.
//
//	go run ./bench/realtime/ceiling -port 8080
package main

import (
	"context"
	"encoding/json"
	"flag"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/protocol/http1/resp"
	"github.com/hertz-contrib/websocket"
)

var upgrader = websocket.HertzUpgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

// message is the generator's JSON; decoded into a struct and encoded again,
// it comes back in the order it was sent, as from the Python apps.
type message struct {
	Seq  int64  `json:"seq"`
	Conn int    `json:"conn"`
	Text string `json:"text"`
}

// echo sends every message back after decoding it as JSON and encoding it
// again, the work each Python app does.
func echo(_ context.Context, c *app.RequestContext) {
	_ = upgrader.Upgrade(c, func(conn *websocket.Conn) {
		defer conn.Close()
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var v message
			if err := json.Unmarshal(data, &v); err != nil {
				return
			}
			out, _ := json.Marshal(v)
			if err := conn.WriteMessage(kind, out); err != nil {
				return
			}
		}
	})
}

// events writes `data: {"seq":N,"text":"hello, realtime"}` events until
// the client leaves, flushing after every batch of 16 (Spikard's core
// drains whatever its queue holds in one write, so per-event flushes
// would not be the same work).
func events(_ context.Context, c *app.RequestContext) {
	c.SetContentType("text/event-stream")
	c.Response.Header.Set("Cache-Control", "no-cache")
	c.Response.HijackWriter(resp.NewChunkedBodyWriter(&c.Response, c.GetWriter()))
	buf := make([]byte, 0, 4096)
	for seq := int64(0); ; seq++ {
		buf = append(buf, `data: {"seq":`...)
		buf = strconv.AppendInt(buf, seq, 10)
		buf = append(buf, ",\"text\":\"hello, realtime\"}\n\n"...)
		if seq%16 == 15 {
			if _, err := c.Write(buf); err != nil {
				return
			}
			if err := c.Flush(); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
}

func main() {
	host := flag.String("host", "127.0.0.1", "listen address")
	port := flag.Int("port", 8080, "listen port")
	flag.Parse()
	hlog.SetSilentMode(true)
	hlog.SetLevel(hlog.LevelError)
	h := server.New(
		server.WithHostPorts(*host+":"+strconv.Itoa(*port)),
		server.WithDisablePrintRoute(true),
	)
	h.GET("/ws", echo)
	h.GET("/sse", events)
	h.Spin()
}
