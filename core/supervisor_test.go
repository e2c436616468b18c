package core

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The workers of these tests are this test binary run again in a role of
// main_test.go.

// lineLog is a Logger whose lines a test can wait for.
type lineLog struct{ lines chan string }

func newLineLog() *lineLog { return &lineLog{lines: make(chan string, 256)} }

func (l *lineLog) Printf(format string, args ...any) {
	select {
	case l.lines <- fmt.Sprintf(format, args...):
	default: // a test that writes 256 lines has failed already
	}
}

// waitFor returns the next line containing want, skipping others.
func (l *lineLog) waitFor(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line := <-l.lines:
			if strings.Contains(line, want) {
				return line
			}
		case <-timeout:
			t.Fatalf("no line with %q within 30 s", want)
		}
	}
}

// rest is the lines written and not yet read.
func (l *lineLog) rest() []string {
	var lines []string
	for {
		select {
		case line := <-l.lines:
			lines = append(lines, line)
		default:
			return lines
		}
	}
}

// stopWith passes sig to the supervisor and waits for the end: the status
// and error supervision ended with.
func stopWith(t *testing.T, s *Supervisor, sig syscall.Signal) (int, error) {
	t.Helper()
	if err := s.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return end(t, s)
}

// supervise runs workers of the role on 127.0.0.1 and a free port.
func supervise(t *testing.T, role string, workers int, mod func(*SupervisorOptions)) (*Supervisor, *lineLog) {
	t.Helper()
	log := newLineLog()
	opts := DefaultSupervisorOptions()
	opts.Workers, opts.Port, opts.Logger = workers, 0, log
	if mod != nil {
		mod(&opts)
	}
	s, err := Supervise([]string{os.Args[0]}, append(os.Environ(), testRoleEnv+"="+role), opts)
	if err != nil {
		t.Fatalf("Supervise: %v", err)
	}
	t.Cleanup(s.Close)
	return s, log
}

// end waits for supervision to end.
func end(t *testing.T, s *Supervisor) (int, error) {
	t.Helper()
	done, status, err := s.Wait(30 * time.Second)
	if !done {
		t.Fatal("the supervisor did not finish within 30 s")
	}
	return status, err
}

// fetch answers path on a fresh connection, so that SO_REUSEPORT may hand
// each request to another worker.
func fetch(t *testing.T, port int, path string) string {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %q %v", path, resp.StatusCode, body, err)
	}
	return string(body)
}

// answeringPids asks GET /pid until n workers have answered (the kernel
// picks a worker by a hash of the client's port, so a few dozen fresh
// connections suffice), or until seen holds want.
func answeringPids(t *testing.T, port, n int, want int) map[int]bool {
	t.Helper()
	seen := map[int]bool{}
	for range 500 {
		pid, err := strconv.Atoi(fetch(t, port, "/pid"))
		if err != nil {
			t.Fatal(err)
		}
		seen[pid] = true
		if len(seen) >= n && (want == 0 || seen[want]) {
			return seen
		}
	}
	t.Fatalf("after 500 requests only pids %v answered (want %d of them, and %d)", seen, n, want)
	return nil
}

func gone(pid int) bool { return syscall.Kill(pid, 0) == syscall.ESRCH }

func TestSupervisorServesFromEveryWorkerAndStopsOnSIGTERM(t *testing.T) {
	s, log := supervise(t, "serve", 2, nil)
	line := log.waitFor(t, "listening on")
	if want := fmt.Sprintf("spikard: listening on http://127.0.0.1:%d (2 workers)", s.Port()); line != want {
		t.Errorf("announced %q, want %q", line, want)
	}
	pids := answeringPids(t, s.Port(), 2, 0)
	if pids[os.Getpid()] || len(pids) != 2 {
		t.Fatalf("pids %v: want two workers", pids)
	}
	if env := fetch(t, s.Port(), "/env"); env != "" {
		t.Errorf("a worker still has the supervisor's variables: %s", env)
	}
	if err := s.Signal(syscall.SIGHUP); err == nil {
		t.Error("Signal(SIGHUP) was accepted; reload is not supported")
	}
	if err := s.Signal(syscall.SIGUSR1); err == nil {
		t.Error("Signal(SIGUSR1) was accepted")
	}
	if done, _, _ := s.Wait(0); done {
		t.Fatal("supervision ended before it was asked to")
	}
	if status, err := stopWith(t, s, syscall.SIGTERM); status != 0 || err != nil {
		t.Errorf("after SIGTERM: status %d, %v; want 0", status, err)
	}
	for pid := range pids {
		if !gone(pid) {
			t.Errorf("worker %d outlived its supervisor", pid)
		}
	}
}

