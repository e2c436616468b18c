package core

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
)

// TestReloadRestartsOnAChangeAndOutlivesABrokenWorker: a change to a
// watched file restarts the worker; a worker that then fails to start
// leaves the supervisor waiting, and the next change brings it back.
func TestReloadRestartsOnAChangeAndOutlivesABrokenWorker(t *testing.T) {
	dir := t.TempDir()
	watched := filepath.Join(dir, "app.txt")
	if err := os.WriteFile(watched, []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPIKARD_TEST_RELOAD_FILE", watched)
	s, log := supervise(t, "serve-unless-broken", 1, func(o *SupervisorOptions) {
		o.Reload = &ReloadOptions{Paths: []string{dir}, Patterns: []string{"*.txt"}}
	})
	log.waitFor(t, "listening on")
	first := answeringPids(t, s.Port(), 1, 0)

	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(watched, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	again := regexp.MustCompile(`listening again \(pid (\d+)\)$`)
	write("ok, edited")
	if line := log.waitFor(t, "changed; restarting the workers"); line != "spikard: "+watched+" changed; restarting the workers" {
		t.Errorf("reload line %q", line)
	}
	m := again.FindStringSubmatch(log.waitFor(t, "listening again"))
	if m == nil {
		t.Fatal("no pid in the listening-again line")
	}
	second, _ := strconv.Atoi(m[1])
	if first[second] {
		t.Fatalf("pid %d answered before the change too: not restarted", second)
	}
	answeringPids(t, s.Port(), 1, second)

	write("broken")
	line := log.waitFor(t, "before it listened")
	if want := "spikard: worker 0 exited with status 3 before it listened; waiting for a change to a watched file"; line != want {
		t.Errorf("broken-worker line %q, want %q", line, want)
	}
	if done, _, _ := s.Wait(0); done {
		t.Fatal("the supervisor gave up on a broken worker in reload mode")
	}
	write("ok, fixed")
	log.waitFor(t, "listening again")
	answeringPids(t, s.Port(), 1, 0)

	if status, err := stopWith(t, s, syscall.SIGTERM); status != 0 || err != nil {
		t.Errorf("after SIGTERM: status %d, %v; want 0", status, err)
	}
}

// TestReloadStopsWhileEveryWorkerIsBroken: SIGTERM ends a supervisor that
// is waiting for a fix, with no worker alive.
func TestReloadStopsWhileEveryWorkerIsBroken(t *testing.T) {
	dir := t.TempDir()
	watched := filepath.Join(dir, "app.txt")
	if err := os.WriteFile(watched, []byte("broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPIKARD_TEST_RELOAD_FILE", watched)
	s, log := supervise(t, "serve-unless-broken", 2, func(o *SupervisorOptions) {
		o.Reload = &ReloadOptions{Paths: []string{watched}}
	})
	log.waitFor(t, "before it listened")
	log.waitFor(t, "before it listened")
	if status, err := stopWith(t, s, syscall.SIGTERM); status != 0 || err != nil {
		t.Errorf("after SIGTERM: status %d, %v; want 0", status, err)
	}
}

func TestReloadOptionsAreChecked(t *testing.T) {
	for doc, want := range map[string]string{
		`{"workers":1,"reload":{"paths":[]}}`:                 `supervise: "reload": "paths" must name at least one file or directory to watch`,
		`{"workers":1,"reload":{"paths":["."],"globs":[]}}`:   `supervise: "reload": must be an object of "paths" and "patterns", lists of strings: json: unknown field "globs"`,
		`{"workers":1,"reload":{"paths":[""]}}`:               `supervise: "reload": a path or pattern is empty`,
		`{"workers":1,"reload":{"paths":["."],"patterns":1}}`: `supervise: "reload": must be an object of "paths" and "patterns", lists of strings: json: cannot unmarshal number into Go struct field .patterns of type []string`,
	} {
		if _, err := ParseSupervisorOptions([]byte(doc)); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", doc, err, want)
		}
	}
	opts, err := ParseSupervisorOptions([]byte(`{"workers":1,"reload":{"paths":["a","b"],"patterns":["*.py"]}}`))
	if err != nil || opts.Reload == nil || len(opts.Reload.Paths) != 2 || opts.Reload.Patterns[0] != "*.py" {
		t.Fatalf("%+v %v", opts.Reload, err)
	}
	if _, err := watchFiles(ReloadOptions{Paths: []string{filepath.Join(t.TempDir(), "missing")}}, func(string) {}); err == nil {
		t.Error("watching a missing path was accepted")
	}
}
