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