func TestSupervisorRestartsAWorkerThatDiesAfterItListened(t *testing.T) {
	s, log := supervise(t, "serve", 2, nil)
	log.waitFor(t, "listening on")
	pids := answeringPids(t, s.Port(), 2, 0)
	var victim int
	for pid := range pids {
		victim = pid
	}
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	line := log.waitFor(t, "restarting it")
	if !regexp.MustCompile(`^spikard: worker [01] exited with status 137 \(SIGKILL\); restarting it$`).MatchString(line) {
		t.Errorf("restart line %q", line)
	}
	m := regexp.MustCompile(`^spikard: worker [01] listening again \(pid (\d+)\)$`).FindStringSubmatch(log.waitFor(t, "listening again"))
	if m == nil {
		t.Fatal("the replacement's line is malformed")
	}
	replacement, _ := strconv.Atoi(m[1])
	if pids[replacement] {
		t.Fatalf("replacement pid %d is an old worker's", replacement)
	}
	answeringPids(t, s.Port(), 1, replacement)
	if status, err := stopWith(t, s, syscall.SIGINT); status != 0 || err != nil {
		t.Errorf("after SIGINT: status %d, %v; want 0", status, err)
	}
}

func TestSupervisorGivesUpOnAWorkerThatExitsBeforeItListens(t *testing.T) {
	s, _ := supervise(t, "exit-3", 2, nil)
	status, err := end(t, s)
	if status != 3 || err == nil ||
		!regexp.MustCompile(`^spikard: worker [01] exited with status 3 before it listened$`).MatchString(err.Error()) {
		t.Errorf("status %d, %v; want 3 and the worker named", status, err)
	}
}

func TestSupervisorGivesUpOnACrashLoop(t *testing.T) {
	s, log := supervise(t, "serve-exit-4", 1, nil)
	status, err := end(t, s)
	want := "spikard: worker 0 exited 5 times within 60 s (the last with status 4)"
	if status != 4 || err == nil || err.Error() != want {
		t.Errorf("status %d, %v; want 4, %q", status, err, want)
	}
	restarts := 0
	for _, line := range log.rest() {
		if strings.HasSuffix(line, "; restarting it") {
			restarts++
		}
	}
	if restarts != restartLimit-1 {
		t.Errorf("%d restarts, want %d", restarts, restartLimit-1)
	}
}

func TestSupervisorGivesUpOnAWorkerThatNeverListens(t *testing.T) {
	s, _ := supervise(t, "hang", 1, func(o *SupervisorOptions) { o.StartTimeout = 300 * time.Millisecond })
	status, err := end(t, s)
	if want := "spikard: worker 0 did not listen within 0.3 s"; status != 1 || err == nil || err.Error() != want {
		t.Errorf("status %d, %v; want 1, %q", status, err, want)
	}
}

func TestSupervisorExitsWithTheStatusOfAWorkerThatStoppedBadly(t *testing.T) {
	s, log := supervise(t, "serve-exit-7", 2, nil)
	log.waitFor(t, "listening on")
	if status, err := stopWith(t, s, syscall.SIGTERM); status != 7 || err != nil {
		t.Errorf("status %d, %v; want 7 and no error (the stop was asked for)", status, err)
	}
}

