'use strict';
// Spikard: the application object, its route methods and how it listens.

const os = require('node:os');
const native = require('./native');
const { checkConfig, configJson } = require('./config');
const { corsDocument } = require('./cors');
const { GUARDS, guardDoc } = require('./guards');
const { compileRaw, compileSchemas, declaresFiles, upperMethod } = require('./schema');
const { Server } = require('./server');
const { Hooks } = require('./hooks');
const { checkPrefix } = require('./router');
const { Dependencies, routeOverrides } = require('./di');
const { EventStream } = require('./streaming');
const { compileSocket } = require('./sockets');
const { publishOn } = require('./websocket');
const workers = require('./workers');
const { reloadOptions } = require('./reload');
const { callerSite, describe, listenError, routeShape } = require('./culprit');

/** What every route asks of the core: the request object needs these facts,
 *  and any handler may be async, so each can be aborted (docs/bindings.md §2). */
const FACTS = ['meta', 'cookies', 'query', 'claims'];
const EVENTS = ['disconnect'];
const DEFAULT_SHUTDOWN_TIMEOUT = 5; // seconds, the core's default
const LOG_LANE = 0; // the access log's batches come on the lane the server polls

/** The default `logger`: each message a line on stderr, where the core's own
 *  lines go. */
const STDERR_LOGGER = {
  info(message) {
    process.stderr.write(`${message}\n`);
  },
};

/** ` (worker i, pid n)` in a worker process, else nothing. */
function whose() {
  const index = workers.workerIndex();
  return index === null ? '' : ` (worker ${index}, pid ${process.pid})`;
}

/** Keep a route; the same method and path twice is refused at registration,
 * naming both handlers and where they were registered (the core would
 * refuse it only at listen()). */
function addRoute(routes, route) {
  const shape = routeShape(route.path);
  for (const earlier of routes) {
    if (earlier.method === route.method && routeShape(earlier.path) === shape) {
      throw new Error(
        `${route.method} ${route.path} is registered twice: by ${describe(earlier)} and by ${describe(route)}`,
      );
    }
  }
  routes.push(route);
}

function routeOf(method, path, compiled, handler) {
  if (typeof handler !== 'function') {
    throw new TypeError(`${method} ${path}: the handler must be a function`);
  }
  const facts = declaresFiles(compiled.doc) ? [...FACTS, 'uploads'] : FACTS;
  const doc = { method, path, lane: 0, ...compiled.doc, events: EVENTS, facts };
  // The group every declared parameter belongs to, when they share one:
  // the core's validated values are then that group as they are.
  const groups = new Set(Object.values(compiled.fields));
  const onlyGroup = groups.size === 1 ? [...groups][0] : null;
  return {
    method,
    path,
    doc,
    handler,
    fields: compiled.fields,
    onlyGroup,
    hasBody: compiled.hasBody,
    // A declared response that null does not fit: returning nothing is a bug.
    refusesNothing: !admitsNull(compiled.doc.response_schema),
    socket: null, // a WebSocket route's SocketPlan (lib/sockets.js)
    site: callerSite(), // where the user registered it, for error messages
  };
}

/**
 * Whether a response schema admits null (or none is declared): a schema with
 * no "type" (and no "const"/"enum" leaving null out), a type list naming
 * "null", or an anyOf/oneOf branch that admits it.
 */
function admitsNull(schema) {
  if (schema === undefined || schema === null || schema === true) return true;
  if (typeof schema !== 'object') return false;
  for (const key of ['anyOf', 'oneOf']) {
    if (Array.isArray(schema[key]) && schema[key].some(admitsNull)) return true;
  }
  if ('const' in schema) return schema.const === null;
  if (Array.isArray(schema.enum)) return schema.enum.includes(null);
  if (schema.type === undefined) return !schema.anyOf && !schema.oneOf;
  return schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'));
}

/** A route's options without their `cors`, and the core's "cors" value of
 *  it (a document, false, or undefined for the app's policy). */
function takeCors(options, where) {
  if (options === null || typeof options !== 'object' || !('cors' in options)) {
    return [options, undefined];
  }
  const { cors, ...rest } = options;
  return [rest, cors === undefined ? undefined : corsDocument(cors, `${where} cors`, true)];
}

