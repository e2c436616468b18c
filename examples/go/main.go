// Command example serves Spikard's quick-start routes from Go, with Go
// Handlers answering on the server's own goroutines:
//
//	go run ./examples/go -port 8000
//	curl http://127.0.0.1:8000/users/7
//	curl -d '{"id":1,"name":"Bob","email":"bob@example.com"}' \
//	     -H 'content-type: application/json' http://127.0.0.1:8000/users
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spikard/spikard/core"
)

func main() {
	port := flag.Int("port", 8000, "TCP port to listen on (0 picks a free one)")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	flag.Parse()

	cfg := core.DefaultConfig()
	cfg.Host, cfg.Port = *host, *port
	cfg.Logger = log.New(os.Stderr, "", log.LstdFlags)
	app := core.NewApp(cfg)
	for _, r := range routes() {
		if _, err := app.AddRoute(r); err != nil {
			log.Fatal(err)
		}
	}
	if err := app.Start(); err != nil {
		log.Fatal(err)
	}

	// Signals belong to the host; in Go the host is this program.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		log.Print(err)
	}
	_ = app.Close()
}
