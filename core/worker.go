package core

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// The variables a Supervisor gives each worker it spawns.
const (
	envWorker        = "SPIKARD_WORKER"          // the worker's index
	envWorkerAddr    = "SPIKARD_WORKER_ADDR"     // host:port, bound with SO_REUSEPORT
	envWorkerReadyFD = "SPIKARD_WORKER_READY_FD" // a pipe to write "ready\n" to once listening
	envSupervisorPID = "SPIKARD_SUPERVISOR_PID"  // the parent a worker must have
)

var workerEnvNames = [...]string{envWorker, envWorkerAddr, envWorkerReadyFD, envSupervisorPID}

// readyLine is what a worker writes on its ready pipe once it listens.
const readyLine = "ready\n"

// workerRole is what makes this process a worker: read from the
// environment when the package loads.
type workerRole struct {
	index      int
	host, port string
	readyFD    int
	supervisor int
	err        error // a variable was malformed: the role cannot be taken
}

var (
	// thisWorker is this process's role, nil unless a supervisor spawned
	// it. It is read at package initialisation, which for libspikard is
	// library load, before any host code could spawn a process of its own.
	thisWorker = takeWorkerEnv()
	// workerAppTaken is set by the first App to start in a worker.
	workerAppTaken atomic.Bool
)

// ErrNotWorker is WorkerIndex's answer in a process no supervisor spawned.
var ErrNotWorker = errors.New("spikard: this process is not a worker")

// ErrNotSupervised is returned by Start in a worker whose variables are
// malformed or whose parent is not the supervisor that set them (the
// variables were inherited by some other process).
var ErrNotSupervised = errors.New("spikard: not started by its supervisor")

// ErrInWorker is returned by Supervise in a worker: workers of workers
// would multiply with every level.
var ErrInWorker = errors.New("spikard: a worker cannot supervise workers")

// takeWorkerEnv reads and unsets the supervisor's variables, so that a
// worker's own subprocesses are not workers, and keeps the ready pipe
// from leaking into them. It returns nil when SPIKARD_WORKER is not set.
func takeWorkerEnv() *workerRole {
	var vals [len(workerEnvNames)]string
	for i, name := range workerEnvNames {
		vals[i] = os.Getenv(name)
		os.Unsetenv(name)
	}
	if vals[0] == "" {
		return nil
	}
	r := &workerRole{readyFD: -1}
	var err error
	if r.index, err = strconv.Atoi(vals[0]); err != nil || r.index < 0 {
		r.err = fmt.Errorf("%s=%q is not a worker index", envWorker, vals[0])
		r.index = -1
		return r
	}
	if r.host, r.port, err = net.SplitHostPort(vals[1]); err != nil {
		r.err = fmt.Errorf("%s=%q: %v", envWorkerAddr, vals[1], err)
		return r
	}
	if r.readyFD, err = strconv.Atoi(vals[2]); err != nil || r.readyFD < 3 {
		r.err = fmt.Errorf("%s=%q is not a file descriptor", envWorkerReadyFD, vals[2])
		r.readyFD = -1
		return r
	}
	syscall.CloseOnExec(r.readyFD)
	if r.supervisor, err = strconv.Atoi(vals[3]); err != nil || r.supervisor <= 0 {
		r.err = fmt.Errorf("%s=%q is not a process id", envSupervisorPID, vals[3])
	}
	return r
}

// WorkerIndex is this worker's index among its supervisor's workers, or
// ErrNotWorker in any other process. A worker whose variables were
// malformed gets an error wrapping ErrNotSupervised.
func WorkerIndex() (int, error) {
	r := thisWorker
	switch {
	case r == nil:
		return -1, ErrNotWorker
	case r.err != nil:
		return -1, fmt.Errorf("%w: %v", ErrNotSupervised, r.err)
	}
	return r.index, nil
}

// takeWorkerRole makes a the worker's app if this process is a worker and
// no app has taken the role yet: a then binds the supervisor's address
// with SO_REUSEPORT and quietly, whatever its config says. It returns the
// role, whose ready the caller calls once a listens, or nil.
func (a *App) takeWorkerRole() (*workerRole, error) {
	r := thisWorker
	if r == nil || !workerAppTaken.CompareAndSwap(false, true) {
		return nil, nil
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSupervised, r.err)
	}
	// The supervisor spawned us with PR_SET_PDEATHSIG; a parent of another
	// pid means these variables came to us some other way.
	if ppid := os.Getppid(); ppid != r.supervisor {
		return nil, fmt.Errorf("%w: worker %d's parent is pid %d, its supervisor pid %d",
			ErrNotSupervised, r.index, ppid, r.supervisor)
	}
	port, err := strconv.Atoi(r.port)
	if err != nil {
		return nil, fmt.Errorf("%w: %s port %q", ErrNotSupervised, envWorkerAddr, r.port)
	}
	a.cfg.Host, a.cfg.Port = r.host, port
	a.cfg.ReusePort, a.cfg.Quiet = true, true
	return r, nil
}

// ready tells the supervisor this worker listens: one line, then EOF. An
// error means the supervisor is gone, and its SIGTERM is on the way.
func (r *workerRole) ready() {
	if r == nil || r.readyFD < 0 {
		return
	}
	_, _ = syscall.Write(r.readyFD, []byte(readyLine))
	_ = syscall.Close(r.readyFD)
	r.readyFD = -1
}