/** A route's options without `dependencyOverrides`, and those overrides as
 *  a Map (lib/di.js), or null. */
function takeOverrides(options, where) {
  if (options === null || typeof options !== 'object' || !('dependencyOverrides' in options)) {
    return [options, null];
  }
  const { dependencyOverrides, ...rest } = options;
  return [
    rest,
    dependencyOverrides === undefined ? null : routeOverrides(dependencyOverrides, where),
  ];
}

function withCors(route, cors) {
  if (cors !== undefined) route.doc.cors = cors;
  return route;
}

/** A route's `jwtAuth`, `apiKeyAuth` and `rateLimit` options (its own guard,
 *  or false for none) as route-document keys, apart from its schemas. */
function splitGuards(where, schemas) {
  if (schemas === undefined || schemas === null || typeof schemas !== 'object')
    return [schemas, {}];
  const rest = {};
  const guards = {};
  for (const [name, value] of Object.entries(schemas)) {
    if (Object.prototype.hasOwnProperty.call(GUARDS, name)) {
      if (value !== undefined) guards[GUARDS[name][0]] = guardDoc(where, name, value, true);
    } else {
      rest[name] = value;
    }
  }
  return [rest, guards];
}

let signalWatch = false;

/**
 * libuv installs signal handlers without SA_ONSTACK, which Go's threads need
 * (docs/bindings.md §10): once a Spikard app listens, every handler for a
 * signal (installed when process.on('SIGTERM', ...) adds the first listener)
 * gets it set right after it is installed, and so do those already there.
 */
function watchSignals() {
  if (signalWatch) return;
  signalWatch = true;
  const numbers = os.constants.signals;
  const onstack = (name) => {
    if (Object.prototype.hasOwnProperty.call(numbers, name)) native.signalOnstack(numbers[name]);
  };
  for (const name of Object.keys(numbers)) {
    if (process.listenerCount(name) > 0) onstack(name);
  }
  process.on('newListener', (event) => {
    if (typeof event === 'string' && event.startsWith('SIG')) queueMicrotask(() => onstack(event));
  });
}

class Spikard {
  /**
   * @param config ServerConfig: each field is checked now, by the core's rules.
   * @param options `{ strictDependencies }`: a dependency graph with a missing
   *   name or a cycle makes listen() throw (lib/di.js).
   */
  constructor(config, options = {}) {
    this.config = checkConfig(config);
    this._strictDependencies = Boolean((options || {}).strictDependencies);
    this.routes = [];
    this._server = null;
    this._host = undefined;
    this._signalHandlers = [];
    this._logger = null;
    this.hooks = new Hooks();
    this.routeTags = new Map(); // "METHOD path" -> tags of the routes routers brought
    this._deps = new Dependencies();
    this.exceptionHandlers = new Map(); // error class -> handler(req, err)
  }

  /** Answer a handler's errors of class `ErrorClass` (and its subclasses,
   *  the nearest registered class winning) with `handler(req, err)`, async
   *  or not, which returns the answer. Errors the core finds itself (its
   *  404, 422, ...) do not reach it: onError hooks see those. */
  exceptionHandler(ErrorClass, handler) {
    if (typeof ErrorClass !== 'function' || typeof handler !== 'function') {
      throw new TypeError('app.exceptionHandler(ErrorClass, handler): both must be functions');
    }
    this.exceptionHandlers.set(ErrorClass, handler);
    return this;
  }

  /** Make `value` (a value, or a `Provide` factory) the dependency `key`
   *  (a name, or a class whose instance it is), for `await req.dep(key)`
   *  (lib/di.js). */
  provide(key, value) {
    this._deps.provide(key, value);
    return this;
  }

  /** For tests: `value` resolves `key` instead of what was provided, in
   *  every route (a route's `dependencyOverrides` option: in that one). */
  overrideDependency(key, value) {
    this._deps.override(key, value);
    return this;
  }

