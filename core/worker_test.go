package core

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTakeWorkerEnvReadsAndUnsetsTheVariables(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil { // without O_CLOEXEC, as a worker inherits it
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	t.Setenv(envWorker, "1")
	t.Setenv(envWorkerAddr, "[::1]:8123")
	t.Setenv(envWorkerReadyFD, strconv.Itoa(fds[1]))
	t.Setenv(envSupervisorPID, "42")

	r := takeWorkerEnv()
	if r == nil || r.err != nil {
		t.Fatalf("role %+v", r)
	}
	if r.index != 1 || r.host != "::1" || r.port != "8123" || r.readyFD != fds[1] || r.supervisor != 42 {
		t.Errorf("role %+v", *r)
	}
	for _, name := range workerEnvNames {
		if v, ok := os.LookupEnv(name); ok {
			t.Errorf("%s=%s is still set: a worker's subprocesses would be workers", name, v)
		}
	}
	flags, err := unix.FcntlInt(uintptr(fds[1]), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("the ready fd would leak into the worker's subprocesses (flags %#x, %v)", flags, err)
	}
}

func TestTakeWorkerEnvRefusesMalformedVariables(t *testing.T) {
	good := map[string]string{envWorker: "0", envWorkerAddr: "127.0.0.1:80", envWorkerReadyFD: "3", envSupervisorPID: "7"}
	for name, bad := range map[string]string{
		envWorker:        "first",
		envWorkerAddr:    "127.0.0.1",
		envWorkerReadyFD: "1",
		envSupervisorPID: "0",
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range good {
				t.Setenv(k, v)
			}
			t.Setenv(name, bad)
			r := takeWorkerEnv()
			if r == nil || r.err == nil {
				t.Fatalf("%s=%q accepted: %+v", name, bad, r)
			}
		})
	}
	if r := takeWorkerEnv(); r != nil {
		t.Errorf("no variables, yet a role: %+v", r)
	}
}

func TestWorkerIndexOutsideAWorker(t *testing.T) {
	if _, err := WorkerIndex(); !errors.Is(err, ErrNotWorker) {
		t.Errorf("WorkerIndex in the test process: %v, want ErrNotWorker", err)
	}
}
