package core

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testRoleEnv makes the test binary play a part for a test that runs it
// again: a worker of a Supervisor under test, or a supervisor itself.
const testRoleEnv = "SPIKARD_TEST_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(testRoleEnv); role != "" {
		play, ok := testRoles[role]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown %s=%q\n", testRoleEnv, role)
			os.Exit(99)
		}
		os.Exit(play())
	}
	os.Exit(m.Run())
}

var testRoles = map[string]func() int{
	// A worker serving GET /pid and GET /env until SIGTERM or SIGINT.
	"serve": func() int { return serveAsWorker(0) },
	// The same, exiting 7 after a clean stop.
	"serve-exit-7": func() int { return serveAsWorker(7) },
	// A worker that serves and ignores SIGTERM and SIGINT.
	"serve-ignore-stop": func() int {
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		if _, err := startWorkerApp(); err != nil {
			return 2
		}
		time.Sleep(time.Hour) // idle until SIGKILL
		return 0
	},
	// A worker that listens, then exits 4 at once: a crash loop.
	"serve-exit-4": func() int {
		if _, err := startWorkerApp(); err != nil {
			return 2
		}
		return 4
	},
	// A worker that exits 3 before it listens.
	"exit-3": func() int { return 3 },
	// A worker that exits 3 before it listens while the file named by
	// SPIKARD_TEST_RELOAD_FILE says "broken" (a syntax error), else serves.
	"serve-unless-broken": func() int {
		if b, _ := os.ReadFile(os.Getenv("SPIKARD_TEST_RELOAD_FILE")); string(b) == "broken" {
			fmt.Fprintln(os.Stderr, "worker: app.txt:1: broken")
			return 3
		}
		return serveAsWorker(0)
	},
	// A worker that never listens; SIGTERM ends it.
	"hang": func() int {
		time.Sleep(time.Hour)
		return 0
	},
	// A process that tries to start an app and prints what Start said.
	"start": func() int {
		app, err := startWorkerApp()
		if err != nil {
			fmt.Println(err)
			return 2
		}
		app.Close()
		fmt.Println("started")
		return 0
	},
	// A supervisor of two "serve" workers, writing its lines to stdout.
	"supervise": func() int {
		env := append(os.Environ(), testRoleEnv+"=serve")
		opts := DefaultSupervisorOptions()
		opts.Workers, opts.Port, opts.Logger = 2, 0, stdoutLogger{}
		s, err := Supervise([]string{os.Args[0]}, env, opts)
		if err != nil {
			fmt.Println(err)
			return 2
		}
		_, status, _ := s.Wait(-1)
		return status
	},
}

type stdoutLogger struct{}

func (stdoutLogger) Printf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// startWorkerApp starts an app as a worker's host would, on a config the
// worker role overrides: GET /pid answers the process id, GET /env the
// supervisor's variables as this process sees them (none, once taken).
func startWorkerApp() (*App, error) {
	cfg := DefaultConfig()
	cfg.Port = 0 // a worker binds its supervisor's address instead
	app := NewApp(cfg)
	routes := []RouteSpec{
		{Method: "GET", Path: "/pid", Handler: func(*Request) Response {
			return Response{Status: 200, Body: []byte(strconv.Itoa(os.Getpid()))}
		}},
		{Method: "GET", Path: "/env", Handler: func(*Request) Response {
			var seen []string
			for _, name := range workerEnvNames {
				if v, ok := os.LookupEnv(name); ok {
					seen = append(seen, name+"="+v)
				}
			}
			return Response{Status: 200, Body: []byte(strings.Join(seen, " "))}
		}},
	}
	for _, r := range routes {
		if _, err := app.AddRoute(r); err != nil {
			return nil, err
		}
	}
	return app, app.Start()
}

func serveAsWorker(exitAfterStop int) int {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	app, err := startWorkerApp()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Shutdown(ctx); err != nil {
		return 2
	}
	app.Close()
	return exitAfterStop
}
