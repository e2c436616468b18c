package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// ParseConfig reads the JSON configuration document of spikard_app_new on
// top of DefaultConfig. Unknown keys and ill-typed values are errors that
// name the key.
func ParseConfig(doc []byte) (Config, error) {
	cfg := DefaultConfig()
	if len(bytes.TrimSpace(doc)) == 0 {
		return cfg, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return cfg, fmt.Errorf("config: %v", err)
	}
	for k, raw := range m {
		var err error
		switch k {
		case "host":
			err = json.Unmarshal(raw, &cfg.Host)
			if err == nil && cfg.Host == "" {
				err = fmt.Errorf("must not be empty")
			}
		case "port":
			var p int
			if err = json.Unmarshal(raw, &p); err == nil && (p < 0 || p > 65535) {
				err = fmt.Errorf("must be in 0..65535")
			}
			cfg.Port = p
		case "max_body_size":
			var n int64
			if err = json.Unmarshal(raw, &n); err == nil && n < 0 {
				err = fmt.Errorf("must not be negative")
			}
			cfg.MaxBodySize = n
		case "request_timeout":
			cfg.RequestTimeout, err = seconds(raw)
		case "read_timeout":
			cfg.ReadTimeout, err = seconds(raw)
		case "shutdown_timeout":
			cfg.ShutdownTimeout, err = seconds(raw)
		case "access_log":
			err = json.Unmarshal(raw, &cfg.AccessLog)
		case "quiet":
			err = json.Unmarshal(raw, &cfg.Quiet)
		case "reuse_port":
			err = json.Unmarshal(raw, &cfg.ReusePort)
		case "sched_batch":
			err = json.Unmarshal(raw, &cfg.SchedBatch)
		default:
			return cfg, fmt.Errorf("config: unknown key %q", k)
		}
		if err != nil {
			return cfg, fmt.Errorf("config: %q: %v", k, err)
		}
	}
	return cfg, nil
}

// seconds reads a non-negative number of seconds.
func seconds(raw json.RawMessage) (time.Duration, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, err
	}
	if f < 0 || math.IsNaN(f) || f > float64(math.MaxInt64/int64(time.Second)) {
		return 0, fmt.Errorf("must be a non-negative number of seconds")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// ParseRouteSpec reads the JSON route document of spikard_app_add_route.
// Unknown keys are ignored so newer hosts can send fields an older core
// does not know; "method" and "path" are required.
func ParseRouteSpec(doc []byte) (RouteSpec, error) {
	var s RouteSpec
	if err := json.Unmarshal(doc, &s); err != nil {
		return s, fmt.Errorf("route: %v", err)
	}
	if s.Method == "" {
		return s, fmt.Errorf("route: \"method\" is required")
	}
	if s.Path == "" {
		return s, fmt.Errorf("route: \"path\" is required")
	}
	return s, nil
}