  /** Register every route of `router` under `options.prefix + router.prefix`
   *  (lib/router.js); `options.tags` add to the router's. */
  includeRouter(router, options = {}) {
    const { prefix = '', tags = [] } = options || {};
    checkPrefix(prefix, 'app.includeRouter');
    for (const r of router.expanded()) {
      const path = prefix + r.path;
      this.route(r.method, path, r.schemas, r.handler);
      this.routeTags.set(`${r.method.toUpperCase()} ${path}`, [...tags, ...r.tags]);
    }
    return this;
  }

  // -- lifecycle hooks (lib/hooks.js) ------------------------------------------

  /** Run `hook(req)` as a request arrives, after routing and before
   *  validation: it returns `req` (its headers may be changed) to go on, or a
   *  Response that answers at once. Several run in registration order. */
  onRequest(hook) {
    this.hooks.add('on_request', hook, 'onRequest');
    return this;
  }

  /** As onRequest, after the onRequest hooks. */
  preValidation(hook) {
    this.hooks.add('pre_validation', hook, 'preValidation');
    return this;
  }

  /** Run `hook(req)` after validation, right before the handler: `req` to go
   *  on, or a Response that answers instead. */
  preHandler(hook) {
    this.hooks.add('pre_handler', hook, 'preHandler');
    return this;
  }

  /** Run `hook(res)` on every answer before it is sent; it returns the
   *  Response, changed or not. */
  onResponse(hook) {
    this.hooks.add('on_response', hook, 'onResponse');
    return this;
  }

  /** Run `hook(res)` on every error answer (a handler's error, the core's own
   *  4xx and 5xx) before onResponse; `res` is an ErrorResponse with the error,
   *  if any, on `res.exception`. It returns it or a replacement. */
  onError(hook) {
    this.hooks.add('on_error', hook, 'onError');
    return this;
  }

  /** Run `fn()` (async or not) before the server listens. */
  onStartup(fn) {
    if (typeof fn !== 'function') throw new TypeError('app.onStartup(fn): fn must be a function');
    this.hooks.startup.push(fn);
    return this;
  }

  /** Run `fn()` once the server has closed. */
  onShutdown(fn) {
    if (typeof fn !== 'function') throw new TypeError('app.onShutdown(fn): fn must be a function');
    this.hooks.shutdown.push(fn);
    return this;
  }

  /**
   * Register `handler` for `method` and `path`. `schemas` (optional) is
   * `{ params, query, headers, cookies, body, response }`, each a JSON Schema
   * object or a Zod 4 schema.
   */
  route(method, path, schemas, handler) {
    if (handler === undefined && typeof schemas === 'function') {
      handler = schemas;
      schemas = undefined;
    }
    const upper = upperMethod(method);
    const [own, overrides] = takeOverrides(schemas, `${upper} ${path}`);
    const [rest, cors] = takeCors(own, `${upper} ${path}`);
    const [others, guards] = splitGuards(`${upper} ${path}`, rest);
    const route = withCors(
      routeOf(upper, path, compileSchemas(upper, path, others), handler),
      cors,
    );
    Object.assign(route.doc, guards);
    if (overrides !== null) route.depOverrides = overrides;
    this._add(route);
    return this;
  }

  get(path, schemas, handler) {
    return this.route('GET', path, schemas, handler);
  }

  post(path, schemas, handler) {
    return this.route('POST', path, schemas, handler);
  }

  put(path, schemas, handler) {
    return this.route('PUT', path, schemas, handler);
  }

  patch(path, schemas, handler) {
    return this.route('PATCH', path, schemas, handler);
  }

  delete(path, schemas, handler) {
    return this.route('DELETE', path, schemas, handler);
  }

  head(path, schemas, handler) {
    return this.route('HEAD', path, schemas, handler);
  }

  options(path, schemas, handler) {
    return this.route('OPTIONS', path, schemas, handler);
  }

  trace(path, schemas, handler) {
    return this.route('TRACE', path, schemas, handler);
  }

  /**
   * Serve server-sent events on `GET path`: `handler(req)` is a generator
   * function (async or not) whose yields are the events: an `SseEvent`, or
   * any other value as an event's data (a string as is, anything else as
   * JSON). The core frames them, sets `text/event-stream` and sends
   * keep-alive comments; when the client leaves, the generator is closed.
   */
  sse(path, schemas, handler) {
    if (handler === undefined && typeof schemas === 'function') {
      handler = schemas;
      schemas = undefined;
    }
    if (typeof handler !== 'function') {
      throw new TypeError(`sse ${path}: the handler must be a generator function`);
    }
    const open = (req) => new EventStream(handler(req));
    return this.route('GET', path, schemas, open);
  }

