// Types of @spikard/node. Routes and handlers are JavaScript; HTTP (parsing,
// routing, validation, error documents) is libspikard's Go core.

/// <reference types="node" />

/** A JSON Schema object (the core's dialect; `$schema` is ignored). */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * A Zod 4 schema: anything with Zod's internals (`_zod`) or a `toJSONSchema()`
 * method. It is converted with Zod's own JSON Schema export (no Zod
 * dependency here: the application's `zod` package is used).
 */
export interface ZodLike {
  readonly _zod?: unknown;
  toJSONSchema?(): JsonSchema;
}

/** A schema a route accepts: JSON Schema or Zod. */
export type Schema = JsonSchema | ZodLike;

/** A sink for the app's lines (`console`, a pino logger, ...). */
export interface Logger {
  info(message: string): void;
}

/**
 * Settings of an app. Each field is checked at construction by the core's own
 * rules (a `TypeError` for a value of the wrong type, a `RangeError` for one
 * outside the rule, each naming the field in the core's words). Durations are
 * seconds, as in every Spikard binding.
 */
export interface ServerConfig {
  /** Listen address. Default `"127.0.0.1"`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 8000. */
  port?: number;
  /** Largest accepted request body in bytes; 0 means no limit. Default 10 MiB. */
  maxBodySize?: number;
  /** How deeply a JSON body may nest arrays and objects (1..10000); a deeper one is a 400. Default 128. */
  maxJsonDepth?: number;
  /** Longest request target (path and query) in bytes; a longer one is a 414. 0 means no limit. Default 8192. */
  maxUriLength?: number;
  /** Largest size of a request's header fields together, in bytes; more is a 431. 0 means no limit. Default 16384. */
  maxHeaderSize?: number;
  /** Most header fields a request may have; more is a 431. 0 means no limit. Default 100. */
  maxHeaderCount?: number;
  /** Seconds a request head may take to arrive from its first byte; then it is a 408. 0 means no limit. Default 10. */
  headerTimeout?: number;
  /** Seconds a request may wait for its answer before a 408 (a problem document); 0 means no limit. Default 30. */
  requestTimeout?: number;
  /** Seconds to wait for the next bytes of a request or an idle keep-alive connection; 0 means no limit. Default 30. */
  readTimeout?: number;
  /** Seconds `close()` lets in-flight requests finish. Default 5. */
  shutdownTimeout?: number;
  /**
   * One line per request, formatted by the core, each passed to
   * `logger.info()` as it is:
   * `2026-12-03T11:46:55.123Z 127.0.0.1:54321 "GET /items/7?q=1 HTTP/1.1" 200 0.412ms -`
   * (time the request began, UTC; client; request line; status; duration;
   * request id or `-`). The core hands them over in batches at most 100 ms
   * apart, and `close()` delivers the last ones before it resolves. Off, it
   * costs nothing. Default false.
   */
  accessLog?: boolean;
  /** No "listening" and "stopped" lines on the logger. Default false. */
  quiet?: boolean;
  /**
   * Where the app's lines go: `Spikard listening on http://host:port` once
   * `listen()` serves, `Spikard stopped (http://host:port)` once `close()`
   * is done (in a worker process each ends with ` (worker i, pid n)`), and
   * the access lines. Any object with an `info(message)` method: `console`,
   * a pino or winston logger. Default: each message a line on stderr;
   * `false`: none.
   */
  logger?: Logger | false;
  /** Bind with SO_REUSEPORT (Unix only). Default false. */
  reusePort?: boolean;
  /**
   * Linux: when `listen()` starts, move the process's threads to SCHED_BATCH,
   * so that the core's threads and the JS thread hand batches to each other
   * without preempting one another at every hand-off. No priority over other
   * processes is gained. Default true.
   */
  schedBatch?: boolean;
  /**
   * Bytes a streaming answer may hold queued, not yet taken by its client; a
   * producer past it waits until the client reads. Default 4 MiB.
   */
  streamQueueBytes?: number;
  /** Seconds of silence after which an SSE stream gets a keep-alive comment; 0 sends none. Default 15. */
  sseKeepalive?: number;
  /**
   * Largest WebSocket message a client may send, in bytes (all its
   * fragments); a larger one closes the connection with 1009. 0 means no
   * limit. Default 1 MiB.
   */
  wsMaxMessageSize?: number;
  /**
   * Bytes of received WebSocket messages the server has not taken yet before
   * the core stops reading that connection. Default 1 MiB.
   */
  wsInboundBytes?: number;
  /**
   * Seconds between the core's pings of each WebSocket; one that stays silent
   * for two intervals is dropped (1006). 0 sends none. Default 0.
   */
  wsPingInterval?: number;
  /**
   * Origins a WebSocket handshake may come from (`"https://app.example"`, or
   * `"*"` for any); others are refused with a 403 problem. Default: only pages
   * of the server's own host (a client that sends no Origin, not a browser,
   * always may).
   */
  wsOrigins?: string[];
  /**
   * Where `broadcast` and `WebSocket.publish` messages go. Default in-process;
   * `{ redis: "redis://host:6379/0" }` through Redis pub/sub, so every worker
   * and host on that Redis (and `prefix`, default `"spikard:"`) delivers them.
   * `listen()` fails when Redis does not answer within 3 s.
   */
  broadcast?: { redis: string; prefix?: string };
  /** Every route requires a valid JWT bearer token unless it says `jwtAuth: false` or has its own. */
  jwtAuth?: JwtAuthOptions;
  /** Every route requires an API key unless it says `apiKeyAuth: false` or has its own. */
  apiKeyAuth?: ApiKeyAuthOptions;
  /** Every route is rate limited unless it says `rateLimit: false` or has its own. */
  rateLimit?: RateLimitOptions;
  /**
   * Processes serving the app, an integer in 1..1024. Default 1. Above 1,
   * `listen()` makes this process libspikard's supervisor: it runs this
   * program again once per worker (every worker binds the same address with
   * SO_REUSEPORT), passes SIGINT and SIGTERM on, and exits with the
   * supervisor's status; its promise never resolves. In a worker `listen()`
   * serves, and closes gracefully and exits on SIGINT or SIGTERM.
   */
  workers?: number;
  /**
   * Give every answer an `X-Request-ID`: the client's own when it is sane
   * (1..128 letters, digits and `-_.:~+/=@`), else a new UUID. The handler
   * sees the same id as `req.requestId`. Default true.
   */
  requestId?: boolean;
  /** The app's CORS policy; a route's `cors` option replaces it for that route. Default none. */
  cors?: CorsConfig;
  /**
   * Compress answers for clients that accept it (the core negotiates
   * `Accept-Encoding` q-values, br then zstd then gzip on a tie, and sets
   * `Vary: Accept-Encoding`). Default: off. See {@link CompressionConfig}.
   */
  compression?: CompressionConfig;
  /** Directories the core serves under URL prefixes. See {@link StaticFilesConfig}. */
  staticFiles?: StaticFilesConfig[];
  /**
   * The OpenAPI 3.1 document at `/openapi.json`, with Swagger UI and ReDoc
   * pages (see `OpenApiConfig`). Default: none.
   */
  openapi?: OpenApiConfig;
}

