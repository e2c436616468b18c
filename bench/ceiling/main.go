// Command ceiling answers the benchmark workloads with plain Hertz and no
// host language: the fastest Spikard could ever be, since Spikard's engine is
// this same server with a C ABI and a Python handler behind it. bench/run.py
// reports every server's throughput beside this one.
//
// It does the work WORKLOADS.md asks of every framework, at the same
// validation level as the Python apps: JSON bodies decoded into typed models
// with every field required and typed; path and query parameters converted
// to int, float, bool, UUID, date or a list; url-encoded forms read into
// typed structs; a multipart upload read to its end. It answers the same JSON
// as the Python apps, and 422 with a problem document when the input does
// not fit.
//
//	go run ./bench/ceiling -port 8080
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
)

func main() {
	host := flag.String("host", "127.0.0.1", "listen address")
	port := flag.Int("port", 8080, "listen port")
	flag.Parse()

	// Quiet: the harness reads nothing from the server's output.
	hlog.SetSilentMode(true)
	hlog.SetLevel(hlog.LevelError)

	h := server.New(
		server.WithHostPorts(*host+":"+strconv.Itoa(*port)),
		server.WithDisablePrintRoute(true),
	)

	h.POST("/json/small", jsonSmall)
	h.POST("/json/medium", jsonOrder)
	h.POST("/json/large", jsonOrder)
	h.POST("/json/very-large", jsonOrder)

	h.GET("/path/simple/:id", pathSimple)
	h.GET("/path/multiple/:user_id/:post_id", pathMultiple)
	h.GET("/path/deep/:org/:team/:project/:resource/:id", pathDeep)
	h.GET("/path/int/:value", pathInt)
	h.GET("/path/uuid/:id", pathUUID)
	h.GET("/path/date/:date", pathDate)

	h.GET("/query/few", queryFew)
	h.GET("/query/medium", queryMedium)
	h.GET("/query/many", queryMany)

	h.POST("/urlencoded/simple", formSimple)
	h.POST("/urlencoded/complex", formComplex)

	h.POST("/multipart/small", upload)
	h.POST("/multipart/medium", upload)
	h.POST("/multipart/large", upload)

	// Run, not Spin: the harness stops the server with SIGTERM and needs no
	// graceful drain, so the default signal behaviour (exit) is what we want.
	if err := h.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}