  /**
   * Serve a WebSocket endpoint on `GET path`. By default `handler(message,
   * ws)` runs once per message: the message arrives decoded by
   * `options.message` (JSON by default; "text", "binary", or a Zod schema
   * that checks the JSON), and what it returns is sent back (undefined and
   * null send nothing; a string as text, bytes as binary, anything else as
   * JSON). With `options.connection` the handler is `handler(ws)`, run once
   * per connection: it accepts, receives and sends itself (see WebSocket).
   * `options.subprotocols` are the subprotocols the endpoint speaks, in
   * order of preference; `params`, `query`, `headers` and `cookies` are
   * schemas of the handshake's parameters, as a route's, checked before the
   * handshake is answered (422).
   */
  websocket(path, handler, options) {
    const [rest, cors] = takeCors(options, `websocket ${path}`);
    const { schemas, websocket, plan } = compileSocket(path, handler, rest);
    const route = withCors(
      routeOf('GET', path, compileSchemas('GET', path, schemas), handler),
      cors,
    );
    route.doc.websocket = websocket;
    route.socket = plan;
    this._add(route);
    return this;
  }

  /**
   * Send `message` to every WebSocket subscribed to `channel`: a string as
   * text, bytes as binary, anything else as JSON; through Redis to every
   * worker when the config's `broadcast` names one. Any time the app
   * listens; throws when it does not, and (code "EAGAIN") when the queue for
   * Redis is full.
   */
  broadcast(channel, message) {
    const server = this._server;
    const app = server === null ? null : server.nativeApp();
    if (app === null) throw new Error('Spikard.broadcast: the app is not listening');
    if (!publishOn(app, channel, message, 'Spikard.broadcast')) {
      const err = new Error('Spikard.broadcast: the queue for Redis is full; retry later');
      err.code = 'EAGAIN';
      throw err;
    }
  }

  /**
   * Low-level registration with raw JSON Schemas, as Python's
   * `register_route`: `parameterSchema` properties carry their "source"
   * ("path", "query", "header", "cookie").
   */
  _add(route) {
    addRoute(this.routes, route);
  }

  registerRoute(method, path, options, handler) {
    const upper = upperMethod(method);
    const [own, overrides] = takeOverrides(options, `${upper} ${path}`);
    const [rest, cors] = takeCors(own, `${upper} ${path}`);
    const route = withCors(routeOf(upper, path, compileRaw(upper, path, rest), handler), cors);
    if (overrides !== null) route.depOverrides = overrides;
    this._add(route);
    return this;
  }

