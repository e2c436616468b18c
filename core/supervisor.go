package core

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Supervisor serves one app from several worker processes. It spawns each
// worker by running the host's own command line again (fork and exec: the
// child runs no Go or host code before exec), with the variables of
// worker.go telling it its index, the address to bind with SO_REUSEPORT
// and the pipe to report readiness on; App.Start in the worker does the
// rest. The kernel spreads new connections over the workers.
//
// The rules: a worker that exits after it was ready is restarted at once
// under the same index; one that exits before its first "ready", a start
// timeout, or one index exiting restartLimit times within restartWindow
// makes the supervisor give up: it stops the rest and ends with an error.
// SIGINT or SIGTERM (passed in by the host, which owns signals) stops every
// worker with that signal, and SIGKILL follows ShutdownTimeout + stopGrace
// later or at a second signal.
type Supervisor struct {
	opts SupervisorOptions
	log  Logger
	argv []string
	env  []string // the host's environment without the worker variables
	addr string   // host:port, what every worker binds
	port int

	sigR *os.File // the signal pipe's read end, read by readSignals
	sigW int      // its write end, non-blocking: one byte per signal number

	events  chan supervisorEvent
	done    chan struct{} // closed once every worker has exited; status and err are set
	watcher *fileWatcher  // with opts.Reload
	status  int
	err     error

	closeOnce sync.Once
}

const (
	restartLimit  = 5                // exits of one index within restartWindow that end supervision
	restartWindow = 60 * time.Second //
	stopGrace     = 5 * time.Second  // after ShutdownTimeout, before SIGKILL
	workerReadyFD = 3                // the ready pipe, ExtraFiles[0] in the worker
)

// Supervise spawns opts.Workers processes running argv (argv[0] is the
// executable's path; there is no PATH search) with env (nil: this
// process's environment), and returns once they are spawned. Each worker
// gets SIGTERM if this process dies (Linux). It fails in a worker, with
// ErrInWorker.
func Supervise(argv, env []string, opts SupervisorOptions) (*Supervisor, error) {
	if thisWorker != nil {
		return nil, ErrInWorker
	}
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("spikard: supervise: argv is empty")
	}
	if opts.Workers < 1 {
		return nil, errors.New("spikard: supervise: workers must be at least 1")
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if env == nil {
		env = os.Environ()
	}
	log := opts.Logger
	if log == nil {
		log = stderrLogger{}
	}
	port := opts.Port
	if port == 0 {
		var err error
		if port, err = freePort(opts.Host); err != nil {
			return nil, err
		}
	}
	sigR, sigW, err := signalPipe()
	if err != nil {
		return nil, fmt.Errorf("spikard: supervise: signal pipe: %w", err)
	}
	s := &Supervisor{
		opts: opts,
		log:  log,
		argv: slices.Clone(argv),
		env: slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
			name, _, _ := strings.Cut(kv, "=")
			return slices.Contains(workerEnvNames[:], name)
		}),
		addr:   net.JoinHostPort(opts.Host, strconv.Itoa(port)),
		port:   port,
		sigR:   sigR,
		sigW:   sigW,
		events: make(chan supervisorEvent, 64),
		done:   make(chan struct{}),
	}
	if opts.Reload != nil {
		s.watcher, err = watchFiles(*opts.Reload, func(path string) {
			s.send(supervisorEvent{kind: filesChanged, path: path})
		})
		if err != nil {
			s.closePipe()
			return nil, err
		}
	}
	started := make(chan error, 1)
	go s.run(started)
	if err := <-started; err != nil {
		<-s.done
		s.closePipe()
		return nil, err
	}
	go s.readSignals()
	return s, nil
}

// freePort asks the kernel for a free port on host. Another process may
// take it before the workers bind it; they then fail to listen and the
// supervisor reports it.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("spikard: supervise: pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// signalPipe is the pipe that carries signals from the host's handler to
// the supervisor: its write end takes a write(2) from a signal handler
// without blocking, and its read end is a pollable *os.File.
func signalPipe() (*os.File, int, error) {
	var fds [2]int
	// Under ForkLock, as os does: a spawn between pipe and CloseOnExec would
	// hand the fds to a child.
	syscall.ForkLock.RLock()
	err := syscall.Pipe(fds[:])
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, -1, err
	}
	for _, fd := range fds {
		if err := syscall.SetNonblock(fd, true); err != nil {
			syscall.Close(fds[0])
			syscall.Close(fds[1])
			return nil, -1, err
		}
	}
	return os.NewFile(uintptr(fds[0]), "spikard-supervisor-signals"), fds[1], nil
}

// Port is the port every worker binds.
func (s *Supervisor) Port() int { return s.port }

// SignalFD is the write end of the signal pipe, for a signal handler
// written in C: one byte, the signal number, per signal. It stays open
// until Close.
func (s *Supervisor) SignalFD() int { return s.sigW }

