package core

import (
	"testing"
	"time"
)

func TestParseSupervisorOptions(t *testing.T) {
	opts, err := ParseSupervisorOptions([]byte(`{"workers":3,"host":"0.0.0.0","port":0,"start_timeout":1.5,"shutdown_timeout":0,"quiet":true}`))
	if err != nil {
		t.Fatal(err)
	}
	want := SupervisorOptions{Workers: 3, Host: "0.0.0.0", Port: 0, StartTimeout: 1500 * time.Millisecond, Quiet: true}
	if opts != want {
		t.Errorf("got %+v, want %+v", opts, want)
	}
	opts, err = ParseSupervisorOptions([]byte(`{"workers":2}`))
	if want := (SupervisorOptions{Workers: 2, Host: "127.0.0.1", Port: 8000, StartTimeout: 120 * time.Second, ShutdownTimeout: 5 * time.Second}); err != nil || opts != want {
		t.Errorf("defaults: %+v, %v; want %+v", opts, err, want)
	}
}

func TestParseSupervisorOptionsRefusals(t *testing.T) {
	for doc, want := range map[string]string{
		``:                                 `supervise: "workers" is required`,
		`{}`:                               `supervise: "workers" is required`,
		`[]`:                               `supervise: not a JSON object: json: cannot unmarshal array into Go value of type map[string]json.RawMessage`,
		`{"wrokers":2}`:                    `supervise: unknown key "wrokers"`,
		`{"workers":0}`:                    `supervise: "workers": must be an integer in 1..1024`,
		`{"workers":null}`:                 `supervise: "workers": must be an integer in 1..1024`,
		`{"workers":2,"port":-1}`:          `supervise: "port": must be an integer in 0..65535`,
		`{"workers":2,"host":""}`:          `supervise: "host": must not be empty`,
		`{"workers":2,"quiet":1}`:          `supervise: "quiet": must be true or false`,
		`{"workers":2,"start_timeout":-1}`: `supervise: "start_timeout": must be a non-negative number of seconds`,
	} {
		if _, err := ParseSupervisorOptions([]byte(doc)); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", doc, err, want)
		}
	}
}
