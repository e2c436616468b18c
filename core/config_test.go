package core

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"host":"0.0.0.0","port":0,"max_body_size":10,"request_timeout":1.5,"read_timeout":0.25,"shutdown_timeout":2,"access_log":true,"quiet":true,"reuse_port":true,"sched_batch":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "0.0.0.0" || cfg.Port != 0 || cfg.MaxBodySize != 10 || cfg.RequestTimeout != 1500*time.Millisecond ||
		cfg.ReadTimeout != 250*time.Millisecond || cfg.ShutdownTimeout != 2*time.Second || !cfg.AccessLog || !cfg.Quiet || !cfg.ReusePort || !cfg.SchedBatch {
		t.Fatalf("%+v", cfg)
	}
	rs, err := ParseRouteSpec([]byte(`{"method":"GET","path":"/a","lane":1,"facts":["meta"]}`))
	if err != nil || rs.Lane != 1 || len(rs.Facts) != 1 {
		t.Fatalf("%+v %v", rs, err)
	}
}

func TestParseConfigEmptyIsDefault(t *testing.T) {
	for _, doc := range []string{"", "  ", "{}"} {
		cfg, err := ParseConfig([]byte(doc))
		if err != nil || !reflect.DeepEqual(cfg, DefaultConfig()) {
			t.Errorf("ParseConfig(%q) = %+v, %v", doc, cfg, err)
		}
	}
}

// Whole numbers written as floats (as some hosts' JSON encoders do) are
// integers; fractions are not.
func TestParseConfigWholeFloats(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"port":8080.0,"max_body_size":1e3}`))
	if err != nil || cfg.Port != 8080 || cfg.MaxBodySize != 1000 {
		t.Fatalf("%+v %v", cfg, err)
	}
}

// Every refusal names the key and says what the value must be, in words a
// host passes on to its user as they are.
func TestParseConfigRefusals(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"prot":1}`, `config: unknown key "prot"`},
		{`[1]`, `config: not a JSON object`},
		{`{"port":`, `config: not a JSON object`},
		{`{"host":""}`, `config: "host": must not be empty`},
		{`{"host":1}`, `config: "host": must be a string`},
		{`{"port":"x"}`, `config: "port": must be an integer in 0..65535`},
		{`{"port":-1}`, `config: "port": must be an integer in 0..65535`},
		{`{"port":65536}`, `config: "port": must be an integer in 0..65535`},
		{`{"port":80.5}`, `config: "port": must be an integer in 0..65535`},
		{`{"port":true}`, `config: "port": must be an integer in 0..65535`},
		{`{"max_body_size":-5}`, `config: "max_body_size": must be an integer of at least 0`},
		{`{"max_body_size":1e300}`, `config: "max_body_size": must be an integer of at least 0`},
		{`{"read_timeout":-1}`, `config: "read_timeout": must be a non-negative number of seconds`},
		{`{"request_timeout":"soon"}`, `config: "request_timeout": must be a non-negative number of seconds`},
		{`{"shutdown_timeout":1e300}`, `config: "shutdown_timeout": must be a non-negative number of seconds`},
		{`{"quiet":1}`, `config: "quiet": must be true or false`},
		{`{"access_log":"yes"}`, `config: "access_log": must be true, false or {"lane": N} (lines as SPIKARD_EVENT_LOG events on lane N)`},
		{`{"access_log":{"lane":-1}}`, `config: "access_log": "lane": must be an integer in 0..4294967295`},
		{`{"access_log":{"lane":0,"every":1}}`, `config: "access_log": must be true, false or {"lane": N} (lines as SPIKARD_EVENT_LOG events on lane N)`},
		{`{"reuse_port":null}`, `config: "reuse_port": must be true or false`},
		{`{"sched_batch":0}`, `config: "sched_batch": must be true or false`},
		{`{"serial_lanes":1}`, `config: "serial_lanes": must be a list of lane numbers`},
		{`{"serial_lanes":[-1]}`, `config: "serial_lanes": must be a list of lane numbers (integers in 0..4294967295)`},
		{`{"serial_lanes":[1,1]}`, `config: "serial_lanes": lists lane 1 twice`},
		{`{"stall_after":0}`, `config: "stall_after": must be a positive number of seconds`},
		{`{"port":null}`, `config: "port": must be an integer in 0..65535`},
		{`{"read_timeout":null}`, `config: "read_timeout": must be a non-negative number of seconds`},
		{`{"host":null}`, `config: "host": must be a string`},
	} {
		_, err := ParseConfig([]byte(c.doc))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("ParseConfig(%s): err %v, want %q", c.doc, err, c.want)
		}
	}
}