// Signal passes a signal the host received: SIGINT or SIGTERM begins a
// graceful stop, and a second one kills the workers. SIGHUP (reload) is
// not supported yet; other signals are refused.
func (s *Supervisor) Signal(sig syscall.Signal) error {
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM:
	case syscall.SIGHUP:
		return errors.New("spikard: supervisor: SIGHUP (reload) is not supported")
	default:
		return fmt.Errorf("spikard: supervisor: signal %d is not SIGINT or SIGTERM", int(sig))
	}
	if _, err := syscall.Write(s.sigW, []byte{byte(sig)}); err != nil && err != syscall.EAGAIN {
		return fmt.Errorf("spikard: supervisor: %w", err)
	}
	return nil // EAGAIN: a full pipe has plenty of signals for the supervisor to read
}

// Done is closed once supervision has ended: every worker has exited.
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// Wait waits up to timeout (0: just check; negative: until the end) for
// supervision to end. Once done, status is the exit status for the host to
// exit with, and err is non-nil if the supervisor gave up on a worker; it
// names the worker and its status.
func (s *Supervisor) Wait(timeout time.Duration) (done bool, status int, err error) {
	switch {
	case timeout < 0:
		<-s.done
	case timeout == 0:
		select {
		case <-s.done:
		default:
			return false, 0, nil
		}
	default:
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-s.done:
		case <-t.C:
			return false, 0, nil
		}
	}
	return true, s.status, s.err
}

// Close kills the workers if supervision has not ended, waits for them,
// and closes the signal pipe: SignalFD is invalid afterwards. Closing
// twice is harmless.
func (s *Supervisor) Close() {
	s.closeOnce.Do(func() {
		s.send(supervisorEvent{kind: abandoned})
		<-s.done
		s.closePipe()
	})
}

func (s *Supervisor) closePipe() {
	s.sigR.Close() // ends readSignals
	syscall.Close(s.sigW)
}

// send hands the loop an event; once the loop has ended nobody reads, and
// the event no longer matters.
func (s *Supervisor) send(ev supervisorEvent) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}

// readSignals turns the bytes a signal handler wrote into events.
func (s *Supervisor) readSignals() {
	var buf [64]byte
	for {
		n, err := s.sigR.Read(buf[:])
		for _, b := range buf[:n] {
			s.send(supervisorEvent{kind: signalled, signo: syscall.Signal(b)})
		}
		if err != nil {
			return
		}
	}
}

type eventKind int

const (
	workerReady  eventKind = iota // the worker wrote its ready line
	workerExited                  // the worker exited and was reaped
	workerLate                    // StartTimeout passed since the worker was spawned
	stopDeadline                  // ShutdownTimeout + stopGrace passed since the stop began
	signalled                     // the host passed a signal
	abandoned                     // Close was called before the end
	filesChanged                  // with Reload: a watched file changed
	reloadNow                     // with Reload: reloadSettle passed since the first change
)

type supervisorEvent struct {
	kind  eventKind
	index int // for the worker kinds
	gen   int // which spawn of index: a late timer of an earlier one is stale
	state *os.ProcessState
	signo syscall.Signal
	path  string // filesChanged
}

// workerSlot is one worker index and its current process.
type workerSlot struct {
	index   int
	gen     int // spawns so far
	cmd     *exec.Cmd
	alive   bool
	ready   bool
	late    *time.Timer // the start timeout, nil once ready
	exits   []time.Time // recent exits after ready, for restartLimit
	restart bool        // with Reload: stopped for a change, to be spawned again at its exit
}

// supervision is the state of the run goroutine, which alone touches it.
type supervision struct {
	*Supervisor
	slots      []*workerSlot
	alive      int
	announced  bool           // the "listening on" line was written
	stopping   bool           // no more restarts; waiting for the rest to exit
	stopSignal syscall.Signal // what the workers were sent
	failed     bool           // status (and err, if we gave up) hold the first failure
	status     int
	err        error
	deadline   *time.Timer
	settle     *time.Timer // with Reload: armed by the first change of a burst
	changed    string      // with Reload: the first file of the burst, for the log line
}

