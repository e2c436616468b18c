package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/spikard/spikard/core/auth"
	"github.com/spikard/spikard/core/openapi"
	"github.com/spikard/spikard/core/ratelimit"
)

// ParseConfig reads the JSON configuration document of spikard_app_new on
// top of DefaultConfig. Unknown keys and ill-typed values are errors that
// name the key and say what it must be, in words a host can pass on to its
// user: `config: "port": must be an integer in 0..65535`.
func ParseConfig(doc []byte) (Config, error) {
	cfg := DefaultConfig()
	err := eachKey(doc, "config", func(k string, raw json.RawMessage) (err error) {
		switch k {
		case "host":
			cfg.Host, err = hostName(raw)
		case "port":
			cfg.Port, err = portNumber(raw)
		case "max_body_size":
			cfg.MaxBodySize, err = integer(raw, 0, math.MaxInt64)
		case "max_json_depth":
			var n int64
			n, err = integer(raw, 1, 10000)
			cfg.MaxJSONDepth = int(n)
		case "max_uri_length":
			cfg.MaxURILength, err = headLimit(raw)
		case "max_header_size":
			cfg.MaxHeaderSize, err = headLimit(raw)
		case "max_header_count":
			cfg.MaxHeaderCount, err = headLimit(raw)
		case "header_timeout":
			cfg.HeaderTimeout, err = seconds(raw)
		case "request_timeout":
			cfg.RequestTimeout, err = seconds(raw)
		case "read_timeout":
			cfg.ReadTimeout, err = seconds(raw)
		case "shutdown_timeout":
			cfg.ShutdownTimeout, err = seconds(raw)
		case "access_log":
			cfg.AccessLog, cfg.AccessLogEvents, cfg.AccessLogLane, err = accessLogOption(raw)
		case "quiet":
			cfg.Quiet, err = boolean(raw)
		case "reuse_port":
			cfg.ReusePort, err = boolean(raw)
		case "sched_batch":
			cfg.SchedBatch, err = boolean(raw)
		case "serial_lanes":
			cfg.SerialLanes, err = laneList(raw)
		case "stall_after":
			cfg.StallAfter, err = seconds(raw)
			if err == nil && cfg.StallAfter == 0 {
				err = errors.New("must be a positive number of seconds")
			}
		case "stream_queue_bytes":
			var n int64
			n, err = integer(raw, 1, math.MaxInt32)
			cfg.StreamQueueBytes = int(n)
		case "sse_keepalive":
			cfg.SSEKeepalive, err = seconds(raw)
		case "ws_max_message_size":
			cfg.WSMaxMessageSize, err = integer(raw, 0, math.MaxInt32)
		case "ws_inbound_bytes":
			var n int64
			n, err = integer(raw, 1, math.MaxInt32)
			cfg.WSInboundBytes = int(n)
		case "ws_ping_interval":
			cfg.WSPingInterval, err = seconds(raw)
		case "ws_origins":
			cfg.WSOrigins, err = originList(raw)
		case "broadcast":
			cfg.Broadcast, err = parseBroadcast(raw)
		case "request_id":
			cfg.RequestID, err = parseRequestID(raw)
		case "cors":
			cfg.CORS, _, err = parseCORS(raw, false)
		case "compression":
			cfg.Compression, err = parseCompression(raw) // compress.go
		case "static_files":
			cfg.StaticFiles, err = parseStaticFiles(raw) // static.go
		case "openapi":
			cfg.OpenAPI, err = openapi.ParseConfig(raw)
		case "hooks":
			cfg.Hooks, err = parseHooks(raw) // hooks.go
		case "hooks_in_request":
			cfg.HooksInRequest, err = boolean(raw) // hooks.go
		case "jwt_auth", "api_key_auth", "rate_limit": // guardconfig.go
			var j Override[auth.JWTConfig]
			var ak Override[auth.APIKeyConfig]
			var rl Override[ratelimit.Config]
			_, err = parseGuardKey(k, raw, false, &j, &ak, &rl)
			cfg.JWTAuth, cfg.APIKeyAuth, cfg.RateLimit = orKeep(cfg.JWTAuth, j), orKeep(cfg.APIKeyAuth, ak), orKeep(cfg.RateLimit, rl)
		default:
			if slices.Contains(keptConfigKeys, k) {
				return errKeptKey
			}
			return errUnknownKey
		}
		return err
	})
	return cfg, err
}

// keptConfigKeys are config keys later minor versions will take; they are
// refused as unsupported (not unknown), so a binding can tell "library too
// old" from a typo.
var keptConfigKeys = []string{}

