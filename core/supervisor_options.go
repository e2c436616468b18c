package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SupervisorOptions is how a Supervisor runs its workers. Start from
// DefaultSupervisorOptions or ParseSupervisorOptions.
type SupervisorOptions struct {
	Workers         int            // processes to run, at least 1
	Host            string         // the address every worker binds
	Port            int            // 0: the supervisor picks a free port once
	StartTimeout    time.Duration  // how long a worker may take to listen; 0 means no limit
	ShutdownTimeout time.Duration  // the workers' drain time; SIGKILL follows 5 s after it
	Quiet           bool           // no "listening on" and "listening again" lines
	Logger          Logger         // where the supervisor writes; nil means stderr
	Reload          *ReloadOptions // restart the workers when a watched file changes; nil: never
}

// reloadOptions reads "reload": {"paths": [...], "patterns": [...]}, both
// lists of non-empty strings, paths required.
func reloadOptions(raw json.RawMessage) (*ReloadOptions, error) {
	var doc struct {
		Paths    []string `json:"paths"`
		Patterns []string `json:"patterns"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf(`must be an object of "paths" and "patterns", lists of strings: %v`, err)
	}
	if len(doc.Paths) == 0 {
		return nil, errors.New(`"paths" must name at least one file or directory to watch`)
	}
	for _, list := range [][]string{doc.Paths, doc.Patterns} {
		for _, s := range list {
			if s == "" {
				return nil, errors.New("a path or pattern is empty")
			}
		}
	}
	return &ReloadOptions{Paths: doc.Paths, Patterns: doc.Patterns}, nil
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
		case "reload":
			opts.Reload, err = reloadOptions(raw)
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