// run is the supervisor's one goroutine: it spawns every worker and
// handles events until the last worker has exited.
func (s *Supervisor) run(started chan<- error) {
	// PR_SET_PDEATHSIG fires when the *thread* that spawned a child ends,
	// not the process. Every spawn happens here, and the thread stays
	// locked (never unlocked: the runtime ends it when this goroutine
	// returns) until no worker is left, so the runtime cannot retire it
	// under a live worker.
	runtime.LockOSThread()
	v := &supervision{Supervisor: s, slots: make([]*workerSlot, s.opts.Workers)}
	for i := range v.slots {
		v.slots[i] = &workerSlot{index: i}
	}
	var startErr error
	for _, slot := range v.slots {
		if err := v.spawn(slot); err != nil {
			startErr = err
			v.giveUp(1, err)
			break
		}
	}
	started <- startErr
	// With Reload the supervisor outlives workers that failed to start: it
	// waits for a change, or a stop.
	for v.alive > 0 || (s.opts.Reload != nil && !v.stopping) {
		v.handle(<-s.events)
	}
	if v.deadline != nil {
		v.deadline.Stop()
	}
	if v.settle != nil {
		v.settle.Stop()
	}
	if s.watcher != nil {
		s.watcher.close()
	}
	s.status, s.err = v.status, v.err
	close(s.done)
}

func (v *supervision) handle(ev supervisorEvent) {
	switch ev.kind {
	case signalled:
		if ev.signo != syscall.SIGINT && ev.signo != syscall.SIGTERM {
			return
		}
		if v.stopping {
			v.killAll() // a second signal: the user will not wait
			return
		}
		v.beginStop(ev.signo)
	case stopDeadline:
		v.killAll()
	case abandoned:
		v.stopping = true
		v.killAll()
	case filesChanged:
		if !v.stopping && v.settle == nil {
			v.changed = ev.path
			v.settle = time.AfterFunc(reloadSettle, func() { v.send(supervisorEvent{kind: reloadNow}) })
		}
	case reloadNow:
		v.settle = nil
		if !v.stopping {
			v.reload()
		}
	case workerReady, workerExited, workerLate:
		slot := v.slots[ev.index]
		switch {
		case ev.gen != slot.gen: // about an earlier process of the index
		case ev.kind == workerReady:
			v.onReady(slot)
		case ev.kind == workerExited:
			v.onExit(slot, ev.state)
		case slot.alive && !slot.ready && !v.stopping:
			v.giveUp(1, fmt.Errorf("spikard: worker %d did not listen within %s s",
				slot.index, strconv.FormatFloat(v.opts.StartTimeout.Seconds(), 'g', -1, 64)))
		}
	}
}

func (v *supervision) onReady(slot *workerSlot) {
	slot.ready = true
	if slot.late != nil {
		slot.late.Stop()
		slot.late = nil
	}
	if v.stopping {
		return
	}
	if v.announced {
		if !v.opts.Quiet {
			v.log.Printf("spikard: worker %d listening again (pid %d)", slot.index, slot.cmd.Process.Pid)
		}
		return
	}
	for _, w := range v.slots {
		if !w.ready {
			return
		}
	}
	v.announced = true
	if !v.opts.Quiet {
		workers := "workers"
		if len(v.slots) == 1 {
			workers = "worker"
		}
		v.log.Printf("spikard: listening on http://%s (%d %s)", v.addr, len(v.slots), workers)
	}
}

func (v *supervision) onExit(slot *workerSlot, state *os.ProcessState) {
	slot.alive = false
	v.alive--
	if slot.late != nil {
		slot.late.Stop()
		slot.late = nil
	}
	status := exitStatus(state)
	if v.opts.Reload != nil && !v.stopping {
		v.onReloadExit(slot, state)
		return
	}
	switch {
	case v.stopping:
		// Exiting 0 or by the signal it was sent is how a worker stops.
		if !v.failed && status != 0 && status != 128+int(v.stopSignal) {
			v.failed, v.status = true, status
		}
		return
	case !slot.ready:
		v.giveUp(status, fmt.Errorf("spikard: worker %d exited with %s before it listened",
			slot.index, describeExit(state)))
		return
	}
	now := time.Now()
	slot.exits = append(slices.DeleteFunc(slot.exits, func(t time.Time) bool {
		return now.Sub(t) >= restartWindow
	}), now)
	if len(slot.exits) >= restartLimit {
		v.giveUp(status, fmt.Errorf("spikard: worker %d exited %d times within %d s (the last with %s)",
			slot.index, len(slot.exits), int(restartWindow/time.Second), describeExit(state)))
		return
	}
	v.log.Printf("spikard: worker %d exited with %s; restarting it", slot.index, describeExit(state))
	if err := v.spawn(slot); err != nil {
		v.giveUp(1, err)
	}
}

// reload restarts every worker after a change: a live one is stopped
// gracefully and spawned again at its exit; one that had failed is spawned
// now.
func (v *supervision) reload() {
	if !v.opts.Quiet {
		v.log.Printf("spikard: %s changed; restarting the workers", v.changed)
	}
	for _, w := range v.slots {
		w.exits = w.exits[:0]
		if w.alive {
			w.restart = true
			_ = w.cmd.Process.Signal(syscall.SIGTERM) // an error: it has just exited, and its event follows
			continue
		}
		if err := v.spawn(w); err != nil {
			v.giveUp(1, err)
			return
		}
	}
}

