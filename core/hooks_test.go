package core

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// visitLog records the kinds and codes a host saw, in order.
type visitLog struct {
	mu   sync.Mutex
	seen []string
}

func (v *visitLog) add(r *Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch r.Kind {
	case EventHook:
		v.seen = append(v.seen, "hook:"+phaseNames(r.Code))
	case EventRequest:
		v.seen = append(v.seen, "request")
	default:
		v.seen = append(v.seen, "other")
	}
}

func (v *visitLog) take() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := strings.Join(v.seen, " ")
	v.seen = nil
	return s
}

func phaseNames(code uint32) string {
	var names []string
	for i, n := range hookNames {
		if code&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, "+")
}

func hdr(name, value string) Header { return Header{Name: []byte(name), Value: []byte(value)} }

var jsonHeader = []Header{hdr("content-type", "application/json")}

// userRoute needs an x-user header, which a pre visit may add.
var userRoute = RouteSpec{Method: "GET", Path: "/me", Hooks: []string{"on_request", "pre_validation"},
	ParameterSchema: json.RawMessage(`{"type":"object","properties":{"x_user":{"type":"string","source":"header"}},"required":["x_user"]}`)}

func TestHookPreVisitContinuesWithChangedHeaders(t *testing.T) {
	var log visitLog
	a, base := startApp(t, nil, userRoute)
	go host(a, 0, func(r *Request) Response {
		log.add(r)
		if r.Kind == EventHook {
			var token string
			for _, h := range r.Headers {
				if string(h.Name) == "authorization" {
					token = string(h.Value)
				}
			}
			if token != "Bearer ok" {
				return Response{Status: 401, Headers: jsonHeader, Body: []byte(`{"error":"Unauthorized"}`)}
			}
			if string(r.Method) != "GET" || string(r.Path) != "/me" {
				t.Errorf("hook saw %s %s", r.Method, r.Path)
			}
			return Response{Flags: ResponseContinue, Headers: []Header{hdr("x-user", "ada"), hdr("authorization", "")}}
		}
		if len(r.Headers) != 0 {
			t.Errorf("the REQUEST of a route without fact meta got headers")
		}
		return echoParams(r)
	})

	req, _ := http.NewRequest("GET", base+"/me", nil)
	req.Header.Set("Authorization", "Bearer ok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	jsonEq(t, body, `{"x_user":"ada"}`)
	if got := log.take(); got != "hook:on_request+pre_validation request" {
		t.Errorf("visits %q", got)
	}

	// Short circuit: the hook's answer ends the exchange; no REQUEST.
	r := get(t, base+"/me")
	if r.status != 401 || r.body != `{"error":"Unauthorized"}` {
		t.Errorf("short circuit: %d %s", r.status, r.body)
	}
	if got := log.take(); got != "hook:on_request+pre_validation" {
		t.Errorf("visits %q", got)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func TestHookErrorVisitSeesCoreProblems(t *testing.T) {
	var log visitLog
	a, base := startApp(t, func(c *Config) { c.Hooks = uint8(HookOnError | HookOnResponse) },
		RouteSpec{Method: "GET", Path: "/items/{id:int}", ParameterSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer","source":"path","maximum":10}}}`)},
		RouteSpec{Method: "GET", Path: "/boom"},
	)
	go host(a, 0, func(r *Request) Response {
		log.add(r)
		if r.Kind == EventRequest {
			if r.Route == 1 {
				return Response{} // status 0: core refuses it and answers its 500
			}
			return echoParams(r)
		}
		var facts struct {
			Status  int        `json:"status"`
			Headers [][]string `json:"headers"`
		}
		if err := json.Unmarshal(r.Params, &facts); err != nil {
			t.Errorf("error visit params %q: %v", r.Params, err)
		}
		switch facts.Status {
		case 404:
			if r.Route != NoRoute {
				t.Errorf("a 404's visit has route %d", r.Route)
			}
			if len(facts.Headers) == 0 || facts.Headers[0][0] != "content-type" || facts.Headers[0][1] != "application/problem+json" {
				t.Errorf("404 visit headers %q", facts.Headers)
			}
			if !strings.Contains(string(r.Body), `"status":404`) {
				t.Errorf("404 visit body %q", r.Body)
			}
			return Response{Flags: ResponseContinue, Headers: []Header{hdr("x-seen", string(r.Path))}}
		case 422:
			return Response{Status: 400, Headers: jsonHeader, Body: []byte(`{"replaced":true}`)}
		case 500:
			return Response{Flags: ResponseContinue, Headers: []Header{hdr("x-error-id", "e1")}}
		}
		t.Errorf("unexpected error visit %s", r.Params)
		return Response{Flags: ResponseContinue}
	})

	r := get(t, base+"/nowhere")
	if r.status != 404 || r.header.Get("X-Seen") != "/nowhere" || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("404: %d %v %s", r.status, r.header, r.body)
	}
	if got := log.take(); got != "hook:on_response+on_error" {
		t.Errorf("404 visits %q", got)
	}
	r = get(t, base+"/items/99")
	if r.status != 400 || r.body != `{"replaced":true}` || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("422 replaced: %d %v %s", r.status, r.header, r.body)
	}
	if got := log.take(); got != "hook:on_response+on_error" {
		t.Errorf("422 visits %q", got)
	}
	r = get(t, base+"/items/3")
	if r.status != 200 || r.body != `{"id":3}` {
		t.Errorf("success: %d %s", r.status, r.body)
	}
	if got := log.take(); got != "request" {
		t.Errorf("a success makes no visit: %q", got)
	}
	r = get(t, base+"/boom")
	if r.status != 500 || r.header.Get("X-Error-Id") != "e1" || !strings.Contains(r.body, "internal-server-error") {
		t.Errorf("500: %d %v %s", r.status, r.header, r.body)
	}
	if got := log.take(); got != "request hook:on_response+on_error" {
		t.Errorf("500 visits %q", got)
	}
}

func TestHookErrorVisitOfHostProblemsOnce(t *testing.T) {
	var log visitLog
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/x", Hooks: []string{"on_error"}})
	go hostEach(a, 0, func(r *Request) {
		log.add(r)
		id := r.Exchange
		switch r.Kind {
		case EventRequest:
			_ = a.RespondProblem(id, 409, []byte(`{"detail":"taken"}`), []Header{hdr("retry-after", "5")})
		case EventHook:
			if !strings.Contains(string(r.Params), `"status":409`) || !strings.Contains(string(r.Params), `["retry-after","5"]`) {
				t.Errorf("visit params %s", r.Params)
			}
			// A problem answering the error visit makes no second visit.
			_ = a.RespondError(id)
		}
	})
	r := get(t, base+"/x")
	if r.status != 500 || r.header.Get("Retry-After") != "" {
		t.Errorf("replaced answer: %d %v %s", r.status, r.header, r.body)
	}
	if got := log.take(); got != "request hook:on_error" {
		t.Errorf("visits %q", got)
	}
}

func TestHookPhasesWithoutVisits(t *testing.T) {
	var log visitLog
	a, base := startApp(t, func(c *Config) { c.Hooks = uint8(HookPreHandler | HookOnResponse) },
		RouteSpec{Method: "GET", Path: "/a"},
		RouteSpec{Method: "GET", Path: "/b", Hooks: []string{"pre_handler"}})
	go host(a, 0, func(r *Request) Response {
		log.add(r)
		if r.Kind == EventHook {
			return Response{Flags: ResponseContinue}
		}
		return Response{Status: 204}
	})
	for _, p := range []string{"/a", "/b"} {
		if r := get(t, base+p); r.status != 204 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	if got := log.take(); got != "request request" {
		t.Errorf("pre_handler and on_response hooks made visits: %q", got)
	}
	// on_response hooks see core's own answers.
	if r := get(t, base+"/c"); r.status != 404 {
		t.Errorf("404: %d", r.status)
	}
	if got := log.take(); got != "hook:on_response" {
		t.Errorf("404 visits %q", got)
	}
}

func TestHookContinueRefusals(t *testing.T) {
	errs := make(chan error, 4)
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/plain"},
		RouteSpec{Method: "GET", Path: "/hooked", Hooks: []string{"on_request"}})
	go hostEach(a, 0, func(r *Request) {
		if r.Kind == EventRequest && r.Route == 0 {
			errs <- a.Respond(r.Exchange, Response{Flags: ResponseContinue})
			return
		}
		if r.Kind == EventHook {
			errs <- a.Respond(r.Exchange, Response{Flags: ResponseContinue, Headers: []Header{hdr("content-length", "3")}})
			return
		}
		errs <- a.Respond(r.Exchange, Response{Status: 200})
	})
	for _, p := range []string{"/plain", "/hooked"} {
		if r := get(t, base+p); r.status != 500 {
			t.Errorf("%s: a refused CONTINUE answers %d", p, r.status)
		}
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("%s: refusal %v", p, err)
		}
	}
}

func TestHookDocuments(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"hooks":["on_request","on_error"]}`))
	if err != nil || cfg.Hooks != uint8(HookOnRequest|HookOnError) {
		t.Errorf("config hooks: %v %b", err, cfg.Hooks)
	}
	for doc, want := range map[string]string{
		`{"hooks":["on_request","later"]}`:      `config: "hooks": unknown name "later"`,
		`{"hooks":["on_error","on_error"]}`:     `config: "hooks": lists "on_error" twice`,
		`{"hooks":"on_request"}`:                `config: "hooks": must be a list of names`,
		`{"hooks":null}`:                        `config: "hooks": must be a list of names`,
		`{"method":"GET","path":"/","hooks":7}`: `route: "hooks": must be a list of names`,
	} {
		var err error
		if strings.HasPrefix(doc, `{"method"`) {
			_, err = ParseRouteSpec([]byte(doc))
		} else {
			_, err = ParseConfig([]byte(doc))
		}
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %s...", doc, err, want)
		}
	}
	spec, err := ParseRouteSpec([]byte(`{"method":"GET","path":"/ws","websocket":true,"hooks":["on_request"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewApp(DefaultConfig()).AddRoute(spec); err == nil || !strings.Contains(err.Error(), "not WebSocket") {
		t.Errorf("hooks on a WebSocket route: %v", err)
	}
}

// BenchmarkLaneRoundTripHooks is BenchmarkLaneRoundTrip with an app-wide
// hook phase: "pre_handler" (host side: no visit, the cost of a route with
// such hooks) and "on_request" (a pre visit the host continues at once).
func BenchmarkLaneRoundTripHooks(b *testing.B) {
	for _, phase := range []string{"pre_handler", "on_request"} {
		b.Run(phase, func(b *testing.B) {
			bits, err := parseHooks([]byte(`["` + phase + `"]`))
			if err != nil {
				b.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Hooks = bits
			benchLaneRoundTrip(b, NewApp(cfg))
		})
	}
}

// With "hooks_in_request" a request that validates as received makes no pre
// visit: its REQUEST carries the pre phases; a CONTINUE there (changed
// headers) validates again and sends a plain REQUEST; one that does not
// validate as received makes the pre visit first.
func TestHooksInRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	a, base := startApp(t, func(c *Config) { c.HooksInRequest = true }, userRoute)
	go host(a, 0, func(r *Request) Response {
		var user, auth string
		for _, h := range r.Headers {
			switch string(h.Name) {
			case "x-user":
				user = string(h.Value)
			case "authorization":
				auth = string(h.Value)
			}
		}
		mu.Lock()
		kind := map[uint32]string{EventHook: "hook", EventRequest: "request"}[r.Kind]
		seen = append(seen, kind+":"+phaseNames(r.Code))
		mu.Unlock()
		if r.Code&uint32(preHooks) == 0 { // the handler
			return echoParams(r)
		}
		if string(r.Method) != "GET" || string(r.Path) != "/me" {
			t.Errorf("hooks saw %s %s", r.Method, r.Path)
		}
		switch {
		case auth == "":
			return Response{Status: 401, Headers: jsonHeader, Body: []byte(`{"error":"Unauthorized"}`)}
		case r.Kind == EventHook || user == "bob":
			return Response{Flags: ResponseContinue, Headers: []Header{hdr("x-user", "ada")}}
		}
		return echoParams(r) // hooks changed nothing: the handler in the same visit
	})
	take := func() string {
		mu.Lock()
		defer mu.Unlock()
		s := strings.Join(seen, " ")
		seen = nil
		return s
	}
	call := func(headers ...string) result {
		req, _ := http.NewRequest("GET", base+"/me", nil)
		for i := 0; i < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return result{status: resp.StatusCode, body: readAll(t, resp)}
	}
	pre := "on_request+pre_validation"
	for _, c := range []struct {
		headers      []string
		status       int
		body, visits string
	}{
		{[]string{"Authorization", "x", "X-User", "eve"}, 200, `{"x_user":"eve"}`, "request:" + pre},
		{[]string{"Authorization", "x", "X-User", "bob"}, 200, `{"x_user":"ada"}`, "request:" + pre + " request:"},
		{[]string{"Authorization", "x"}, 200, `{"x_user":"ada"}`, "hook:" + pre + " request:"},
		{[]string{"X-User", "eve"}, 401, `{"error":"Unauthorized"}`, "request:" + pre},
		{nil, 401, `{"error":"Unauthorized"}`, "hook:" + pre},
	} {
		r := call(c.headers...)
		if r.status != c.status || r.body != c.body {
			t.Errorf("%v: %d %s", c.headers, r.status, r.body)
		}
		if got := take(); got != c.visits {
			t.Errorf("%v: visits %q, want %q", c.headers, got, c.visits)
		}
	}
}

// TestHooksInRequestDecodedBody: a form body, which core decodes, never
// rides on the REQUEST: the pre hooks get a pre visit with the body as the
// client sent it, then the REQUEST carries the decoded (JSON) body and no
// pre phases.
func TestHooksInRequestDecodedBody(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	schema := json.RawMessage(`{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}`)
	a, base := startApp(t, func(c *Config) { c.HooksInRequest = true },
		RouteSpec{Method: "POST", Path: "/f", BodySchema: schema, Hooks: []string{"on_request"}})
	go host(a, 0, func(r *Request) Response {
		mu.Lock()
		kind := map[uint32]string{EventHook: "hook", EventRequest: "request"}[r.Kind]
		seen = append(seen, kind+":"+phaseNames(r.Code)+":"+string(r.Body))
		mu.Unlock()
		if r.Kind == EventHook {
			return Response{Flags: ResponseContinue}
		}
		return Response{Status: 200, Headers: jsonHeader, Body: r.Body}
	})
	resp, err := http.Post(base+"/f", "application/x-www-form-urlencoded", strings.NewReader("name=ada"))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 || body != `{"name":"ada"}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := strings.Join(seen, " "), `hook:on_request:name=ada request::{"name":"ada"}`; got != want {
		t.Fatalf("visits %q, want %q", got, want)
	}
}