/**
 * The app's OpenAPI 3.1 document and its docs pages, built by the core once
 * `listen()` starts, from every route's schemas and options (WebSocket
 * endpoints left out). An object schema with a `title` and `properties`
 * (a Zod object with `.meta({ title })`) becomes a named component of
 * `components/schemas`. The pages load only the app's own scripts and
 * stylesheets: they work offline. Each field is checked at construction.
 */
export interface OpenApiConfig {
  /** Serve the document and pages. Default true (giving the object opts in). */
  enabled?: boolean;
  /** `info.title`. Default `"API"`. */
  title?: string;
  /** The API's version (`info.version`). Default `"1.0.0"`. */
  version?: string;
  /** `info.description` (CommonMark). */
  description?: string;
  /** Where Swagger UI is served; null: nowhere. Default `"/docs"`. */
  swaggerUiPath?: string | null;
  /** Where ReDoc is served; null: nowhere. Default `"/redoc"`. */
  redocPath?: string | null;
  /** Where the document is served. Default `"/openapi.json"`. */
  openapiPath?: string;
}

/** What a route says of itself in the OpenAPI document only. */
export interface OperationOptions {
  /** The operation's summary. */
  summary?: string;
  /** The operation's description (CommonMark). */
  description?: string;
  /** The operation's tags. */
  tags?: string[];
  /** The operation's id, unique in the app; default generated (`get_users_id`). */
  operationId?: string;
  /** The status of a successful answer, for the document (the handler still answers what it answers). Default 200. */
  statusCode?: number;
}

/**
 * The core's compression. Streamed answers compress chunk by chunk as they
 * are produced; bodies under `minSize`, HEAD answers, statuses without a
 * body, answers that set Content-Encoding, SSE and types compressed already
 * (images, audio, video, archives) go out as they are.
 */
export interface CompressionConfig {
  /** Offer gzip. Default true. */
  gzip?: boolean;
  /** Offer brotli (`br`). Default true. */
  brotli?: boolean;
  /** Offer zstd. Default false. */
  zstd?: boolean;
  /** Smallest whole body worth compressing, in bytes. Default 1024. */
  minSize?: number;
  /** 0..11: brotli takes it as is, gzip clamped to 0..9, zstd mapped onto its four levels. Default 6. */
  quality?: number;
}

/**
 * A directory the core serves at `routePrefix`, for paths no route matches:
 * ETag and Last-Modified with 304s, Range (206, 416), types by extension,
 * precompressed `name.br`/`name.gz` siblings when accepted, index.html for a
 * directory. Paths that try to leave it (`..` encoded or not, backslashes,
 * NUL, symlinks out) are the standard 404; other methods than GET and HEAD 405.
 */
export interface StaticFilesConfig {
  /** The directory; it must exist when the config is checked (relative: to the working directory). */
  directory: string;
  /** The URL path prefix, starting with `/`. */
  routePrefix: string;
  /** Serve index.html for a directory. Default true. */
  indexFile?: boolean;
  /** The Cache-Control of every file served. Default none. */
  cacheControl?: string;
}

/** The options of a `FileResponse`. */
export interface FileResponseInit {
  /** 200..599 but 204 and 304; default 200. Only 200 answers conditional and Range requests. */
  status?: number;
  /** Headers sent with the file; not content-length, content-range, content-encoding or transfer-encoding. */
  headers?: HeadersInit;
  /** The Content-Type; default from the file's extension (application/octet-stream when unknown). */
  contentType?: string;
  /** Offer the file as a download under this name (Content-Disposition: attachment, encoded by the core). */
  filename?: string;
}

/**
 * An answer whose body is a file the core opens and sends (ETag,
 * Last-Modified, 304, Range). A file that is not there answers 500 and a log
 * line naming it.
 */
export declare class FileResponse extends Response {
  constructor(path: string, init?: FileResponseInit);
  /** The absolute path sent. */
  readonly path: string;
  readonly filename: string | undefined;
}

/**
 * A CORS policy, applied by the core: it answers preflights (204, or a 403
 * naming what it refused), refuses other origins with a 403 problem, and adds
 * the `Access-Control-*` headers and `Vary: Origin` to every answer, streams,
 * SSE and WebSocket upgrades included.
 */
export interface CorsConfig {
  /**
   * Origins allowed: exact ones as browsers send them (`"https://app.example"`,
   * compared case included), `"*"` for any, `"null"` for the opaque origin, or
   * RegExps without flags an origin must match whole (run as RE2 by the core:
   * no lookarounds or backreferences).
   */
  allowOrigins: Array<string | RegExp>;
  /** Methods a preflight may ask for, or `["*"]`. Default GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS. */
  allowMethods?: string[];
  /** Request headers a preflight may name (any case), or `["*"]`; the CORS-safelisted ones always pass. Default none. */
  allowHeaders?: string[];
  /** Send `Access-Control-Allow-Credentials: true`; the origin is then echoed, never `*`. Default false. */
  allowCredentials?: boolean;
  /** Answer headers scripts may read. Default none. */
  exposeHeaders?: string[];
  /** Seconds a browser may cache a preflight's answer; null sends none. Default 600. */
  maxAge?: number | null;
  /** Answer `Access-Control-Request-Private-Network: true` with `Access-Control-Allow-Private-Network: true`. Default false. */
  allowPrivateNetwork?: boolean;
}

/**
 * JWT bearer authentication, verified by the core (include/spikard.h,
 * "jwt_auth"). A refused request is a 401 problem with
 * `WWW-Authenticate: Bearer ...`; a verified one's claims are `req.claims`.
 */