func TestParseRouteSpecRefusesUnknownKeysAndNull(t *testing.T) {
	for doc, want := range map[string]string{
		`{"method":"POST","path":"/x","body_shema":{}}`:    `route: unknown key "body_shema"`,
		`{"method":"POST","path":"/x","body_schema":null}`: `route: "body_schema": must not be null (omit the key instead)`,
		`[1]`: `route: not a JSON object`,
	} {
		_, err := ParseRouteSpec([]byte(doc))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseRouteSpec(%s) = %v, want %q", doc, err, want)
		}
	}
}

// ABI 2 documents: keys kept for later minors are refused as unsupported
// (not unknown), 1.x's wants_request gets a hint, and "events" and "facts"
// take only names core knows.
func TestDocumentsRefuseKeptAndOldKeys(t *testing.T) {
	for _, c := range []struct {
		route       bool
		doc, want   string
		unsupported bool
	}{
		{false, `{"hooks":{}}`, `config: key "hooks" is kept for a later version`, true},
		{false, `{"openapi":true}`, `config: "openapi": must be an object`, false},
		{true, `{"method":"GET","path":"/","hooks":[]}`, `route: key "hooks" is kept for a later version`, true},
		{true, `{"method":"GET","path":"/","tags":["a","a"]}`, `route: "tags": lists "a" twice`, false},
		{true, `{"method":"GET","path":"/","status_code":99}`, `route: "status_code": must be an integer in 100..599`, false},
		{true, `{"method":"GET","path":"/","operation_id":""}`, `route: "operation_id": must not be empty`, false},
		{true, `{"method":"GET","path":"/","summary":1}`, `route: "summary": must be a string`, false},
		{true, `{"method":"GET","path":"/","wants_request":true}`, `route: unknown key "wants_request" (ABI 2: "facts": ["meta"])`, false},
		{true, `{"method":"GET","path":"/","facts":["meta","nope"]}`, `route: "facts": unknown name "nope"`, false},
		{true, `{"method":"GET","path":"/","facts":["meta","meta"]}`, `route: "facts": lists "meta" twice`, false},
		{true, `{"method":"GET","path":"/","facts":"meta"}`, `route: "facts": must be a list of names`, false},
		{true, `{"method":"GET","path":"/","events":["written"]}`, `route: "events": unknown name "written"`, false},
		{true, `{"method":"GET","path":"/","events":null}`, `route: "events": must not be null`, false},
	} {
		var err error
		if c.route {
			_, err = ParseRouteSpec([]byte(c.doc))
		} else {
			_, err = ParseConfig([]byte(c.doc))
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrUnsupported) != c.unsupported {
			t.Errorf("%s: %v (unsupported %v); want %q (unsupported %v)", c.doc, err, errors.Is(err, ErrUnsupported), c.want, c.unsupported)
		}
	}
	cfg, err := ParseConfig([]byte(`{"stream_queue_bytes":65536,"sse_keepalive":0.5}`))
	if err != nil || cfg.StreamQueueBytes != 65536 || cfg.SSEKeepalive != 500*time.Millisecond {
		t.Fatalf("%+v %v", cfg, err)
	}
	if _, err := ParseConfig([]byte(`{"stream_queue_bytes":0}`)); err == nil {
		t.Error("stream_queue_bytes 0 accepted")
	}
	// A Go program's RouteSpec is checked by AddRoute the same way.
	a := NewApp(DefaultConfig())
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/", Facts: []string{"metta"}}); err == nil || !strings.Contains(err.Error(), `"metta"`) {
		t.Errorf("AddRoute with facts metta: %v", err)
	}
}