// keptRouteKeys are the route document's keys kept for later minors.
var keptRouteKeys = []string{}

// ErrUnsupported wraps a refusal of something this library version keeps
// for a later one (SPIKARD_E_UNSUPPORTED).
var ErrUnsupported = errors.New("not supported by this library version")

// errKeptKey is what an eachKey reader returns for a kept key.
var errKeptKey = fmt.Errorf("kept for a later version: %w", ErrUnsupported)

// errUnknownKey is what an eachKey reader returns for a key it does not know.
var errUnknownKey = errors.New("unknown key")

// eachKey reads a JSON object document key by key, by the rule every
// document of the ABI follows: read reports errUnknownKey for a key it does
// not know, which is refused like an ill-typed value, and every error names
// the document and the key (`config: "port": must be an integer in
// 0..65535`, `config: unknown key "prot"`). An empty document has no keys.
func eachKey(doc []byte, what string, read func(key string, raw json.RawMessage) error) error {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil || m == nil {
		if err == nil {
			err = errors.New("null")
		}
		return fmt.Errorf("%s: not a JSON object: %v", what, err)
	}
	for k, raw := range m {
		switch err := read(k, raw); {
		case errors.Is(err, errUnknownKey):
			if hint := keyHints[what+"."+k]; hint != "" {
				return fmt.Errorf("%s: unknown key %q (%s)", what, k, hint)
			}
			return fmt.Errorf("%s: unknown key %q", what, k)
		case errors.Is(err, errKeptKey):
			return fmt.Errorf("%s: key %q is %w", what, k, err)
		case err != nil:
			return fmt.Errorf("%s: %q: %v", what, k, err)
		}
	}
	return nil
}

// hostName reads a listen address.
func hostName(raw json.RawMessage) (string, error) {
	h, err := text(raw)
	if err == nil && h == "" {
		err = errors.New("must not be empty")
	}
	return h, err
}

// portNumber reads a TCP port; 0 picks a free one.
func portNumber(raw json.RawMessage) (int, error) {
	p, err := integer(raw, 0, 65535)
	return int(p), err
}

// headLimit reads a limit on a request head (bytes or fields); 0 means no
// limit.
func headLimit(raw json.RawMessage) (int, error) {
	n, err := integer(raw, 0, math.MaxInt32)
	return int(n), err
}

// laneList reads a list of distinct lane numbers.
func laneList(raw json.RawMessage) ([]uint32, error) {
	var items []json.RawMessage
	if !decode(raw, &items) {
		return nil, errors.New("must be a list of lane numbers")
	}
	lanes := make([]uint32, 0, len(items))
	for _, item := range items {
		n, err := integer(item, 0, math.MaxUint32)
		if err != nil {
			return nil, errors.New("must be a list of lane numbers (integers in 0..4294967295)")
		}
		if slices.Contains(lanes, uint32(n)) {
			return nil, fmt.Errorf("lists lane %d twice", n)
		}
		lanes = append(lanes, uint32(n))
	}
	return lanes, nil
}

// The readers of one value each: a JSON decoding error would speak of Go
// types, so each says instead what the value must be.

// decode is json.Unmarshal refusing null, which Unmarshal would take as
// "keep the default" without a word.
func decode(raw json.RawMessage, v any) bool {
	return !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) && json.Unmarshal(raw, v) == nil
}

func text(raw json.RawMessage) (string, error) {
	var s string
	if !decode(raw, &s) {
		return "", errors.New("must be a string")
	}
	return s, nil
}

func boolean(raw json.RawMessage) (bool, error) {
	var b bool
	if !decode(raw, &b) {
		return false, errors.New("must be true or false")
	}
	return b, nil
}

// integer reads a whole number in [lo, hi]; 8000.0 counts as whole.
func integer(raw json.RawMessage, lo, hi int64) (int64, error) {
	var f float64
	var n int64
	switch {
	case decode(raw, &n):
	case decode(raw, &f) && f == math.Trunc(f) && f >= -(1<<53) && f <= 1<<53:
		n = int64(f)
	default:
		return 0, integerReason(lo, hi)
	}
	if n < lo || n > hi {
		return 0, integerReason(lo, hi)
	}
	return n, nil
}

func integerReason(lo, hi int64) error {
	if hi == math.MaxInt64 {
		return fmt.Errorf("must be an integer of at least %d", lo)
	}
	return fmt.Errorf("must be an integer in %d..%d", lo, hi)
}