export interface JwtAuthOptions {
  /** The HMAC secret of HS256/384/512. */
  secret?: string;
  /** The accepted algorithm, default "HS256"; "none" never is. */
  algorithm?: string;
  /** An allow-list replacing `algorithm`. */
  algorithms?: string[];
  /** A token's `aud` (a string or a list) must hold one of these. */
  audience?: string[] | string;
  /** A token's `iss` must equal it. */
  issuer?: string;
  /** Seconds of clock skew allowed on `exp` and `nbf`, default 0. */
  leeway?: number;
  /** PEM text of the RSA or EC public key of RS*, PS* and ES*. */
  publicKey?: string;
  /** A file holding that PEM key. */
  publicKeyFile?: string;
  /** A local JWK Set file; a token's `kid` picks the key. */
  jwksFile?: string;
  /** Refuse tokens without `exp`. */
  requireExp?: boolean;
  /** The challenge's realm, default "api". */
  realm?: string;
}

/** API-key authentication (include/spikard.h, "api_key_auth"). */
export interface ApiKeyAuthOptions {
  /** Accepted keys: several at once let a key rotate. */
  keys: string[];
  /** Also accepted; their answers carry `X-API-Key-Deprecated: true`. */
  deprecatedKeys?: string[];
  /** The header read first, default "X-API-Key". */
  headerName?: string;
  /** The query parameter read when the header is absent, default "api_key"; null: never the query. */
  queryParam?: string | null;
}

/**
 * A token bucket per client (include/spikard.h, "rate_limit"): `burst`
 * requests at once, refilled at `perSecond`; over it, a 429 with
 * `Retry-After`. Answers carry RateLimit-Limit/-Remaining/-Reset
 * (draft-ietf-httpapi-ratelimit-headers-07).
 */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** One bucket per client address (default true); false: one for all. */
  ipBased?: boolean;
  /** "ip" (default), "api_key" or "jwt_sub": buckets per verified credential. */
  keyBy?: 'ip' | 'api_key' | 'jwt_sub';
  /** Addresses or CIDRs whose Forwarded / X-Forwarded-For are believed. */
  trustedProxies?: string[];
  /** Keep buckets in Redis, shared by every worker and host using it. */
  redisUrl?: string;
  /** Redis key prefix, default "spikard:rl:". */
  redisPrefix?: string;
  /** Seconds per Redis command, default 0.5. */
  redisTimeout?: number;
  /** Admit requests (and log) while Redis does not answer; else `listen()` fails and later requests get 503. */
  failOpen?: boolean;
}

/** The schemas of a route method: each optional. */
export interface RouteSchemas extends OperationOptions {
  /** This route's own JWT requirement in place of the app's, or false for none. */
  jwtAuth?: JwtAuthOptions | false;
  /** This route's own API keys in place of the app's, or false for none. */
  apiKeyAuth?: ApiKeyAuthOptions | false;
  /** This route's own rate limit in place of the app's, or false for none. */
  rateLimit?: RateLimitOptions | false;
  /** Path parameters: an object schema; its properties name the path's `{placeholders}`. */
  params?: Schema;
  /** Query parameters: an object schema. */
  query?: Schema;
  /** Header parameters: an object schema (names as sent, e.g. `"x-api-key"`). */
  headers?: Schema;
  /** Cookie parameters: an object schema. */
  cookies?: Schema;
  /** The body; `req.body` is then the validated, decoded JSON value. */
  body?: Schema;
  /**
   * The answer's schema (documentation; not checked per answer). A handler
   * that returns `undefined` when this schema does not admit null is a bug:
   * the client gets the core's 500 and the log a line naming the route.
   */
  response?: Schema;
  /** The route's CORS policy in place of the app's; false: none on this route. */
  cors?: CorsConfig | false;
}

/** The options of `registerRoute`: raw JSON Schemas, as Python's `register_route`. */
export interface RawRouteOptions extends OperationOptions {
  /** The route's CORS policy in place of the app's; false: none on this route. */
  cors?: CorsConfig | false;
  /** An object schema whose properties each carry `"source"`: `"path"`, `"query"`, `"header"` or `"cookie"`. */
  parameterSchema?: Schema;
  /** The body's schema. */
  bodySchema?: Schema;
  /** The answer's schema (documentation only). */
  responseSchema?: Schema;
  /** Upload fields: `{ name: { required?, content_type?: string[], validate_magic_numbers? } }`. */
  fileParams?: {
    [field: string]: {
      required?: boolean;
      content_type?: string[];
      validate_magic_numbers?: boolean;
    };
  };
}

/** One uploaded file of a multipart/form-data body (a field declared `{"type": "string", "format": "binary"}`). */
export declare class UploadFile {
  /** The file's bytes (a view into the request body). */
  readonly data: Buffer;
  /** The part's filename, or null. */
  readonly filename: string | null;
  /** The part's content type (default `application/octet-stream`). */
  readonly contentType: string;
  /** The part's own headers, lower-case names. */
  readonly headers: { [name: string]: string };
  /** Size in bytes. */
  readonly size: number;
  /** The bytes as a string (UTF-8 unless told). */
  text(encoding?: BufferEncoding): string;
}

/**
 * The request a handler receives. Declared parameters are validated and
 * coerced by the core; every field is decoded on first access.
 */
export declare class Request<
  P = { [name: string]: unknown },
  Q = { [name: string]: unknown },
  H = { [name: string]: unknown },
  C = { [name: string]: unknown },
  B = unknown,
> {
  /** The HTTP method, upper-case. */
  readonly method: string;
  /** The path, percent-decoded, without the query. */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly rawQuery: string;
  /** Path parameters, validated and coerced. */
  readonly params: P;
  /** Query parameters: declared ones validated; the others as sent (a repeated key is an array). */
  readonly query: Q;
  /** Headers, lower-case names: declared ones validated; the others as sent (repeats joined with ", "). */
  readonly headers: H;
  /** Cookies: declared ones validated; the others as sent (the first of a repeated name wins). */
  readonly cookies: C;
  /** The verified claims of the request's JWT, or null when the route verified none. */
  readonly claims: { [claim: string]: unknown } | null;
  /** With a body schema, the validated body decoded from JSON (forms too); else the raw bytes, or null. */
  readonly body: B;
  /** Aborted when the exchange ends without the answer: the client left, `requestTimeout`, or `close()`. */
  readonly signal: AbortSignal;
  /** The request's id, as its answer's `X-Request-ID` carries it (with `requestId: false`, the client's header, if any). */
  readonly requestId: string | undefined;
  /**
   * Run `task` (sync or async) after the answer has been sent — once its last
   * byte is with the kernel — or once the exchange ends if the client leaves
   * first. Tasks run one after another in the order given; a failure goes to
   * `console.error`. A handler that throws, or whose client leaves before it
   * answers, runs none of its tasks. `close()` waits for running tasks up to
   * `shutdownTimeout`. Throws once the answer has been sent.
   */
  background(task: () => unknown): void;
}

