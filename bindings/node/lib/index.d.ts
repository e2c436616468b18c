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
  /** Seconds a request may wait for its answer before a 504; 0 means no limit. Default 30. */
  requestTimeout?: number;
  /** Seconds to wait for the next bytes of a request or an idle keep-alive connection; 0 means no limit. Default 30. */
  readTimeout?: number;
  /** Seconds `close()` lets in-flight requests finish. Default 5. */
  shutdownTimeout?: number;
  /** One line per request on stderr. Default false. */
  accessLog?: boolean;
  /** Suppress the core's single "listening on" line. Default false. */
  quiet?: boolean;
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
   * Processes serving the app, an integer in 1..1024. Default 1. Above 1,
   * `listen()` makes this process libspikard's supervisor: it runs this
   * program again once per worker (every worker binds the same address with
   * SO_REUSEPORT), passes SIGINT and SIGTERM on, and exits with the
   * supervisor's status; its promise never resolves. In a worker `listen()`
   * serves, and closes gracefully and exits on SIGINT or SIGTERM.
   */
  workers?: number;
}

/** The schemas of a route method: each optional. */
export interface RouteSchemas {
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
  /** The answer's schema (documentation only). */
  response?: Schema;
}

/** The options of `registerRoute`: raw JSON Schemas, as Python's `register_route`. */
export interface RawRouteOptions {
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
  /** With a body schema, the validated body decoded from JSON (forms too); else the raw bytes, or null. */
  readonly body: B;
  /** Aborted when the exchange ends without the answer: the client left, `requestTimeout`, or `close()`. */
  readonly signal: AbortSignal;
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

/** The options of `listen`. */
export interface ListenOptions {
  /** Overrides the config's host. */
  host?: string;
  /** Overrides the config's port (0: a free one). */
  port?: number;
  /** Close gracefully on SIGINT and SIGTERM. Default false. */
  signals?: boolean;
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
  constructor(config?: ServerConfig);
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
  /** Close the connections, then the app if this client started it. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