// seconds reads a non-negative number of seconds.
func seconds(raw json.RawMessage) (time.Duration, error) {
	var f float64
	if !decode(raw, &f) || f < 0 || f > float64(math.MaxInt64/int64(time.Second)) {
		return 0, errors.New("must be a non-negative number of seconds")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// routeKeys are the keys of a route document; any other is refused, so
// that a misspelt key (body_shema) cannot turn validation off.
var routeKeys = []string{
	"method", "path", "lane", "parameter_schema", "body_schema", "file_params",
	"response_schema", "events", "facts", "websocket", "cors",
	"hooks",
	"jwt_auth", "api_key_auth", "rate_limit",
}

// keyHints say what replaced a key of an older ABI.
var keyHints = map[string]string{
	"route.wants_request": `ABI 2: "facts": ["meta"]`,
}

// The names "events" and "facts" may list.
var (
	routeEvents = []string{"disconnect"}
	routeFacts  = []string{"meta", "cookies", "query", "uploads", "claims"}
)

// nameList reads a list of distinct names out of known.
func nameList(raw json.RawMessage, known []string) ([]string, error) {
	var names []string
	if !decode(raw, &names) {
		return nil, fmt.Errorf("must be a list of names out of %q", known)
	}
	for i, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("unknown name %q (known: %q)", n, known)
		}
		if slices.Contains(names[:i], n) {
			return nil, fmt.Errorf("lists %q twice", n)
		}
	}
	return names, nil
}

// ParseRouteSpec reads the JSON route document of spikard_app_add_route.
// "method" and "path" are required; unknown keys and null values are
// refused.
func ParseRouteSpec(doc []byte) (RouteSpec, error) {
	var s RouteSpec
	var ws *WebSocketRoute
	var cors *CORSConfig
	var noCORS bool
	err := eachKey(doc, "route", func(k string, raw json.RawMessage) error {
		if slices.Contains(keptRouteKeys, k) {
			return errKeptKey
		}
		if !slices.Contains(routeKeys, k) && !slices.Contains(routeDocKeys, k) {
			return errUnknownKey
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return errors.New("must not be null (omit the key instead)")
		}
		if slices.Contains(routeDocKeys, k) {
			return checkRouteDocKey(k, raw) // openapi.go
		}
		var err error
		switch k {
		case "events":
			_, err = nameList(raw, routeEvents)
		case "facts":
			_, err = nameList(raw, routeFacts)
		case "websocket":
			ws, err = parseRouteWebSocket(raw)
		case "cors":
			cors, noCORS, err = parseCORS(raw, true)
		case "hooks":
			_, err = parseHooks(raw)
		default:
			_, err = parseGuardKey(k, raw, true, &s.JWTAuth, &s.APIKeyAuth, &s.RateLimit) // guardconfig.go
		}
		return err
	})
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(doc, &s); err != nil {
		return s, fmt.Errorf("route: %v", err)
	}
	s.WebSocket = ws
	s.CORS, s.NoCORS = cors, noCORS
	if ws != nil && s.Method != "GET" {
		return s, fmt.Errorf("route: \"websocket\": a WebSocket route's method is GET, not %q", s.Method)
	}
	if s.Method == "" {
		return s, fmt.Errorf("route: \"method\" is required")
	}
	if s.Path == "" {
		return s, fmt.Errorf("route: \"path\" is required")
	}
	return s, nil
}

// WebSocketRoute is what a route's "websocket" key declares: the route is a
// WebSocket endpoint (see websocket.go). The zero value (from "websocket":
// true) takes the app's origins and negotiates no subprotocol on its own.
type WebSocketRoute struct {
	// Subprotocols the route speaks, in order of preference. When the host
	// accepts without choosing one, core picks the first of these the client
	// offered; a host's choice must be one of them.
	Subprotocols []string
	// Origins, when not nil, replaces Config.WSOrigins for this route.
	Origins []string
	// MessageSchema, when set, is a JSON Schema every received message
	// (text or binary, read as JSON) must meet; core closes the WebSocket
	// with 1007 at the first one that does not, and never delivers it.
	MessageSchema json.RawMessage
}