/** Headers of an answer: an object, a Map, a fetch `Headers` or `[name, value]` pairs (repeats allowed). */
export type HeadersInit =
  { [name: string]: string | number | ReadonlyArray<string> } | Iterable<readonly [string, string]>;

/** The options of a `Response`. */
export interface ResponseInit {
  /** The status, 100..599. Default 200. */
  status?: number;
  /** The answer's headers. */
  headers?: HeadersInit;
}

/**
 * An answer with an explicit status and headers. Content is encoded as a
 * plain return value is (string: text/plain, a JSON value: application/json),
 * except that bytes get **no** content-type unless `headers` names one, and
 * undefined/null send an empty body. A `content-type` in `headers` wins.
 */
export declare class Response {
  constructor(content?: unknown, init?: ResponseInit);
  readonly content: unknown;
  readonly status: number;
  /** The headers as `[name, value]` pairs. */
  readonly headers: Array<[string, string]>;
}

/** One entry of a problem's `errors` (pydantic's shape). */
export interface ProblemEntry {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input?: unknown;
  ctx?: { [key: string]: unknown };
}

/** The options of a `ProblemError`. */
export interface ProblemOptions {
  /** A URI naming the problem type (default: by status). */
  type?: string;
  /** A short summary (default: the status's reason phrase). */
  title?: string;
  /** Validation-style entries. */
  errors?: ProblemEntry[];
  /** Headers added to the answer (Retry-After, WWW-Authenticate); not content-type or content-length. */
  headers?: HeadersInit;
}

/**
 * Throw (or return) it for an error answer: the core renders the RFC 9457
 * problem document (`application/problem+json`), the same bytes in every
 * Spikard binding.
 */
export declare class ProblemError extends Error {
  constructor(status: number, detail?: string, options?: ProblemOptions);
  readonly status: number;
  readonly detail: string | undefined;
  readonly type: string | undefined;
  readonly title: string | undefined;
  readonly errors: ProblemEntry[] | undefined;
  readonly headers: Array<[string, string]>;
  /** The description handed to the core. */
  toDescription(): { detail?: string; type?: string; title?: string; errors?: ProblemEntry[] };
}

/**
 * What a handler may return (or resolve to): a string (text/plain; charset=utf-8),
 * a Buffer/Uint8Array (application/octet-stream), undefined/null (JSON `null`),
 * a `Response`, a fetch `Response` (its body is read), a `StreamingResponse`, or
 * any other value (JSON).
 * JSON follows the Spikard output rules: NaN, Infinity, BigInt and lone
 * surrogates make the answer a handler error.
 */
export type HandlerResult = unknown;

/**
 * A route handler; may be async. A throw or rejection answers the core's
 * standard 500 problem document (the stack goes to `console.error`, never to
 * the client); a `ProblemError` answers its own problem document.
 */
export type Handler = (
  req: Request<any, any, any, any, any>,
) => HandlerResult | Promise<HandlerResult>;

/** A generator function serving server-sent events (see `Spikard.sse`). */
export type SseHandler = (
  req: Request<any, any, any, any, any>,
) => AsyncIterable<unknown> | Iterable<unknown>;

/** The options of a `StreamingResponse`. */
export interface StreamingResponseInit {
  /** The status, 200..599 but not 204, 205 or 304. Default 200. */
  status?: number;
  /** The answer's headers (a content-length makes the body fixed-length instead of chunked). */
  headers?: HeadersInit;
  /** The content-type, unless `headers` name one; with neither the answer has none. */
  contentType?: string;
}

/**
 * An answer whose body is sent as `content` yields it: an async iterable (an
 * async generator, a Node Readable) or an iterable of strings (UTF-8) or
 * bytes. Each piece reaches the client as it is produced; a client that
 * stops reading suspends the producer once the core's queue for the stream
 * (`streamQueueBytes`) is full; a client that leaves ends it (the
 * generator's `finally` runs). A producer that throws aborts the stream: the
 * client sees the body cut off, and the error goes to `console.error`.
 */
export declare class StreamingResponse {
  constructor(
    content: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
    init?: StreamingResponseInit,
  );
  readonly content: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;
  readonly status: number;
  readonly headers: Array<[string, string]>;
}

/** The fields of an `SseEvent`. */
export interface SseEventInit {
  /** The data: a string as is (each line a `data:` line), anything else as JSON. */
  data?: unknown;
  /** The event's type (`event:`); no line breaks. */
  event?: string;
  /** The event's id (`id:`, the client's next Last-Event-ID); no line breaks or NUL. */
  id?: string;
  /** The client's reconnection delay in milliseconds (`retry:`). */
  retry?: number;
}

/** One server-sent event with fields beyond its data. */
export declare class SseEvent {
  constructor(init?: SseEventInit);
  readonly data: unknown;
  readonly event: string;
  readonly id: string;
  readonly retry: number;
}

/**
 * A Zod schema that checks each message of a message handler: the core checks
 * every message against its JSON Schema export first (a failure closes the
 * connection with 1007, the first error's location as the reason, as for a
 * JSON Schema object); then the handler gets its `safeParse`'s `data`, and a
 * failure there (a refinement, say) closes with 1007 too.
 */
export interface MessageSchema<T = unknown> {
  safeParse(value: unknown): {
    success: boolean;
    data?: T;
    error?:
      { issues?: ReadonlyArray<{ path?: ReadonlyArray<PropertyKey>; message: string }> } | unknown;
  };
}

/** The options every `Spikard.websocket` endpoint takes. */
export interface WebSocketRouteOptions {
  /** The route's CORS policy in place of the app's (it also decides the handshake's origin unless `wsOrigins` lists them); false: none. */
  cors?: CorsConfig | false;
  /**
   * The subprotocols the endpoint speaks, in order of preference (tokens such
   * as `"chat.v1"`): the core picks the first the client offers unless the
   * handler chooses in `accept`.
   */
  subprotocols?: string[];
  /** Path parameters of the handshake: an object schema, as a route's. */
  params?: Schema;
  /** Query parameters of the handshake: an object schema (checked before it is answered: 422). */
  query?: Schema;
  /** Header parameters of the handshake: an object schema. */
  headers?: Schema;
  /** Cookie parameters of the handshake: an object schema. */
  cookies?: Schema;
}

/** The options of a message-handler endpoint (the default). */
export interface WebSocketMessageOptions<
  M extends 'json' | 'text' | 'binary' | MessageSchema | JsonSchema = 'json',
