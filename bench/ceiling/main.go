// Command ceiling answers the benchmark workloads with plain Hertz and no
// host language: the fastest Spikard could ever be, since Spikard's engine is
// this same server with a C ABI and a Python handler behind it. bench/run.py
// reports Spikard's throughput as a ratio to this one.
//
// It does the work WORKLOADS.md asks of every framework (typed path
// parameter, JSON decoded and validated into a typed value, encoded back)
// and answers the same bytes as the Python app.
//
//	go run ./bench/ceiling -port 8080
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/hertz/pkg/common/json"
)

const contentTypeJSON = "application/json"

// Small is WORKLOADS.md's json-small model. Every field is required, as in
// the msgspec Struct; Tax may be null but not missing.
type Small struct {
	Name        *string       `json:"name"`
	Description *string       `json:"description"`
	Price       *float64      `json:"price"`
	Tax         nullableFloat `json:"tax"`
}

// nullableFloat tells a missing field from an explicit null, which a
// *float64 cannot: msgspec rejects the first and accepts the second.
type nullableFloat struct {
	Value   *float64
	Present bool
}

func (n *nullableFloat) UnmarshalJSON(b []byte) error {
	n.Present = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

func (n nullableFloat) MarshalJSON() ([]byte, error) {
	if n.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*n.Value)
}

func (s *Small) validate() error {
	switch {
	case s.Name == nil:
		return errors.New("name: required")
	case s.Description == nil:
		return errors.New("description: required")
	case s.Price == nil:
		return errors.New("price: required")
	case !s.Tax.Present:
		return errors.New("tax: required")
	}
	return nil
}

func pathSimple(_ context.Context, c *app.RequestContext) {
	c.Data(200, contentTypeJSON, appendIDObject(make([]byte, 0, 32), c.Param("id")))
}

// appendIDObject writes {"id":"<id>"}. Path parameters are almost always
// plain ASCII, so they are copied as they are; anything that needs escaping
// goes through the JSON encoder instead.
func appendIDObject(dst []byte, id string) []byte {
	dst = append(dst, `{"id":`...)
	if needsEscape(id) {
		quoted, _ := json.Marshal(id)
		dst = append(dst, quoted...)
	} else {
		dst = append(dst, '"')
		dst = append(dst, id...)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return true
		}
	}
	return false
}

func jsonSmall(_ context.Context, c *app.RequestContext) {
	var s Small
	if err := json.Unmarshal(c.Request.Body(), &s); err != nil {
		problem(c, err)
		return
	}
	if err := s.validate(); err != nil {
		problem(c, err)
		return
	}
	out, err := json.Marshal(&s)
	if err != nil {
		c.AbortWithStatus(500)
		return
	}
	c.Data(200, contentTypeJSON, out)
}

// problem answers 422 with a short RFC 9457 body; it is never timed, only
// there so a wrong payload is not mistaken for a right one.
func problem(c *app.RequestContext, err error) {
	body, _ := json.Marshal(map[string]any{"status": 422, "title": "Unprocessable Content", "detail": err.Error()})
	c.Data(422, "application/problem+json", body)
}

func main() {
	host := flag.String("host", "127.0.0.1", "listen address")
	port := flag.Int("port", 8080, "listen port")
	flag.Parse()

	// Quiet: the harness reads nothing from the server's output.
	hlog.SetSilentMode(true)
	hlog.SetLevel(hlog.LevelError)

	h := server.New(
		server.WithHostPorts(*host+":"+strconv.Itoa(*port)),
		server.WithDisablePrintRoute(true),
	)
	h.GET("/path/simple/:id", pathSimple)
	h.POST("/json/small", jsonSmall)
	// Run, not Spin: the harness stops the server with SIGTERM and needs no
	// graceful drain, so the default signal behaviour (exit) is what we want.
	if err := h.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}
