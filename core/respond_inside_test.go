package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRespondInsidePollEach: a Go host may answer a request from inside its
// PollEach callback and go on reading it. Until the callback returns, the
// exchange must not be released (which zeroes the Request) nor its Hertz
// request reused by the next request of the keep-alive connection (which
// overwrites the bytes the Request aliases). Run under -race, which reports
// the release racing the reads.
func TestRespondInsidePollEach(t *testing.T) {
	schema := json.RawMessage(`{"type":"object","properties":{"id":{"type":"string","source":"path"}}}`)
	a, base := startApp(t, nil, RouteSpec{Method: "POST", Path: "/e/{id}", Facts: []string{"meta"}, ParameterSchema: schema})
	const hosts, clients, perClient = 3, 8, 40

	var wrong atomic.Int32
	var hostsDone sync.WaitGroup
	for range hosts {
		hostsDone.Add(1)
		go func() {
			defer hostsDone.Done()
			for {
				_, err := a.Lane(0).PollEach(4, -1, func(r *Request) {
					if r.Kind != EventRequest {
						return
					}
					if err := a.Respond(r.Exchange, Response{Status: 200}); err != nil {
						t.Errorf("respond: %v", err)
						return
					}
					// Everything the client sent, read after the answer.
					id := string(bytes.TrimPrefix(r.Path, []byte("/e/")))
					var xid string
					for _, h := range r.Headers {
						if string(h.Name) == "x-id" {
							xid = string(h.Value)
						}
					}
					if string(r.Method) != "POST" || string(r.Query) != "id="+id || xid != id ||
						string(r.Body) != "body of "+id || string(r.Params) != `{"id":"`+id+`"}` {
						if wrong.Add(1) <= 5 {
							t.Errorf("read after answering: %s %s ?%s x-id %q params %s body %q",
								r.Method, r.Path, r.Query, xid, r.Params, r.Body)
						}
					}
				})
				if errors.Is(err, ErrClosed) {
					return
				}
			}
		}()
	}

	// Keep-alive clients, so Hertz serves each connection's next request
	// with the request buffers of the one just answered.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var cl sync.WaitGroup
	for c := range clients {
		cl.Add(1)
		go func() {
			defer cl.Done()
			for r := range perClient {
				id := "c" + strconv.Itoa(c) + "r" + strconv.Itoa(r)
				req, err := http.NewRequest("POST", base+"/e/"+id+"?id="+id, strings.NewReader("body of "+id))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("X-Id", id)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("POST %s: %v", id, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("POST %s: status %d", id, resp.StatusCode)
				}
			}
		}()
	}
	cl.Wait()
	// Stop the hosts before startApp's cleanup, so none outlives the test.
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	hostsDone.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d of %d requests changed under a callback that had answered them", n, clients*perClient)
	}
}