> extends WebSocketRouteOptions {
  connection?: false;
  /**
   * How each message reaches the handler: `"json"` (the default: text, or
   * binary holding UTF-8, parsed as JSON), `"text"` (a string; binary must be
   * UTF-8), `"binary"` (a Buffer; text as its UTF-8), or a JSON Schema object
   * or Zod schema the JSON must meet. The core checks JSON messages and
   * closes with 1007 at the first that is not JSON or does not meet the
   * schema (reason: `message.<location>: <error>`).
   */
  message?: M;
}

/** The options of a connection-handler endpoint. */
export interface WebSocketConnectionOptions extends WebSocketRouteOptions {
  /** The handler runs once per connection with the `WebSocket`, and accepts, receives and sends itself. */
  connection: true;
  /**
   * A JSON Schema object the core checks every message against before the
   * handler receives it: the first that is not JSON or does not meet it
   * closes the connection with 1007 (reason: `message.<location>: <error>`).
   * Messages still reach the handler as they came (string or Buffer).
   */
  message?: JsonSchema;
}

/**
 * What a message handler may return (or resolve to): undefined or null send
 * nothing, a string is sent as text, bytes as binary, anything else as JSON
 * text (the Spikard output rules).
 */
export type WebSocketReply = unknown;

/** A message handler: runs once per message, in order; may be async. */
export type WebSocketMessageHandler<T> = (
  message: T,
  ws: WebSocket<any>,
) => WebSocketReply | Promise<WebSocketReply>;

/** A connection handler: runs once per connection; may be async. */
export type WebSocketHandler = (ws: WebSocket<any>) => unknown;

/** The options of `WebSocket.accept`. */
export interface AcceptOptions {
  /** The subprotocol chosen: one the client offered (and the route lists, if it lists any). */
  subprotocol?: string;
  /** Headers added to the 101 answer (a set-cookie, say). */
  headers?: HeadersInit;
}

/**
 * The connection is over. `code` is its close code (1000 normal, 1001 the
 * server stopped, 1005 closed without a code, 1006 dropped without a close,
 * 1007 a message that did not decode, 1009 too big, 1011 a handler error,
 * ...), `reason` its reason.
 */
export declare class WebSocketDisconnect extends Error {
  constructor(code?: number, reason?: string);
  readonly code: number;
  readonly reason: string;
}

/**
 * One WebSocket connection, as a connection handler gets it, before it is
 * accepted. The core does the transport (handshake checks, frames,
 * fragments, ping/pong, the close handshake, size limits, origins); this
 * object only hands messages over. When the handler returns the connection
 * is closed with 1000 (never accepted: the handshake is refused, 403); a
 * `ProblemError` thrown before `accept` refuses it with that problem (after
 * it: closes with 1008); any other throw is logged with its stack and
 * answers a 500 (after `accept`: closes with 1011).
 *
 * @example
 * app.websocket('/chat/{room}', async (ws) => {
 *   await ws.accept();
 *   ws.subscribe(ws.params.room);
 *   for await (const message of ws) await ws.publish(ws.params.room, message);
 * }, { connection: true });
 */
export declare class WebSocket<P = { [name: string]: unknown }> {
  private constructor();
  /** The handshake request (params, query, headers, cookies, path). */
  readonly request: Request<P>;
  /**
   * Aborted once the connection is over, however it ends (the client left
   * before the accept, a close either side, the server's stop); its reason is
   * a `WebSocketDisconnect`.
   */
  readonly signal: AbortSignal;
  /** Path parameters, validated and coerced by the core. */
  readonly params: P;
  /** Query parameters of the handshake. */
  readonly query: { [name: string]: unknown };
  /** The handshake's headers, lower-case names. */
  readonly headers: { [name: string]: unknown };
  /** The handshake's cookies. */
  readonly cookies: { [name: string]: unknown };
  /** The request path, percent-decoded. */
  readonly path: string;
  /** The subprotocols the client offered, in its order. */
  readonly subprotocols: string[];
  /** The close code once the connection is over, else null. */
  readonly closeCode: number | null;
  /** The close reason once the connection is over, else null. */
  readonly closeReason: string | null;
  /**
   * Accept the handshake, choosing a subprotocol (a string is taken as one)
   * and adding headers to the 101. Rejects with `WebSocketDisconnect` (1006)
   * if the client left meanwhile, and with an Error if it was accepted already.
   */
  accept(options?: AcceptOptions | string): Promise<void>;
  /**
   * The next message: a string for text, a Buffer for binary. Rejects with
   * `WebSocketDisconnect` once the connection is over.
   */
  receive(): Promise<string | Buffer>;
  /** The next message, which must be text. */
  receiveText(): Promise<string>;
  /** The next message as bytes (a text message as its UTF-8). */
  receiveBytes(): Promise<Buffer>;
  /** The next message parsed as JSON. */
  receiveJson(): Promise<any>;
  /** Every message until the connection ends (then the loop just ends). */
  [Symbol.asyncIterator](): AsyncIterator<string | Buffer>;
  /**
   * Send a string as text, bytes as binary, anything else as JSON text.
   * Resolves once the core has queued it; while the core's queue for the
   * connection is full (`streamQueueBytes`) it waits, so a client that stops
   * reading suspends its sender. Rejects with `WebSocketDisconnect` once the
   * connection is over.
   */
  send(message: unknown): Promise<void>;
  /** Send a text message. */
  sendText(text: string): Promise<void>;
  /** Send a binary message. */
  sendBytes(bytes: Uint8Array): Promise<void>;
  /** Send `value` as a JSON text message. */
  sendJson(value: unknown): Promise<void>;
  /**
   * Close with `code` (1000..1003, 1007..1014, 3000..4999; default 1000) and
   * `reason` (at most 123 bytes of UTF-8), after what is queued. Before
   * `accept` it refuses the handshake (403). Harmless once closed.
   */
  close(code?: number, reason?: string): Promise<void>;
  /** Receive what is published on `channel` (1..1024 bytes) until the connection ends. */
  subscribe(channel: string | Uint8Array): void;
  /** Stop receiving what is published on `channel`. */
  unsubscribe(channel: string | Uint8Array): void;
  /**
   * Send `message` (a string as text, bytes as binary, anything else as JSON)
   * to every WebSocket subscribed to `channel`, this one too if it is; with
   * the config's `broadcast.redis`, in every worker and host on that Redis.
   */
  publish(channel: string | Uint8Array, message: unknown): Promise<void>;
}

