// Package core is Spikard's HTTP engine: a route table, parameter
// extraction and validation, RFC 9457 problem responses and a Hertz server,
// in pure Go. Hosts (the C ABI in capi/, or a Go program directly) declare
// routes and then answer requests either with a Go Handler or by pulling
// them from a dispatch Lane.
package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/spikard/spikard/core/auth"
	"github.com/spikard/spikard/core/openapi"
	"github.com/spikard/spikard/core/ratelimit"
	"github.com/spikard/spikard/core/request"
	"github.com/spikard/spikard/core/route"
)

// Config is an app's configuration. The zero value is not valid; start from
// DefaultConfig or ParseConfig.
type Config struct {
	Host             string        // listen address, default "127.0.0.1"
	Port             int           // 0 picks a free port
	MaxBodySize      int64         // bytes; 0 means no limit
	MaxJSONDepth     int           // nesting levels a JSON body may have (1..10000); 0: request.DefaultMaxJSONDepth
	MaxURILength     int           // bytes of a request target; a longer one is a 414; 0 means no limit
	MaxHeaderSize    int           // bytes of a request's header field lines, line ends included; more is a 431; 0 means no limit
	MaxHeaderCount   int           // header field lines of a request; more is a 431; 0 means no limit
	HeaderTimeout    time.Duration // longest time a request head may take to arrive, from its first byte; 0 means no limit
	RequestTimeout   time.Duration // how long a request may wait for its answer; 0 means no limit
	ReadTimeout      time.Duration // longest wait for the next bytes of a request, or of an idle keep-alive connection; 0 means no limit
	ShutdownTimeout  time.Duration // default drain deadline for Shutdown
	ReusePort        bool          // SO_REUSEPORT: several processes may serve one address
	SchedBatch       bool          // put the process's threads under SCHED_BATCH at Start (Linux)
	SerialLanes      []uint32      // lanes whose hosts hold one request at a time unless one stalls (see serialLane)
	StallAfter       time.Duration // how long a held request on a serial lane takes to count as stalled; 0: DefaultStallAfter
	StreamQueueBytes int           // framed bytes a stream may hold unsent before StreamWrite answers ErrAgain; 0: 4 MiB
	SSEKeepalive     time.Duration // idle time after which an SSE stream gets a ":" comment; 0: never
	WSMaxMessageSize int64         // bytes of one received WebSocket message; a larger one is closed with 1009; 0 means no limit
	WSInboundBytes   int           // bytes of a WebSocket's received messages no host has polled yet before core stops reading it; 0: 1 MiB
	WSPingInterval   time.Duration // how often core pings an open WebSocket; one silent for two intervals is dropped; 0: never
	WSOrigins        []string      // origins a WebSocket handshake may come from ("*": any); nil: the request's own host only
	Broadcast        BroadcastConfig
	RequestID        RequestIDConfig    // the id every answer carries (requestid.go); on by default
	CORS             *CORSConfig        // the app-wide CORS policy (cors.go); nil: none
	Compression      *CompressionConfig // nil: answers go out as their hosts wrote them (compress.go)
	StaticFiles      []StaticDir        // directories served under URL prefixes (static.go)
	OpenAPI          openapi.Config     // the OpenAPI document and docs pages (core/openapi); zero: none
	Hooks            uint8              // Hook* phases every lane route visits for (hooks.go)
	HooksInRequest   bool               // pre hooks ride on the REQUEST when the request validates as received (hooks.go)
	AccessLog        bool               // one line per request (accesslog.go), in batches: on the Logger, or on AccessLogLane
	AccessLogEvents  bool               // with AccessLog: the batches go as EventLog events on lane AccessLogLane, not to the Logger
	AccessLogLane    uint32             // the lane of the EventLog events
	Quiet            bool               // suppress the "listening on" line
	Logger           Logger             // where the app writes; nil means stderr
	// JWTAuth, APIKeyAuth and RateLimit guard every route that does not
	// choose otherwise (guard.go); nil: none.
	JWTAuth    *auth.JWTConfig
	APIKeyAuth *auth.APIKeyConfig
	RateLimit  *ratelimit.Config
	// Now is the clock of JWT expiry and of rate-limit buckets; nil is
	// time.Now. Tests inject one.
	Now func() time.Time
}