// parseRouteWebSocket reads a route's "websocket": true, or an object with
// "subprotocols", "origins" and "message_schema". false declares a plain
// route (nil).
func parseRouteWebSocket(raw json.RawMessage) (*WebSocketRoute, error) {
	var on bool
	if decode(raw, &on) {
		if !on {
			return nil, nil
		}
		return &WebSocketRoute{}, nil
	}
	ws := &WebSocketRoute{}
	var m map[string]json.RawMessage
	if !decode(raw, &m) {
		return nil, errors.New(`must be true or an object with "subprotocols", "origins" and "message_schema"`)
	}
	for k, v := range m {
		var err error
		switch k {
		case "subprotocols":
			ws.Subprotocols, err = tokenList(v)
		case "origins":
			ws.Origins, err = originList(v)
		case "message_schema":
			if t := bytes.TrimSpace(v); len(t) == 0 || t[0] != '{' {
				err = errors.New("must be a JSON Schema object")
			}
			ws.MessageSchema = v
		default:
			return nil, fmt.Errorf("unknown key %q (known: \"subprotocols\", \"origins\", \"message_schema\")", k)
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %v", k, err)
		}
	}
	return ws, nil
}

// tokenList reads a list of distinct HTTP tokens (subprotocol names).
func tokenList(raw json.RawMessage) ([]string, error) {
	var names []string
	if !decode(raw, &names) {
		return nil, errors.New("must be a list of strings")
	}
	for i, n := range names {
		if !isToken([]byte(n)) {
			return nil, fmt.Errorf("%q is not a token (RFC 9110: letters, digits and !#$%%&'*+-.^_`|~)", n)
		}
		if slices.Contains(names[:i], n) {
			return nil, fmt.Errorf("lists %q twice", n)
		}
	}
	return names, nil
}

// originList reads a WebSocket origin allow-list: "*" (any origin), or
// origins as browsers send them, scheme://host[:port] without a path.
func originList(raw json.RawMessage) ([]string, error) {
	var origins []string
	if !decode(raw, &origins) {
		return nil, errors.New(`must be a list of origins ("https://example.com") or ["*"]`)
	}
	out := make([]string, 0, len(origins))
	for _, o := range origins {
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				return nil, fmt.Errorf("%q is not an origin (scheme://host[:port]) or \"*\"", o)
			}
			o = strings.ToLower(u.Scheme + "://" + u.Host)
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

// BroadcastConfig is the config's "broadcast" object: where the channels of
// spikard_ws_publish reach their subscribers (broadcast.go).
type BroadcastConfig struct {
	// Redis, when set, is a redis:// or rediss:// URL: every message goes
	// through Redis pub/sub, so every process and host using that Redis
	// (workers=N) delivers it to its own subscribers. Empty: in-process.
	Redis string
	// Prefix names this app's Redis channels: channel c is Prefix+c.
	// Default "spikard:".
	Prefix string
}

// defaultBroadcastPrefix is BroadcastConfig.Prefix when it is not set.
const defaultBroadcastPrefix = "spikard:"

// parseBroadcast reads the "broadcast" object.
func parseBroadcast(raw json.RawMessage) (BroadcastConfig, error) {
	b := BroadcastConfig{Prefix: defaultBroadcastPrefix}
	var m map[string]json.RawMessage
	if !decode(raw, &m) {
		return b, errors.New(`must be an object: {"redis": "redis://host:port/db", "prefix": "spikard:"}`)
	}
	for k, v := range m {
		s, err := text(v)
		switch {
		case k != "redis" && k != "prefix":
			return b, fmt.Errorf("unknown key %q (known: \"redis\", \"prefix\")", k)
		case err != nil:
			return b, fmt.Errorf("%q: %v", k, err)
		case k == "prefix":
			b.Prefix = s
		default:
			if _, err := redis.ParseURL(s); err != nil {
				return b, fmt.Errorf(`"redis": %q is not a Redis URL (redis://[user:password@]host[:port][/db]): %v`, s, err)
			}
			b.Redis = s
		}
	}
	return b, nil
}

// accessLogOption reads "access_log": false, true (lines on the Logger),
// or {"lane": N} (batches as EventLog events on lane N).
func accessLogOption(raw json.RawMessage) (on, events bool, lane uint32, err error) {
	if on, err = boolean(raw); err == nil {
		return on, false, 0, nil
	}
	reason := errors.New(`must be true, false or {"lane": N} (lines as SPIKARD_EVENT_LOG events on lane N)`)
	var m map[string]json.RawMessage
	if !decode(raw, &m) {
		return false, false, 0, reason
	}
	if _, ok := m["lane"]; !ok || len(m) != 1 {
		return false, false, 0, reason
	}
	n, err := integer(m["lane"], 0, math.MaxUint32)
	if err != nil {
		return false, false, 0, fmt.Errorf(`"lane": %v`, err)
	}
	return true, true, uint32(n), nil
}