/** The options of `listen`. */
export interface ListenOptions {
  /** Overrides the config's host. */
  host?: string;
  /** Overrides the config's port (0: a free one). */
  port?: number;
  /** Close gracefully on SIGINT and SIGTERM. Default false. */
  signals?: boolean;
  /**
   * Development: restart the workers when a watched file changes. This
   * process becomes the supervisor (as with `workers` > 1) and the promise
   * never resolves; a worker that fails to load (a syntax error, say)
   * leaves the supervisor waiting for the next change. `true` watches the
   * current directory for `*.js`, `*.cjs`, `*.mjs`, `*.ts`, `*.cts`,
   * `*.mts` and `*.json`; dot-directories and `node_modules` are never
   * watched. Default false.
   */
  reload?: boolean | ReloadOptions;
}

/** What `listen({ reload })` watches. */
export interface ReloadOptions {
  /** Files or directories (relative to the current directory); default: it. */
  paths?: string[];
  /** Base-name globs of the files whose change restarts; default as for `true`. */
  patterns?: string[];
}

/** Where a listening app serves. */
export interface Listening {
  /** The bound TCP port. */
  port: number;
  /** `http://host:port`. */
  url: string;
}

/** A web application: routes in JS, served by libspikard's Go core. */
export declare class Spikard {
  /** @param config settings, each checked now by the core's rules */
  constructor(config?: ServerConfig, options?: SpikardOptions);
  /** The checked settings. */
  readonly config: Readonly<ServerConfig>;
  /** Register a handler for any method. */
  route(method: string, path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  route(method: string, path: string, handler: Handler): this;
  /** Register a GET handler (it also answers HEAD). */
  get(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  get(path: string, handler: Handler): this;
  /** Register a POST handler. */
  post(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  post(path: string, handler: Handler): this;
  /** Register a PUT handler. */
  put(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  put(path: string, handler: Handler): this;
  /** Register a PATCH handler. */
  patch(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  patch(path: string, handler: Handler): this;
  /** Register a DELETE handler. */
  delete(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  delete(path: string, handler: Handler): this;
  /** Register a HEAD handler. */
  head(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  head(path: string, handler: Handler): this;
  /** Register an OPTIONS handler. */
  options(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  options(path: string, handler: Handler): this;
  /** Register a TRACE handler. */
  trace(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  trace(path: string, handler: Handler): this;
  /**
   * Serve server-sent events on `GET path`: the handler is a generator
   * function (async or not) yielding events, each an `SseEvent` or any other
   * value as an event's data (a string as is, anything else as JSON). The
   * core frames them and sends keep-alive comments; a leaving client closes
   * the generator. `Last-Event-ID` is `req.headers['last-event-id']`.
   */
  sse(path: string, schemas: RouteSchemas | undefined, handler: SseHandler): this;
  sse(path: string, handler: SseHandler): this;
  /**
   * Serve a WebSocket endpoint on `GET path`. By default the handler runs
   * once per message, `handler(message, ws)`, with the message decoded by
   * `options.message` (JSON unless told), and what it returns is sent back
   * (undefined and null send nothing). With `{ connection: true }` it runs
   * once per connection, `handler(ws)`, and accepts, receives and sends
   * itself (see `WebSocket`).
   *
   * @example
   * app.websocket('/ws', (message) => ({ echo: message }));
   */
  websocket(path: string, handler: WebSocketHandler, options: WebSocketConnectionOptions): this;
  websocket(
    path: string,
    handler: WebSocketMessageHandler<string>,
    options: WebSocketMessageOptions<'text'> & { message: 'text' },
  ): this;
  websocket(
    path: string,
    handler: WebSocketMessageHandler<Buffer>,
    options: WebSocketMessageOptions<'binary'> & { message: 'binary' },
  ): this;
  websocket<T>(
    path: string,
    handler: WebSocketMessageHandler<T>,
    options: WebSocketMessageOptions<MessageSchema<T>> & { message: MessageSchema<T> },
  ): this;
  websocket(
    path: string,
    handler: WebSocketMessageHandler<any>,
    options: WebSocketMessageOptions<JsonSchema> & { message: JsonSchema },
  ): this;
  websocket(
    path: string,
    handler: WebSocketMessageHandler<any>,
    options?: WebSocketMessageOptions<'json'>,
  ): this;
  /**
   * Send `message` to every WebSocket subscribed to `channel`: a string as
   * text, bytes as binary, anything else as JSON; through Redis to every
   * worker when the config's `broadcast` names one. Throws when the app does
   * not listen, and an Error with code `"EAGAIN"` when the queue for Redis is
   * full (retry later).
   */
  broadcast(channel: string | Uint8Array, message: unknown): void;
  /** Low-level registration with raw JSON Schemas (Python's `register_route`). */
  registerRoute(
    method: string,
    path: string,
    options: RawRouteOptions | undefined,
    handler: Handler,
  ): this;
  /**
   * Start serving; resolves once the socket accepts connections. With
   * `workers` > 1, outside a worker, it supervises instead and never resolves
   * (the process exits with the supervisor's status).
   */
  listen(options?: ListenOptions): Promise<Listening>;
  /** The bound port after `listen`, else undefined. */
  readonly port: number | undefined;
  /** `http://host:port` after `listen`, else undefined. */
  readonly url: string | undefined;
  /** Stop gracefully (in-flight requests finish within `shutdownTimeout`), then free everything. */
  close(): Promise<void>;
}

/** The options of one `TestClient` request: at most one body (`files` may come with `form`). */
export interface TestRequestOptions {
  /** Query parameters; an array value repeats the name. */
  query?: { [name: string]: unknown } | URLSearchParams | string;
  /** Request headers (names case-insensitive). */
  headers?: { [name: string]: string };
  /** Cookies, sent in one `Cookie` header. */
  cookies?: { [name: string]: string | number };
  /** A value sent as JSON (`content-type: application/json`). */
  json?: unknown;
  /** Raw bytes or text, with no content-type unless `headers` names one. */
  body?: string | Uint8Array;
  /** Form fields: url-encoded, or with `files` the text parts of a multipart body. */
  form?: { [name: string]: unknown };
  /** Files of a multipart/form-data body: bytes, or `{ data, filename?, contentType? }`, or an array of them. */
  files?: {
    [field: string]: TestFile | ReadonlyArray<TestFile>;
  };
}

/** One file a `TestClient` uploads. */
export type TestFile =
  string | Uint8Array | { data: string | Uint8Array; filename?: string; contentType?: string };

/** The answer to a `TestClient` request, read to its end. */
export declare class TestResponse {
  /** The status code. */
  readonly status: number;
  /** The headers, lower-case names (Node's convention: `set-cookie` an array, other repeats joined). */
  readonly headers: { [name: string]: string | string[] | undefined };
  /** The body's bytes. */
  readonly body: Buffer;
  /** The body as a string (UTF-8 unless told). */
  text(encoding?: BufferEncoding): string;
  /** The body parsed as JSON; a SyntaxError naming the status when it is not JSON. */
  json(): any;
}

/** One server-sent event as a `TestClient` reads it. */
export interface TestServerSentEvent {
  /** The data lines, joined with "\n". */
  readonly data: string;
  /** The event type ("message" unless named). */
  readonly event: string;
  /** The last `id:` seen, or null. */
  readonly id: string | null;
  /** This event's `retry:`, or null. */
  readonly retry: number | null;
  /** `data` parsed as JSON. */
  json(): any;
}

/** The events of an SSE answer: `for await (const event of stream)`. */
export interface TestEventStream extends AsyncIterable<TestServerSentEvent> {
  readonly status: number;
  readonly headers: { [name: string]: string | string[] | undefined };
  /** Stop reading and close the connection. */
  close(): void;
}

/** The options of `TestClient.websocket`. */
export interface TestWebSocketOptions {
  /** Query parameters of the handshake. */
  query?: TestRequestOptions['query'];
  /** Handshake headers (an `origin`, say). */
  headers?: { [name: string]: string };
  /** Cookies, sent in one `Cookie` header. */
  cookies?: { [name: string]: string | number };
  /** The subprotocols to offer, in order of preference. */
  subprotocols?: string[];
}

/** A WebSocket as a `TestClient` holds it; `await using` closes it (1000). */
export interface TestWebSocket {
  /** The subprotocol the server chose, or null. */
  readonly subprotocol: string | null;
  /** The 101 answer. */
  readonly response: {
    readonly status: number;
    readonly headers: { [name: string]: string | string[] | undefined };
  };
  /** The close code once the connection is over (1006 when it dropped), else null. */
  readonly closeCode: number | null;
  /** The close reason once the connection is over, else null. */
  readonly closeReason: string | null;
  /** Send a string as a text message, bytes as a binary one. */
  send(data: string | Uint8Array): Promise<void>;
  /** Send `value` as a JSON text message. */
  sendJson(value: unknown): Promise<void>;
  /**
   * The next message: a string for text, a Buffer for binary. Once the server
   * closed (and every earlier message was received) it rejects with a
   * `WebSocketDisconnect` carrying the close code and reason.
   */
  receive(): Promise<string | Buffer>;
  /** The next message parsed as JSON. */
  receiveJson(): Promise<any>;
  /** Close with `code` (default 1000) and `reason`; resolves once the connection is closed. */
  close(code?: number, reason?: string): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** How `TestClient.websocket` rejects when the server refuses the handshake. */
export interface TestWebSocketRefusal extends Error {
  /** The refusing answer (a 403 problem, a 422, a 426, ...). */
  readonly response: TestResponse;
}

/**
 * Tests an app over real HTTP: from the first request it serves the app on
 * 127.0.0.1 at a free port (unless it already listens) and sends requests over
 * keep-alive connections. `close()` (or `await using`) closes the connections
 * and the app if this client started it.
 */
export declare class TestClient {
  constructor(app: Spikard);
  /** The app under test. */
  readonly app: Spikard;
  /** The served app's base URL, starting it if needed. */
  url(): Promise<string>;
  /** Send a request with any method. */
  request(method: string, path: string, options?: TestRequestOptions): Promise<TestResponse>;
  get(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  post(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  put(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  patch(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  delete(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  head(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  options(path: string, options?: TestRequestOptions): Promise<TestResponse>;
  /** Open an SSE stream (its own connection); resolves once the answer's head has arrived. */
  sse(
    path: string,
    options?: { query?: TestRequestOptions['query']; headers?: { [name: string]: string } },
  ): Promise<TestEventStream>;
  /**
   * Open a WebSocket (its own connection); resolves once the server accepted
   * it. A refused handshake rejects with a `TestWebSocketRefusal`.
   */
  websocket(path: string, options?: TestWebSocketOptions): Promise<TestWebSocket>;
  /** Close the connections, then the app if this client started it. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Thrown by `listen()` when the core cannot open its listener on
 * `host`:`port` (the port is in use, the address is not this machine's, or
 * binding it needs privileges); `reason` is the system's words.
 */
export declare class ListenError extends Error {
  readonly host: string;
  readonly port: number;
  readonly reason: string;
}

// -- Lifecycle hooks (lib/hooks.js) and application errors --------------------

/** A hook on the request: returns the request (its `headers` object may be
 *  changed in onRequest and preValidation hooks) to go on, or a Response that
 *  answers at once. */
export type RequestHook = (req: Request) => Request | Response | Promise<Request | Response>;
/** A hook on the answer about to be sent: returns it, changed or not, or a replacement. */
export type ResponseHook = (res: Response) => Response | Promise<Response>;
/** A hook on an error answer (a handler's error, the core's own 4xx and 5xx). */
export type ErrorHook = (res: ErrorResponse) => Response | Promise<Response>;

/** The error answer onError hooks see: `content` is the body about to be
 *  sent (a Buffer; the core's problem document when it rendered it). */
export declare class ErrorResponse extends Response {
  /** The handler's error that caused it, or null (the core's own errors). */
  readonly exception: unknown;
  /** The content decoded as JSON. */
  json(): unknown;
}

export interface Response {
  /** The first value of header `name` (any case), or undefined. */
  getHeader(name: string): string | undefined;
  /** Set header `name`, replacing every value it had. */
  setHeader(name: string, value: string | number): this;
  /** Remove header `name`. */
  deleteHeader(name: string): this;
}

/** An application's HTTP error (Python's HTTPException): the core renders
 *  its problem document with this status, detail and headers. */
export declare class HttpException extends ProblemError {
  constructor(status: number, detail?: string, headers?: HeadersInit);
}

export interface Spikard {
  /** Run `hook(req)` as a request arrives, after routing and before
   *  validation (a changed header is what validation sees). Its request is
   *  the request as received: `params` is {} and `query`, `headers` and
   *  `cookies` hold what the client sent (as Python's). Several run in
   *  registration order; the core pauses requests only for phases with hooks. */
  onRequest(hook: RequestHook): this;
  /** As onRequest, after the onRequest hooks. */
  preValidation(hook: RequestHook): this;
  /** Run `hook(req)` after validation, right before the handler. */
  preHandler(hook: RequestHook): this;
  /** Run `hook(res)` on every answer before it is sent. */
  onResponse(hook: ResponseHook): this;
  /** Run `hook(res)` on every error answer before onResponse. */
  onError(hook: ErrorHook): this;
  /** Run `fn()` before the server listens. */
  onStartup(fn: () => unknown): this;
  /** Run `fn()` once the server has closed. */
  onShutdown(fn: () => unknown): this;
}

// -- Routers (lib/router.js) ---------------------------------------------------

/** The options of a `Router`. */
export interface RouterOptions {
  /** '' or a path starting with '/' and not ending with one. */
  prefix?: string;
  /** Tags of every route (for documentation). */
  tags?: string[];
}

/** A group of routes under a path prefix, included with `app.includeRouter`. */
export declare class Router {
  constructor(options?: RouterOptions);
  readonly prefix: string;
  readonly tags: string[];
  route(method: string, path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  route(method: string, path: string, handler: Handler): this;
  get(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  get(path: string, handler: Handler): this;
  post(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  post(path: string, handler: Handler): this;
  put(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  put(path: string, handler: Handler): this;
  patch(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  patch(path: string, handler: Handler): this;
  delete(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  delete(path: string, handler: Handler): this;
  head(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  head(path: string, handler: Handler): this;
  options(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  options(path: string, handler: Handler): this;
  trace(path: string, schemas: RouteSchemas | undefined, handler: Handler): this;
  trace(path: string, handler: Handler): this;
  /** Take another router's routes under `options.prefix + router.prefix`. */
  includeRouter(router: Router, options?: RouterOptions): this;
}

export interface Spikard {
  /** Register every route of `router` under `options.prefix + router.prefix`. */
  includeRouter(router: Router, options?: RouterOptions): this;
  /** "METHOD path" -> the tags of the routes routers brought. */
  readonly routeTags: Map<string, string[]>;
}

// -- Response helpers and cookies ---------------------------------------------

/** The options of `Response.setCookie`. */
export interface CookieOptions {
  /** Max-Age in seconds. */
  maxAge?: number;
  /** Expires: a Date or Unix seconds. */
  expires?: Date | number;
  /** Default '/'; null or '' for none. */
  path?: string | null;
  domain?: string;
  secure?: boolean;
  httpOnly?: boolean;
  /** Default 'lax'; null for none. 'none' needs `secure`. */
  sameSite?: 'strict' | 'lax' | 'none' | null;
  /** Needs `secure`. */
  partitioned?: boolean;
}

export interface Response {
  /** Set a cookie; the core writes the Set-Cookie header. */
  setCookie(name: string, value?: string, options?: CookieOptions): this;
  /** Tell the client to drop a cookie. */
  deleteCookie(name: string, options?: CookieOptions): this;
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace Response {
  /** An HTML answer (text/html; charset=utf-8). */
  function html(content: string, init?: ResponseInit): Response;
  /** A plain-text answer (text/plain; charset=utf-8). */
  function text(content: string, init?: ResponseInit): Response;
  /** A redirect (307 by default; 301, 302, 303 and 308 too), no body. */
  function redirect(url: string, status?: 301 | 302 | 303 | 307 | 308): Response;
}

// -- Dependency injection (lib/di.js) -----------------------------------------

/**
 * A dependency's key: a name, or a class (a constructor) whose instance the
 * dependency is. Node has no parameter annotations, so the class itself is
 * the token of injection by type (Python's annotation): `app.provide(Db, db)`,
 * `await req.dep(Db)` (typed `Promise<Db>`). A class key's value must be an
 * instance of it (`instanceof`): a provided value that is not is a
 * `type_mismatch` found at `listen()`, a factory's result that is not one at
 * the request.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DependencyKey = string | (abstract new (...args: any[]) => unknown);

/** The options of a `Provide`. */
export interface ProvideOptions {
  /** The keys the factory takes, as one object: a name as itself, a class by
   *  its `name` (`{ dependsOn: ['config', Db] }` gives `{ config, Db }`). */
  dependsOn?: DependencyKey[];
  /** Make it once for the app instead of once per request. */
  singleton?: boolean;
}

/** A factory dependency: a function (async or not) or a generator of either,
 *  whose code after `yield` is its cleanup, run after the answer is written.
 *  A value a non-generator factory makes for a request is disposed then too:
 *  its `[Symbol.asyncDispose]()`, else its `[Symbol.dispose]()` (singletons
 *  are the app's to close, in onShutdown). Cleanups run newest first. */
export declare class Provide {
  constructor(factory: (deps: { [name: string]: unknown }) => unknown, options?: ProvideOptions);
  readonly dependsOn: DependencyKey[];
  readonly singleton: boolean;
}

/** A dependency that cannot be resolved: answered with the core's
 *  dependency-error problem document. */
export declare class DependencyError extends ProblemError {
  readonly kind: 'missing_dependency' | 'circular_dependency' | 'type_mismatch';
  /** The key's name (a class's `name`). */
  readonly key: string;
  readonly cycle: string[] | null;
  /** The class a type_mismatch wanted, by name. */
  readonly expected: string | null;
}

/** The options of `new Spikard(config, options)`. */
export interface SpikardOptions {
  /** A dependency graph with a missing key, a cycle or a value of the wrong
   *  class makes listen() throw its DependencyError. */
  strictDependencies?: boolean;
}

/** For tests: what replaces dependencies in one route (a Map for class keys,
 *  or an object of names); app.overrideDependency applies too, beneath. */
export type DependencyOverrides = Map<DependencyKey, unknown> | { [name: string]: unknown };

export interface RouteSchemas {
  /** Dependencies replaced in this route only (tests). */
  dependencyOverrides?: DependencyOverrides;
}

export interface RawRouteOptions {
  /** Dependencies replaced in this route only (tests). */
  dependencyOverrides?: DependencyOverrides;
}

export interface Spikard {
  /** Make `value` (a value, or a `Provide`) the dependency `key`: a name, or
   *  a class whose instance the value is. */
  provide(key: DependencyKey, value: unknown): this;
  /** For tests: `value` resolves `key` instead of what was provided, in
   *  every route. */
  overrideDependency(key: DependencyKey, value: unknown): this;
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars
export interface Request<P, Q, H, C, B> {
  /** The dependency of class `key`, made once per request (or once, for a
   *  singleton). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  dep<T>(key: abstract new (...args: any[]) => T): Promise<T>;
  /** The dependency `name`, made once per request (or once, for a singleton). */
  dep<T = unknown>(name: string): Promise<T>;
}

export interface Spikard {
  /** Answer a handler's errors of `ErrorClass` (nearest class wins) with
   *  `handler(req, err)`, which returns the answer. */
  exceptionHandler<E>(
    ErrorClass: abstract new (...args: never[]) => E,
    handler: (req: Request, err: E) => HandlerResult | Promise<HandlerResult>,
  ): this;
}
