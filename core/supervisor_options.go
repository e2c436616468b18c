package core

import (
	"encoding/json"
	"errors"
	"time"
)

// SupervisorOptions is how a Supervisor runs its workers. Start from
// DefaultSupervisorOptions or ParseSupervisorOptions.
type SupervisorOptions struct {
	Workers         int           // processes to run, at least 1
	Host            string        // the address every worker binds
	Port            int           // 0: the supervisor picks a free port once
	StartTimeout    time.Duration // how long a worker may take to listen; 0 means no limit
	ShutdownTimeout time.Duration // the workers' drain time; SIGKILL follows 5 s after it
	Quiet           bool          // no "listening on" and "listening again" lines
	Logger          Logger        // where the supervisor writes; nil means stderr
}

// maxWorkers bounds "workers": a typo of 20000 should be refused, not
// spawned.
const maxWorkers = 1024

// DefaultSupervisorOptions returns the documented defaults (see
// spikard_supervise in include/spikard.h); Workers has none and is 0.
func DefaultSupervisorOptions() SupervisorOptions {
	return SupervisorOptions{
		Host:            "127.0.0.1",
		Port:            8000,
		StartTimeout:    120 * time.Second,
		ShutdownTimeout: 5 * time.Second,
	}
}

// ParseSupervisorOptions reads the options document of spikard_supervise
// on top of DefaultSupervisorOptions. Like ParseConfig it refuses unknown
// keys and ill-typed values in words a host can show its user:
// `supervise: "workers": must be an integer in 1..1024`.
func ParseSupervisorOptions(doc []byte) (SupervisorOptions, error) {
	opts := DefaultSupervisorOptions()
	err := eachKey(doc, "supervise", func(k string, raw json.RawMessage) (err error) {
		switch k {
		case "workers":
			var n int64
			n, err = integer(raw, 1, maxWorkers)
			opts.Workers = int(n)
		case "host":
			opts.Host, err = hostName(raw)
		case "port":
			opts.Port, err = portNumber(raw)
		case "start_timeout":
			opts.StartTimeout, err = seconds(raw)
		case "shutdown_timeout":
			opts.ShutdownTimeout, err = seconds(raw)
		case "quiet":
			opts.Quiet, err = boolean(raw)
		default:
			return errUnknownKey
		}
		return err
	})
	if err != nil {
		return opts, err
	}
	if opts.Workers == 0 {
		return opts, errors.New(`supervise: "workers" is required`)
	}
	return opts, nil
}