// Logger receives the app's few lines of output. Implementations must be
// safe for concurrent use.
type Logger interface {
	Printf(format string, args ...any)
}

// DefaultConfig returns the documented defaults (see include/spikard.h).
func DefaultConfig() Config {
	return Config{
		Host:             "127.0.0.1",
		Port:             8000,
		MaxBodySize:      10 << 20,
		MaxJSONDepth:     request.DefaultMaxJSONDepth,
		MaxURILength:     8 << 10,
		MaxHeaderSize:    16 << 10,
		MaxHeaderCount:   100,
		HeaderTimeout:    10 * time.Second,
		RequestTimeout:   30 * time.Second,
		ReadTimeout:      30 * time.Second,
		ShutdownTimeout:  5 * time.Second,
		StreamQueueBytes: 4 << 20,
		SSEKeepalive:     15 * time.Second,
		WSMaxMessageSize: 1 << 20,
		WSInboundBytes:   1 << 20,
		Broadcast:        BroadcastConfig{Prefix: defaultBroadcastPrefix},
		RequestID:        RequestIDConfig{Enabled: true, Header: DefaultRequestIDHeader},
	}
}

// RouteSpec declares one route. JSON field names are those of
// spikard_app_add_route.
type RouteSpec struct {
	Method          string          `json:"method"`
	Path            string          `json:"path"`
	Lane            uint32          `json:"lane"`
	ParameterSchema json.RawMessage `json:"parameter_schema,omitempty"`
	BodySchema      json.RawMessage `json:"body_schema,omitempty"`
	FileParams      json.RawMessage `json:"file_params,omitempty"`
	ResponseSchema  json.RawMessage `json:"response_schema,omitempty"`
	// Events names the event kinds the route opts into beyond REQUEST:
	// "disconnect": an EventDisconnect when a request a host has taken
	// ends unanswered (its client went away, or core answered it 408 at
	// request_timeout or 503 at a stop). Without it such a request ends
	// silently. Answers flagged ResponseWritten and streams get their
	// terminal event whatever the route says.
	Events []string `json:"events,omitempty"`
	// Facts names what core delivers in each REQUEST event beyond params
	// and body: "meta" (method, path, query, headers), "cookies",
	// "query" (query pairs) and "uploads" (JSON Pointers of upload fields).
	Facts []string `json:"facts,omitempty"`
	// WebSocket, when set, makes the GET route a WebSocket endpoint: its
	// handshake reaches the host as EventWSOpen (see websocket.go).
	WebSocket *WebSocketRoute `json:"-"`
	// CORS, when set, is the route's CORS policy in place of the app's;
	// NoCORS turns the app's off for the route (route document "cors":
	// false).
	CORS   *CORSConfig `json:"-"`
	NoCORS bool        `json:"-"`
	// JWTAuth, APIKeyAuth and RateLimit choose the route's guards
	// (guard.go): its own, none (route document false), or the app's.
	JWTAuth    Override[auth.JWTConfig]    `json:"-"`
	APIKeyAuth Override[auth.APIKeyConfig] `json:"-"`
	RateLimit  Override[ratelimit.Config]  `json:"-"`

	// What only the OpenAPI document reads (core/openapi.go): the
	// operation's summary, description, tags and operationId (generated
	// when empty), and the status of a successful answer (0: 200).
	Summary     string   `json:"summary,omitempty"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	OperationID string   `json:"operation_id,omitempty"`
	StatusCode  int      `json:"status_code,omitempty"`

	// Hooks names the lifecycle phases the route's host has hooks for, on
	// top of Config.Hooks (hooks.go).
	Hooks []string `json:"hooks,omitempty"`

	// Handler, when set, answers the route on the Hertz goroutine itself
	// instead of queueing it on Lane: the way a Go program uses core.
	Handler Handler `json:"-"`
}

// RouteID identifies a route within its App, in registration order from 0.
type RouteID uint32

// Handler answers a request inside the server. It must not retain req or
// any slice in it after returning. Its Response has no Flags (streams and
// written notices are for hosts on lanes): a flagged one is the standard
// 500.
type Handler func(req *Request) Response

// Request is a matched, validated request as handed to a host. Slices alias
// the server's buffers and are valid only until the request is answered.
type Request struct {
	Exchange uint64 // never 0
	Route    RouteID
	Method   []byte
	Path     []byte // percent-decoded
	Query    []byte // raw, without '?'
	Params   []byte // JSON object of coerced, validated parameters
	Body     []byte
	// Attachments holds the bytes that file descriptors in a multipart
	// Body locate by offset/length (the raw request body); nil when the
	// request has no file parts.
	Attachments []byte
	Headers     []Header // lower-case names; empty unless the route asks for fact "meta" or a Go Handler serves it
	Kind        uint32   // an Event* kind
	// Code says more per kind: for EventDisconnect a Gone* reason, for
	// EventWSClose the close code; else 0. Events other than EventRequest
	// and EventWSOpen carry only Exchange, Route, Kind, Code, Flags and (for
	// EventWSMessage the message, for EventWSClose the reason) Body.
	Code  uint32
	Flags uint32 // EventFBinary on a binary EventWSMessage; else 0
	// Cookies (fact "cookies"): every cookie pair of every Cookie header, in
	// arrival order, repeats kept.
	Cookies []Header
	// QueryPairs (fact "query"): the query string split at '&' and
	// form-decoded, blank values and order kept.
	QueryPairs []Header
	// Uploads (fact "uploads"): a JSON Pointer for each body field whose
	// value is an upload descriptor or an array of them, in first-seen order.
	Uploads [][]byte
	// Claims (fact "claims"): the JSON payload of the JWT the route's guard
	// verified; nil when none was. A lane host finds it as the last pair of
	// Headers, named ":claims".
	Claims []byte
}

// Event kinds of Request.Kind, equal to the SPIKARD_EVENT_* values of
// include/spikard.h. Every event after an exchange's REQUEST comes through
// the Poller that took the REQUEST (see delivery.go), in this order:
// REQUEST, any STREAM_CREDITs, then at most one terminal event
// (DISCONNECT or WRITTEN). An answer flagged ResponseWritten and every
// opened stream get exactly one.
const (
	EventRequest      uint32 = 1 // a request to answer
	EventDisconnect   uint32 = 2 // the exchange ended without the host's answer reaching the client; Code says why
	EventWritten      uint32 = 3 // the last byte of an answer flagged ResponseWritten, or of a stream after ChunkEnd, reached the kernel
	EventStreamCredit uint32 = 4 // a stream or WebSocket that refused a chunk (ErrAgain) has drained to half its queue bound
	EventWSOpen       uint32 = 5 // a WebSocket handshake, answered like a request: ResponseWSAccept upgrades, anything else refuses
	EventWSMessage    uint32 = 6 // one whole received WebSocket message in Body; Flags EventFBinary when binary
	EventWSClose      uint32 = 7 // the WebSocket is over: Code is the close code, Body the reason (websocket.go)
	EventLog          uint32 = 9 // Body: a batch of access-log lines, each ending in '\n'; Exchange 0 (accesslog.go)
)

// EventFBinary is the Request.Flags bit of a binary EventWSMessage
// (SPIKARD_EVENT_F_BINARY).
const EventFBinary uint32 = 1 << 0

// Reasons of an EventDisconnect (Request.Code), equal to SPIKARD_GONE_*.
const (
	GoneClient   uint32 = 1 // the client closed the connection
	GoneTimeout  uint32 = 2 // request_timeout passed; core answered 408
	GoneStopping uint32 = 3 // Shutdown: core answered 503, or ended the stream
	GoneStalled  uint32 = 4 // a stream's client took no byte for read_timeout
	GoneAborted  uint32 = 5 // the host aborted its stream (ChunkAbort, or ChunkEnd short of its content-length)
)

// Response flags (Response.Flags), equal to SPIKARD_RESPONSE_*. The
// handler-error and problem flags have App methods of their own
// (RespondError, RespondProblem). See Respond.
const (
	ResponseStream   uint32 = 1 << 2  // send status and headers now; chunks follow through StreamWrite
	ResponseSSE      uint32 = 1 << 3  // with ResponseStream: core frames server-sent events
	ResponseWritten  uint32 = 1 << 4  // deliver EventWritten (or EventDisconnect) for this answer; implied for a stream
	ResponseWSAccept uint32 = 1 << 8  // the answer to EventWSOpen that upgrades: headers add to the 101, status 0 or 101, no body
	ResponseFile     uint32 = 1 << 10 // Body is a file's path (and optionally NUL and a download name): core sends the file (files.go)
)

// Chunk is one piece of an open stream, for App.StreamWrite, which copies
// its slices before it returns.
type Chunk struct {
	Exchange uint64
	Flags    uint32 // ChunkEnd, ChunkAbort; on a WebSocket ChunkWSBinary, ChunkWSClose or ChunkAbort
	Code     uint32 // with ChunkWSClose: the close code; else 0
	Data     []byte // bytes; on an SSE stream the event's data; on a WebSocket the message or the close reason
	Event    []byte // SSE "event:"; empty: none
	ID       []byte // SSE "id:"; empty: none
	RetryMS  uint32 // SSE "retry:"; 0: none
}

// Chunk flags, equal to SPIKARD_CHUNK_*.
const (
	ChunkEnd   uint32 = 1 << 0 // after Data, end the stream cleanly
	ChunkAbort uint32 = 1 << 1 // end it now: queued bytes dropped, connection closed, no terminator; Data must be empty; DISCONNECT GoneAborted
	// On a WebSocket, flags 0 send Data as a text message (valid UTF-8).
	ChunkWSBinary uint32 = 1 << 8 // send Data as a binary WebSocket message
	ChunkWSClose  uint32 = 1 << 9 // close the WebSocket with Code (0: no status) and reason Data, after what is queued
)

// ErrAgain is StreamWrite's answer when a stream's queue is full: nothing
// was queued, and one EventStreamCredit follows once it has drained to
// half its bound (none if the stream ends first: its terminal event comes
// instead).
var ErrAgain = errors.New("spikard: stream queue full")

// ErrInvalid wraps a refusal of a malformed answer or chunk
// (SPIKARD_E_INVALID): a status, a header, or a field the record's flags do
// not use. A refused answer still answers its exchange, with the standard
// 500; a refused chunk changes nothing.
var ErrInvalid = errors.New("invalid")

// Header is one header field.
type Header struct {
	Name  []byte
	Value []byte
}

// Response is a host's answer.
type Response struct {
	Status  int
	Flags   uint32 // Response* flags, or 0
	Headers []Header
	Body    []byte
}

// App is one HTTP server: configuration, routes and listener. Routes are
// added before Start; after Start the route table is immutable and every
// method is safe for concurrent use. Several Apps may run in one process.
type App struct {
	cfg    Config
	log    Logger
	codecs *codecs    // nil when compression is off (compress.go)
	alog   *accessLog // nil unless Config.AccessLog (accesslog.go)

	// life serialises Start and Shutdown, so a Shutdown racing a Start
	// sees either no server or a running one.
	life sync.Mutex

	// mu guards the fields below it: the route table while routes are
	// added, the lanes map, and the lifecycle state.
	mu      sync.Mutex
	tree    route.Tree
	routes  []*compiledRoute
	lanes   map[uint32]*Lane
	started bool
	stopped bool           // Shutdown has begun
	noRoute *compiledRoute // the route of error visits for unmatched requests (hooks.go)

	docsAdded bool // the OpenAPI routes are in the table (openapi.go)

	// Set by Start; read-only afterwards.
	srv     *server.Hertz
	ln      *drainListener
	runDone chan struct{} // closed when Hertz's Run has returned
	port    atomic.Int32

	// Request ids and CORS, compiled by NewApp and AddRoute: rid.key nil
	// when ids are off; corsOn once any route has a policy.
	rid     ridNames
	appCORS *corsPolicy
	corsOn  bool
	guards  appGuards // the app's auth and rate limits (guard.go)

	ex      exchanges
	conns   connSet
	streams streamSet // answers being written by their Hertz goroutines (stream.go)
	sockets socketSet // open WebSockets (websocket.go)
	hub     hub       // broadcast channels (broadcast.go)
	bufs    sync.Pool // *streamBufs
	wsBufs  sync.Pool // WebSocket write buffers, held only while a frame is written
	timers  sync.Pool // *time.Timer for StreamWrite calls that wait

	phase    atomic.Int32  // phaseServing, phaseDraining, phaseClosing (server.go)
	inflight atomic.Int64  // requests inside the handler
	drained  chan struct{} // signalled (cap 1) when inflight drops to 0 once Shutdown has begun
	force    chan struct{} // closed at the shutdown deadline: waiting exchanges answer 503
	done     chan struct{} // closed once fully stopped
	stopOnce sync.Once
	stopErr  error
}

// compiledRoute is a route with its schemas compiled. Immutable after
// AddRoute.
type compiledRoute struct {
	id      RouteID
	spec    RouteSpec
	pattern route.Pattern
	params  *request.Plan
	body    *request.Body
	shape   *request.Shape     // how form and multipart bodies map onto body
	files   *request.FileRules // declared upload fields, or nil
	lane    *Lane
	facts   uint8    // fact* bits from spec.Facts
	events  uint8    // event* bits from spec.Events
	ws      *wsRoute // a WebSocket route's rules, or nil
	cors    *corsPolicy
	hooks   uint8  // Hook* phases the route visits for (hooks.go)
	guard   *guard // auth and rate limit (guard.go), or nil
	// jsonDepth is the app's max_json_depth, kept here for the request
	// path (formbody.go), which sees the route but not the app.
	jsonDepth int
}

// Fact and opt-in event bits of a compiled route.
const (
	factMeta uint8 = 1 << iota
	factCookies
	factQuery
	factUploads
	factClaims
)

const eventDisconnect uint8 = 1

func (rt *compiledRoute) wants(fact uint8) bool { return rt.facts&fact != 0 }

// bitsOf turns a list of names out of known into bits (name i is bit i).
func bitsOf(what string, names, known []string) (uint8, error) {
	var bits uint8
	for _, n := range names {
		i := slices.Index(known, n)
		if i < 0 {
			return 0, fmt.Errorf("spikard: %s: unknown name %q (known: %q)", what, n, known)
		}
		bits |= 1 << i
	}
	return bits, nil
}

// NewApp returns an app that has not started. A nil cfg.Logger writes to
// stderr.
func NewApp(cfg Config) *App {
	if cfg.Logger == nil {
		cfg.Logger = stderrLogger{}
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	a := &App{
		cfg:     cfg,
		log:     cfg.Logger,
		rid:     newRIDNames(cfg.RequestID),
		appCORS: compileCORS(cfg.CORS),
		codecs:  newCodecs(cfg.Compression),
		guards:  compileAppGuards(&cfg),
		lanes:   map[uint32]*Lane{},
		drained: make(chan struct{}, 1),
		force:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	a.newNoRoute() // hooks.go
	if cfg.AccessLog {
		a.alog = newAccessLog(a.accessSink())
	}
	return a
}

// accessSink is where the access log's batches go: EventLog events on
// the configured lane, or the Logger one line per call.
func (a *App) accessSink() func([]byte) {
	if a.cfg.AccessLogEvents {
		lane := a.Lane(a.cfg.AccessLogLane)
		return lane.pushLog
	}
	return func(batch []byte) {
		for len(batch) > 0 {
			i := bytes.IndexByte(batch, '\n')
			a.log.Printf("%s", batch[:i])
			batch = batch[i+1:]
		}
	}
}

// AddRoute adds a route. It fails, without panicking, on a malformed path
// pattern, an unknown method, a conflicting route or an invalid schema, and
// after Start.
func (a *App) AddRoute(spec RouteSpec) (RouteID, error) {
	m, ok := route.ParseMethod([]byte(spec.Method))
	if !ok {
		return 0, fmt.Errorf("spikard: unknown method %q", spec.Method)
	}
	if spec.WebSocket != nil && (m != route.GET || spec.Handler != nil) {
		return 0, fmt.Errorf("spikard: %s %s: a WebSocket route is a GET route served by a lane host", spec.Method, spec.Path)
	}
	pat, err := route.ParsePattern(spec.Path)
	if err != nil {
		return 0, err
	}
	plan, err := request.Compile(spec.ParameterSchema, pat)
	if err != nil {
		return 0, fmt.Errorf("spikard: %s %s: %w", spec.Method, spec.Path, err)
	}
	var body *request.Body
	var shape *request.Shape
	if s := bytes.TrimSpace(spec.BodySchema); len(s) > 0 && string(s) != "null" {
		if body, err = request.CompileBodyDepth(s, a.cfg.MaxJSONDepth); err != nil {
			return 0, fmt.Errorf("spikard: %s %s: %w", spec.Method, spec.Path, err)
		}
		if shape, err = request.CompileShape(s); err != nil {
			return 0, fmt.Errorf("spikard: %s %s: %w", spec.Method, spec.Path, err)
		}
	}
	files, err := request.CompileFileParams(spec.FileParams)
	if err != nil {
		return 0, fmt.Errorf("spikard: %s %s: %w", spec.Method, spec.Path, err)
	}
	facts, err := bitsOf("facts", spec.Facts, routeFacts)
	if err != nil {
		return 0, err
	}
	events, err := bitsOf("events", spec.Events, routeEvents)
	if err != nil {
		return 0, err
	}
	ws, err := a.compileWS(spec.WebSocket)
	if err != nil {
		return 0, fmt.Errorf("spikard: %s %s: %w", spec.Method, spec.Path, err)
	}
	hooks, err := a.routeHooks(&spec)
	if err != nil {
		return 0, err
	}
	g, err := a.compileGuard(&spec) // guard.go
	if err != nil {
		return 0, fmt.Errorf("spikard: %s %s: %w", spec.Method, spec.Path, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started || a.stopped {
		return 0, ErrStarted
	}
	id := RouteID(len(a.routes))
	if err := a.tree.Insert(m, pat, int32(id)); err != nil {
		return 0, err
	}
	cr := &compiledRoute{id: id, spec: spec, pattern: pat, params: plan, body: body, shape: shape, files: files,
		facts: facts, events: events, hooks: hooks, jsonDepth: a.cfg.MaxJSONDepth, ws: ws}
	switch {
	case spec.CORS != nil:
		cr.cors = compileCORS(spec.CORS)
	case !spec.NoCORS:
		cr.cors = a.appCORS
	}
	if cr.cors != nil {
		a.corsOn = true
		listed := a.cfg.WSOrigins != nil || (spec.WebSocket != nil && spec.WebSocket.Origins != nil)
		handshakeOrigins(cr.cors, cr.ws, listed)
	}
	if cr.guard = g; g != nil && g.limit != nil && spec.RateLimit.Own != nil {
		a.guards.limits = append(a.guards.limits, g.limit)
	}
	if cr.jsonDepth <= 0 {
		cr.jsonDepth = request.DefaultMaxJSONDepth
	}
	if spec.Handler == nil {
		cr.lane = a.laneLocked(spec.Lane)
	}
	a.routes = append(a.routes, cr)
	return id, nil
}

// ErrStarted is returned by AddRoute and Start when the app has already
// started (or stopped).
var ErrStarted = errors.New("spikard: app already started")

// Port is the bound TCP port, or 0 before Start.
func (a *App) Port() int { return int(a.port.Load()) }

// Done is closed once the app has fully stopped.
func (a *App) Done() <-chan struct{} { return a.done }

// Lane returns dispatch lane n, creating it if needed. Lanes created after
// Shutdown are already closed.
func (a *App) Lane(n uint32) *Lane {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.laneLocked(n)
}

func (a *App) laneLocked(n uint32) *Lane {
	l := a.lanes[n]
	if l == nil {
		l = newLane(&a.ex)
		if slices.Contains(a.cfg.SerialLanes, n) {
			l.serial = newSerialLane(a.cfg.StallAfter)
		}
		if a.stopped {
			l.close()
		}
		a.lanes[n] = l
	}
	return l
}

// stderrLogger is the Logger used when Config.Logger is nil.
type stderrLogger struct{}

func (stderrLogger) Printf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
