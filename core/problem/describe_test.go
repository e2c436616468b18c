package problem

import (
	"strings"
	"testing"
)

func TestFromDescription(t *testing.T) {
	for _, c := range []struct {
		status int
		desc   string
		want   string
	}{
		{422, `{"detail":"Input should be a valid integer"}`,
			`{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"Input should be a valid integer"}`},
		{422, `{"errors":[ {"type":"int_parsing", "loc":["body","qty",0], "msg":"bad", "input":"x", "ctx":{ "b":1, "a":[1, 2] }} ]}`,
			`{"type":"https://spikard.dev/errors/validation-error","title":"Request Validation Failed","status":422,"detail":"1 validation error in request","errors":[{"type":"int_parsing","loc":["body","qty",0],"msg":"bad","input":"x","ctx":{"b":1,"a":[1,2]}}]}`},
		{409, ``,
			`{"type":"https://spikard.dev/errors/conflict","title":"Conflict","status":409,"detail":"Conflict"}`},
		{501, `{}`,
			`{"type":"https://spikard.dev/errors/not-implemented","title":"Not Implemented","status":501,"detail":"Not Implemented"}`},
		{418, `{"detail":"no coffee","type":"https://example.com/teapot"}`,
			`{"type":"https://example.com/teapot","title":"I'm a teapot","status":418,"detail":"no coffee"}`},
		{599, `{"title":"Custom"}`,
			`{"type":"about:blank","title":"Custom","status":599,"detail":"HTTP 599"}`},
		{500, `{}`,
			`{"type":"https://spikard.dev/errors/internal-server-error","title":"Internal Server Error","status":500,"detail":"Internal server error"}`},
	} {
		p, err := FromDescription(c.status, []byte(c.desc))
		if err != nil {
			t.Errorf("%d %s: %v", c.status, c.desc, err)
			continue
		}
		if got := string(Append(nil, &p)); got != c.want {
			t.Errorf("%d %s:\n got %s\nwant %s", c.status, c.desc, got, c.want)
		}
	}
}

func TestFromDescriptionRefuses(t *testing.T) {
	for _, c := range []struct {
		status int
		desc   string
		want   string
	}{
		{200, `{}`, "not an error status"},
		{400, `[1]`, "must be a JSON object"},
		{400, `{"detial":"x"}`, `unknown key "detial"`},
		{400, `{"detail":null}`, `"detail": must be a string`},
		{422, `{"errors":[{"type":"x","loc":[]}]}`, `entry 0: "msg" is required`},
		{422, `{"errors":[{"type":"x","loc":[true],"msg":"m"}]}`, `"loc": must be a list of strings and integers`},
		{422, `{"errors":[{"type":"x","loc":[],"msg":"m","extra":1}]}`, `unknown key "extra"`},
		{422, `{"errors":[{"type":"x","loc":[],"msg":"m","ctx":[1]}]}`, `"ctx": must be an object`},
	} {
		_, err := FromDescription(c.status, []byte(c.desc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d %s: %v, want an error containing %q", c.status, c.desc, err, c.want)
		}
	}
}

func TestDependencyProblems(t *testing.T) {
	for desc, want := range map[string]string{
		`{"dependency":{"kind":"missing_dependency","key":"db"}}`:                       `{"type":"https://spikard.dev/errors/dependency-error","title":"Dependency Resolution Failed","status":500,"detail":"Required dependency not found","errors":[{"type":"missing_dependency","msg":"Dependency 'db' is not registered","dependency_key":"db"}]}`,
		`{"dependency":{"kind":"circular_dependency","key":"a","cycle":["a","b","a"]}}`: `{"type":"https://spikard.dev/errors/dependency-error","title":"Dependency Resolution Failed","status":500,"detail":"Circular dependency detected","errors":[{"type":"circular_dependency","msg":"Circular dependency detected: a -> b -> a","dependency_key":"a","cycle":["a","b","a"]}]}`,
		`{"dependency":{"kind":"type_mismatch","key":"db","expected":"Pool"}}`:          `{"type":"https://spikard.dev/errors/dependency-error","title":"Dependency Resolution Failed","status":500,"detail":"Dependency type mismatch","errors":[{"type":"type_mismatch","msg":"Dependency 'db' is not of the expected type 'Pool'","dependency_key":"db"}]}`,
	} {
		p, err := FromDescription(500, []byte(desc))
		if err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		if got := string(Append(nil, &p)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", desc, got, want)
		}
	}
	for _, bad := range []string{
		`{"dependency":{"kind":"missing_dependency"}}`,
		`{"dependency":{"kind":"nope","key":"x"}}`,
		`{"dependency":{"kind":"circular_dependency","key":"x"}}`,
		`{"dependency":{"kind":"missing_dependency","key":"x","cycle":["x","x"]}}`,
		`{"dependency":{"kind":"missing_dependency","key":"x","extra":1}}`,
		`{"dependency":{"kind":"missing_dependency","key":"x"},"detail":"y"}`,
	} {
		if _, err := FromDescription(500, []byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if _, err := FromDescription(503, []byte(`{"dependency":{"kind":"missing_dependency","key":"x"}}`)); err == nil {
		t.Error("a dependency problem with status 503 accepted")
	}
}
