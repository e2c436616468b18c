package core

import "testing"

// TestRespondProblem: a host answers with a description and core renders
// the problem document, headers added; one core refuses still answers, 500.
func TestRespondProblem(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/p/{case}", Facts: []string{"meta"}})
	errs := make(chan error, 4)
	go hostEach(a, 0, func(r *Request) {
		id, path := r.Exchange, string(r.Path)
		switch path {
		case "/p/conflict":
			errs <- a.RespondProblem(id, 409, []byte(`{"detail":"taken"}`),
				[]Header{{Name: []byte("Retry-After"), Value: []byte("3")}})
		case "/p/typo":
			errs <- a.RespondProblem(id, 409, []byte(`{"detial":"x"}`), nil)
		case "/p/ctype":
			errs <- a.RespondProblem(id, 400, nil, []Header{{Name: []byte("Content-Type"), Value: []byte("text/plain")}})
		}
	})
	r := get(t, base+"/p/conflict")
	if err := <-errs; err != nil || r.status != 409 || r.header.Get("Retry-After") != "3" ||
		r.header.Get("Content-Type") != "application/problem+json" ||
		r.body != `{"type":"https://spikard.dev/errors/conflict","title":"Conflict","status":409,"detail":"taken"}` {
		t.Fatalf("conflict: %v %d %v %s", err, r.status, r.header, r.body)
	}
	for _, path := range []string{"/p/typo", "/p/ctype"} {
		r = get(t, base+path)
		if err := <-errs; err == nil || r.status != 500 {
			t.Errorf("%s: %v, status %d; want an error and the standard 500", path, err, r.status)
		}
	}
}