  /**
   * Start serving. `host` and `port` override the config's; `signals: true`
   * closes the app gracefully on SIGINT and SIGTERM. Resolves once the
   * socket accepts connections.
   *
   * With `workers` > 1 this process becomes the supervisor (lib/workers.js):
   * it runs this program again once per worker, passes SIGINT and SIGTERM on,
   * and exits with the supervisor's status; the promise never resolves. A
   * worker's listen() serves on the supervisor's address, and on SIGINT or
   * SIGTERM closes gracefully and exits.
   *
   * `reload` (development): this process becomes the supervisor even with
   * one worker, and the core restarts the workers whenever a watched file
   * changes (lib/reload.js says what is watched); a worker that fails to
   * load leaves the supervisor waiting for the next change.
   */
  async listen(options = {}) {
    if (this._server !== null) throw new Error('this app is already listening; close() it first');
    const { host, port, signals = false, reload } = options || {};
    const watch = reload === undefined || reload === false ? null : reloadOptions(reload);
    // SCHED_BATCH unless told otherwise, as Python's run(): the core's
    // threads and this one then hand batches over without preempting each
    // other at every hand-off (+16% path-simple req/s on one core).
    const config = { schedBatch: true, ...this.config, ...checkConfig({ host, port }) };
    const shutdown =
      config.shutdownTimeout === undefined ? DEFAULT_SHUTDOWN_TIMEOUT : config.shutdownTimeout;
    const inWorker = workers.workerIndex() !== null;
    if (!inWorker && (watch !== null || (config.workers !== undefined && config.workers > 1))) {
      // This process only supervises: it never serves, and exits at the end.
      return workers.supervise({
        workers: config.workers === undefined ? 1 : config.workers,
        host: config.host,
        port: config.port,
        shutdown_timeout: config.shutdownTimeout,
        quiet: config.quiet,
        ...(watch === null ? {} : { reload: watch }),
      });
    }
    const found = this._deps.check().map(([name, err]) => [`dependency '${name}'`, err]);
    // A route with dependencyOverrides resolves through a view of its own.
    const routes = this.routes.map((route) => {
      if (route.depOverrides === undefined) return route;
      const deps = this._deps.view(route.depOverrides);
      for (const [name, err] of deps.check()) {
        found.push([`${route.method} ${route.path}: dependency '${name}'`, err]);
      }
      return { ...route, deps };
    });
    for (const [where, err] of found) {
      // Strict: refuse to start; else the requests that need it get the
      // core's dependency-error problem.
      if (this._strictDependencies) throw err;
      console.error(`spikard: ${where}: ${err.message}`);
    }
    for (const fn of this.hooks.startup) await fn();
    const logger = config.logger === undefined ? STDERR_LOGGER : config.logger || null;
    const server = new Server(
      routes,
      configJson(config, LOG_LANE),
      Math.round(shutdown * 1000),
      config.accessLog ? logger : null,
      this.hooks,
      this._deps,
      this.exceptionHandlers,
    );
    try {
      server.start();
    } catch (err) {
      if (err.code !== native.constants.E_IO) throw err;
      const where = {
        host: '127.0.0.1',
        port: 8000,
        ...this.config,
        ...checkConfig({ host, port }),
      };
      throw listenError(where.host, where.port, err.message);
    }
    this._server = server;
    this._host = config.host === undefined ? '127.0.0.1' : config.host;
    this._logger = config.quiet ? null : logger;
    this._say(`Spikard listening on ${this.url}${whose()}`);
    watchSignals();
    if (signals || inWorker) {
      // A worker is stopped by its supervisor's SIGINT/SIGTERM: it drains
      // like a `signals: true` app, then exits (with process.exitCode).
      for (const sig of workers.STOPS) {
        const handler = () => {
          const closed = this.close().catch((err) => {
            console.error('spikard: close failed:', err);
            if (inWorker) process.exitCode = 1;
          });
          if (inWorker) closed.then(() => process.exit());
        };
        process.on(sig, handler);
        this._signalHandlers.push([sig, handler]);
      }
    }
    return { port: server.port, url: this.url };
  }

  /** The port the app listens on (after listen), else undefined. */
  get port() {
    return this._server === null ? undefined : this._server.port;
  }

  /** `http://host:port` of the listening app, else undefined. */
  get url() {
    if (this._server === null) return undefined;
    let host = this._host;
    if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
    else if (host.includes(':')) host = `[${host}]`;
    return `http://${host}:${this._server.port}`;
  }

  /**
   * Stop gracefully: stop accepting, let in-flight requests finish for up to
   * `shutdownTimeout` seconds (the core answers 503 to the rest), then free
   * everything. Resolves when done; a no-op when not listening.
   */
  async close() {
    const server = this._server;
    if (server === null) return;
    const url = this.url;
    for (const [sig, handler] of this._signalHandlers) process.removeListener(sig, handler);
    this._signalHandlers = [];
    try {
      await server.close();
      this._say(`Spikard stopped (${url})${whose()}`);
    } finally {
      if (this._server === server) {
        this._server = null;
        this._host = undefined;
      }
      for (const fn of this.hooks.shutdown) {
        try {
          await fn();
        } catch (err) {
          console.error(`spikard: shutdown hook ${fn.name || '(anonymous)'} failed:`, err);
        }
      }
    }
  }

  /** A line of the app's own (listening, stopped) to the logger, unless quiet. */
  _say(message) {
    if (this._logger === null) return;
    try {
      this._logger.info(message);
    } catch (err) {
      console.error('spikard: the logger failed:', err);
    }
  }
}

module.exports = { Spikard };