// onReloadExit is onExit with Reload: a worker stopped for a change starts
// again; one that failed (before it listened, or repeatedly after) waits
// for the next change instead of ending supervision, since the user is
// editing the code it failed on.
func (v *supervision) onReloadExit(slot *workerSlot, state *os.ProcessState) {
	if slot.restart {
		slot.restart = false
		if err := v.spawn(slot); err != nil {
			v.giveUp(1, err)
		}
		return
	}
	if !slot.ready {
		v.log.Printf("spikard: worker %d exited with %s before it listened; waiting for a change to a watched file",
			slot.index, describeExit(state))
		return
	}
	now := time.Now()
	slot.exits = append(slot.exits, now)
	if len(slot.exits) >= restartLimit {
		v.log.Printf("spikard: worker %d exited %d times (the last with %s); waiting for a change to a watched file",
			slot.index, len(slot.exits), describeExit(state))
		return
	}
	v.log.Printf("spikard: worker %d exited with %s; restarting it", slot.index, describeExit(state))
	if err := v.spawn(slot); err != nil {
		v.giveUp(1, err)
	}
}

// giveUp ends supervision with err: the other workers are stopped, and
// status is what the host exits with.
func (v *supervision) giveUp(status int, err error) {
	if !v.failed {
		v.failed, v.status, v.err = true, status, err
	}
	v.beginStop(syscall.SIGTERM)
}

// beginStop sends sig to every live worker and arms the SIGKILL deadline.
func (v *supervision) beginStop(sig syscall.Signal) {
	if v.stopping {
		return
	}
	v.stopping, v.stopSignal = true, sig
	if v.settle != nil {
		v.settle.Stop()
		v.settle = nil
	}
	for _, w := range v.slots {
		if w.late != nil {
			w.late.Stop()
			w.late = nil
		}
		if w.alive {
			_ = w.cmd.Process.Signal(sig) // an error: it has just exited, and its event follows
		}
	}
	v.deadline = time.AfterFunc(v.opts.ShutdownTimeout+stopGrace, func() {
		v.send(supervisorEvent{kind: stopDeadline})
	})
}

func (v *supervision) killAll() {
	for _, w := range v.slots {
		if w.alive {
			_ = w.cmd.Process.Kill()
		}
	}
}

// spawn starts slot's next process and the goroutine that watches it.
func (v *supervision) spawn(slot *workerSlot) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("spikard: start worker %d: %w", slot.index, err)
	}
	env := append(slices.Clip(v.env),
		envWorker+"="+strconv.Itoa(slot.index),
		envWorkerAddr+"="+v.addr,
		envWorkerReadyFD+"="+strconv.Itoa(workerReadyFD),
		envSupervisorPID+"="+strconv.Itoa(os.Getpid()),
	)
	cmd := &exec.Cmd{
		Path:        v.argv[0],
		Args:        v.argv,
		Env:         env,
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: workerProcAttr(),
	}
	err = cmd.Start()
	w.Close() // the worker's copy is the one that counts: EOF when it exits
	if err != nil {
		r.Close()
		return fmt.Errorf("spikard: start worker %d: %w", slot.index, err)
	}
	slot.gen++
	slot.cmd, slot.alive, slot.ready = cmd, true, false
	v.alive++
	index, gen := slot.index, slot.gen
	if t := v.opts.StartTimeout; t > 0 {
		slot.late = time.AfterFunc(t, func() {
			v.send(supervisorEvent{kind: workerLate, index: index, gen: gen})
		})
	}
	go v.watch(index, gen, cmd, r)
	return nil
}

// watch reports a worker's ready line, then its exit, in that order: the
// exit of a worker that had said "ready" must not be taken for a death
// before it.
func (v *supervision) watch(index, gen int, cmd *exec.Cmd, ready *os.File) {
	var line [len(readyLine)]byte
	if _, err := io.ReadFull(ready, line[:]); err == nil && string(line[:]) == readyLine {
		v.send(supervisorEvent{kind: workerReady, index: index, gen: gen})
	}
	ready.Close()
	_ = cmd.Wait() // a non-zero exit is an error too; the state says all
	v.send(supervisorEvent{kind: workerExited, index: index, gen: gen, state: cmd.ProcessState})
}

// exitStatus is a worker's exit status as a shell shows it: its code, or
// 128 + the signal that ended it; 1 if it could not be reaped.
func exitStatus(state *os.ProcessState) int {
	if state == nil {
		return 1
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// describeExit words exitStatus for a log line: "status 3", "status 137
// (SIGKILL)".
func describeExit(state *os.ProcessState) string {
	if state == nil {
		return "an unknown status (it could not be reaped)"
	}
	s := "status " + strconv.Itoa(exitStatus(state))
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		s += " (" + unix.SignalName(ws.Signal()) + ")"
	}
	return s
}