func TestSupervisorKillsAtASecondSignal(t *testing.T) {
	s, log := supervise(t, "serve-ignore-stop", 1, func(o *SupervisorOptions) { o.ShutdownTimeout = time.Minute })
	log.waitFor(t, "listening on")
	for range 2 {
		if err := s.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	if status, err := end(t, s); status != 137 || err != nil {
		t.Errorf("status %d, %v; want 137 (SIGKILL)", status, err)
	}
}

func TestSupervisorKillsAfterTheShutdownDeadline(t *testing.T) {
	s, log := supervise(t, "serve-ignore-stop", 1, func(o *SupervisorOptions) { o.ShutdownTimeout = 0 })
	log.waitFor(t, "listening on")
	began := time.Now()
	status, err := stopWith(t, s, syscall.SIGTERM)
	if status != 137 || err != nil {
		t.Errorf("status %d, %v; want 137 (SIGKILL)", status, err)
	}
	if waited := time.Since(began); waited < stopGrace {
		t.Errorf("killed after %v, before the deadline of %v", waited, stopGrace)
	}
}

func TestSupervisorCloseKillsTheWorkers(t *testing.T) {
	s, log := supervise(t, "serve-ignore-stop", 2, nil)
	log.waitFor(t, "listening on")
	pids := answeringPids(t, s.Port(), 2, 0)
	s.Close()
	if done, _, _ := s.Wait(0); !done {
		t.Fatal("Close returned before supervision ended")
	}
	for pid := range pids {
		if !gone(pid) {
			t.Errorf("worker %d outlived Close", pid)
		}
	}
}

func TestSuperviseRefusesWhatCannotRun(t *testing.T) {
	opts := DefaultSupervisorOptions()
	opts.Workers, opts.Port = 2, 0
	if _, err := Supervise(nil, nil, opts); err == nil {
		t.Error("empty argv accepted")
	}
	if _, err := Supervise([]string{"/nonexistent/spikard-worker"}, nil, opts); err == nil ||
		!strings.Contains(err.Error(), "start worker 0") {
		t.Errorf("a missing executable: %v", err)
	}
	opts.Workers = 0
	if _, err := Supervise([]string{os.Args[0]}, nil, opts); err == nil {
		t.Error("0 workers accepted")
	}
}

// Killed outright, a supervisor cannot stop its workers itself: the kernel
// does (PR_SET_PDEATHSIG). They hold the supervisor's stdout, so its EOF
// says all of them have exited.
func TestWorkersDoNotOutliveAKilledSupervisor(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("PR_SET_PDEATHSIG is Linux's")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sup := exec.Command(os.Args[0])
	sup.Env = append(os.Environ(), testRoleEnv+"=supervise")
	sup.Stdout = w
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var port int
	select {
	case line := <-lines:
		m := regexp.MustCompile(`:(\d+) \(2 workers\)$`).FindStringSubmatch(line)
		if m == nil {
			sup.Process.Kill()
			t.Fatalf("supervisor said %q", line)
		}
		port, _ = strconv.Atoi(m[1])
	case <-time.After(30 * time.Second):
		sup.Process.Kill()
		t.Fatal("the supervisor did not announce its workers")
	}
	answeringPids(t, port, 2, 0)
	if err := sup.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = sup.Wait()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case _, open := <-lines:
			if !open {
				return
			}
		case <-timeout:
			t.Fatal("workers still hold the supervisor's stdout 30 s after it was killed")
		}
	}
}

// A process with a worker's variables but another parent (they were
// inherited) is refused at Start and says nothing on the ready pipe.
func TestAWorkerWhoseParentIsNotItsSupervisorCannotStart(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(os.Args[0])
	notParent := os.Getpid() + 1
	cmd.Env = append(os.Environ(), testRoleEnv+"=start",
		envWorker+"=0", envWorkerAddr+"=127.0.0.1:0", envWorkerReadyFD+"=3",
		envSupervisorPID+"="+strconv.Itoa(notParent))
	cmd.ExtraFiles = []*os.File{w}
	out, err := cmd.Output()
	w.Close()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, output %q; want 2", err, out)
	}
	if want := fmt.Sprintf("its supervisor pid %d", notParent); !strings.Contains(string(out), ErrNotSupervised.Error()) ||
		!strings.Contains(string(out), want) {
		t.Errorf("Start said %q; want %q and %q", out, ErrNotSupervised, want)
	}
	if said, _ := io.ReadAll(r); len(said) != 0 {
		t.Errorf("the refused worker wrote %q on its ready pipe", said)
	}
}
