'use strict';
// The dispatch loop: one native App per listen, one Poller on lane 0.
//
// The poller is driven by libuv (a uv_poll_t on its fd) and calls onEvents
// with each batch on the JS thread. For each REQUEST the route's handler
// runs at once. Answers of handlers that return synchronously go back in one
// respond() call per batch; a handler that returns a promise (every async
// function) is answered when it settles, the answers settling in one
// microtask turn going back together. Every route opts into DISCONNECT: it
// aborts the request's AbortSignal and drops the answer.
//
// A handler that throws or rejects is answered SPIKARD_RESPONSE_HANDLER_ERROR
// (the core sends its standard 500) and its stack goes to console.error,
// never to the client; a ProblemError is answered SPIKARD_RESPONSE_PROBLEM
// with its description, and the core renders the document.
//
// With `accessLog`, the core's access lines come as LOG batches on lane 0
// too (at most 100 ms apart; the stop sends the last ones before the lane
// closes): each line goes to the logger's info() as it is.
//
// A WebSocket route's WS_OPEN comes shaped as a REQUEST, told apart by its
// route; it and the connection's later events go to lib/sockets.js, which
// exists only for apps with WebSocket routes.

const native = require('./native');
const { Request } = require('./request');
const { StreamingResponse } = require('./streaming');
const { Streams } = require('./streams');
const { Sockets } = require('./sockets');
const {
  ProblemError,
  Response,
  isFetchResponse,
  fromFetchResponse,
  render,
  renderProblem,
} = require('./response');
const { Hooks, PreAnswer } = require('./hooks');
const { cleanUp } = require('./di');

const C = native.constants;
const LANE = 0;
const EVENT_FIELDS = 6;
const DRAIN_GRACE_MS = 2000; // how long close() waits for the poller's last call after stop

const GONE = {
  [C.GONE_CLIENT]: 'the client closed the connection',
  [C.GONE_TIMEOUT]: 'request_timeout passed',
  [C.GONE_STOPPING]: 'the server is stopping',
  [C.GONE_STALLED]: 'the client stalled',
};

function abortReason(code) {
  const err = new Error(`request aborted: ${GONE[code] || `code ${code}`}`);
  err.name = 'AbortError';
  err.code = code;
  return err;
}

/** route with its preHandler hooks before the handler and onResponse hooks
 *  on its answer, inside the request's own visit (lib/hooks.js). */
function hookedRoute(route, hooks) {
  const pre = hooks.byPhase.pre_handler.length > 0;
  const post = hooks.byPhase.on_response.length > 0;
  if (route.socket !== null || (!pre && !post && !hooks.inRequest)) return route;
  const handler = route.handler;
  const final = ([status, headers, body]) =>
    new Response(body === '' ? undefined : body, { status, headers: headers || [] });
  const preChain = hooks.chain('pre_handler');
  // No async function: hooks and a handler that return no promise answer
  // without a microtask turn; each promise one returns costs one reaction.
  const answer = (value) => {
    if (!post || value instanceof StreamingResponse || value instanceof ProblemError) return value;
    if (isFetchResponse(value)) return fromFetchResponse(value).then(answer);
    const rendered = hooks.onResponseNow(render(value, C.RESPONSE_PROBLEM));
    return isThenable(rendered) ? rendered.then(final) : final(rendered);
  };
  const afterPre = (req, out) => {
    if (out instanceof Response) {
      if (!post) return out;
      const rendered = hooks.onResponseNow(render(out));
      return isThenable(rendered) ? rendered.then(final) : final(rendered);
    }
    const value = handler(req);
    return isThenable(value) ? Promise.resolve(value).then(answer) : answer(value);
  };
  const preHandler = (req) => {
    if (!pre) return afterPre(req, req);
    const out = hooks.runNow(preChain, req, true);
    return isThenable(out) ? out.then((o) => afterPre(req, o)) : afterPre(req, out);
  };
  const afterRequestHooks = (req, out) => {
    if (out === null) return preHandler(req);
    if (out instanceof PreAnswer) throw out; // the server answers it
    return afterPre(req, out); // a short circuit
  };
  // prePhases: the onRequest/preValidation phases this REQUEST brings
  // (config "hooks_in_request"), else undefined.
  const hooked = (req, prePhases) => {
    if (prePhases === undefined) return preHandler(req);
    const out = hooks.inRequestNow(req);
    return isThenable(out)
      ? out.then((o) => afterRequestHooks(req, o))
      : afterRequestHooks(req, out);
  };
  return { ...route, handler: hooked };
}

/** The handler registered for the nearest class of err (its prototype chain). */
function handlerFor(handlers, err) {
  for (
    let proto = Object.getPrototypeOf(err);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const handler = handlers.get(proto.constructor);
    if (handler !== undefined) return handler;
  }
  return undefined;
}

/** route whose errors of a registered class are answered by that class's
 *  handler, `handler(req, err)` (async or not) returning the answer. */
function handledRoute(route, handlers) {
  if (route.socket !== null) return route;
  const handler = route.handler;
  const handled = async (req) => {
    try {
      return await handler(req);
    } catch (err) {
      const answer =
        err !== null && typeof err === 'object' ? handlerFor(handlers, err) : undefined;
      if (answer === undefined) throw err;
      return answer(req, err);
    }
  };
  return { ...route, handler: handled };
}

function isThenable(value) {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof value.then === 'function'
  );
}

class Server {
  /**
   * @param routes compiled routes ({ doc, handler, fields, hasBody, method, path })
   * @param configJson the spikard_app_new document
   * @param shutdownMs how long close() lets in-flight requests finish
   * @param accessLogger where the access lines go ({ info(line) }), or null
   */
  constructor(
    routes,
    configJson,
    shutdownMs,
    accessLogger = null,
    hooks = new Hooks(),
    deps = null,
    handlers = null,
  ) {
    this.shutdownMs = shutdownMs;
    this._accessLogger = accessLogger;
    this._hooks = hooks;
    if (handlers !== null && handlers.size > 0) {
      routes = routes.map((route) => handledRoute(route, handlers));
    }
    // req.dep(name) finds the app's dependencies through its route (lib/di.js).
    // A route with dependencyOverrides brings its own view (app.listen).
    if (deps !== null && deps.size > 0) {
      routes = routes.map((route) => (route.deps === undefined ? { ...route, deps } : route));
    }
    if (hooks.phases().length > 0) {
      // The core pauses requests only for phases with hooks (lib/hooks.js).
      configJson = JSON.stringify({ ...JSON.parse(configJson), hooks: hooks.phases() });
      if (hooks.inRequest) {
        // A request that validates as received runs them in its REQUEST:
        // no pre visit, no extra crossing (hookedRoute).
        configJson = JSON.stringify({ ...JSON.parse(configJson), hooks_in_request: true });
      }
      routes = routes.map((route) => hookedRoute(route, hooks));
    }
    this.port = 0;
    this._pending = new Map(); // exchange -> Request of a handler not yet settled
    this._later = new Map(); // exchange -> background tasks, until its WRITTEN or DISCONNECT
    this._running = new Set(); // promises of background tasks running
    this._batch = [];
    this._flushQueued = false;
    this._stopped = false;
    this._closing = null;
    this._drainedResolve = null;
    this._drained = new Promise((resolve) => {
      this._drainedResolve = resolve;
    });
    this._app = new native.App(configJson);
    this._streams = new Streams(() => this._app);
    this._sockets = routes.some((route) => route.socket !== null)
      ? new Sockets(() => this._app)
      : null;
    try {
      this._table = [];
      for (const route of routes)
        this._table[this._app.addRoute(JSON.stringify(route.doc))] = route;
      // Routes with a body schema get their (JSON) body as a string: no Buffer.
      const textBodies = [];
      this._table.forEach((route, id) => {
        if (route.hasBody) textBodies.push(id);
      });
      this._poller = new native.Poller(
        this._app,
        LANE,
        (events) => this._onEvents(events),
        textBodies,
      );
    } catch (err) {
      this._app.close();
      throw err;
    }
  }

  start() {
    try {
      this._app.start();
    } catch (err) {
      this._poller.close();
      this._app.close();
      throw err;
    }
    this.port = this._app.port;
  }

  _onEvents(events) {
    if (events === null) {
      this._drainedResolve();
      return;
    }
    const out = [];
    const table = this._table;
    // A flat array, EVENT_FIELDS values per event (src/NATIVE.md).
    for (let i = 0; i < events.length; i += EVENT_FIELDS) {
      const exchange = events[i];
      const params = events[i + 2];
      if (params === null) {
        const kind = events[i + 3];
        if (kind === C.EVENT_LOG) {
          this._logAccess(events[i + 5]);
          continue;
        }
        if (kind === C.EVENT_HOOK) {
          this._visit(exchange, events[i + 1], events[i + 4], events[i + 5]);
          continue;
        }
        const req = kind === C.EVENT_DISCONNECT ? this._pending.get(exchange) : undefined;
        if (req !== undefined) {
          // Its handler is still running: abort its signal, drop its answer.
          this._pending.delete(exchange);
          req._abort(abortReason(events[i + 4]));
        } else if (
          this._sockets === null ||
          !this._sockets.event(exchange, kind, events[i + 4], events[i + 5])
        ) {
          this._ended(exchange, kind); // a stream's credit, or the end of an answered exchange
        }
        continue;
      }
      const route = table[events[i + 1]];
      if (route.socket !== null) {
        this._sockets.open(exchange, route, params, events[i + 4]); // a WebSocket's WS_OPEN
        continue;
      }
      let attachments = events[i + 5];
      let prePhases; // a number there: the pre phases this REQUEST brings (lib/hooks.js)
      if (typeof attachments === 'number') [prePhases, attachments] = [attachments, null];
      const req = new Request(route, params, events[i + 3], events[i + 4], attachments);
      let result;
      try {
        result = prePhases === undefined ? route.handler(req) : route.handler(req, prePhases);
      } catch (err) {
        out.push(this._failedRequest(exchange, route, req, err));
        continue;
      }
      if (isThenable(result) || isFetchResponse(result)) {
        this._pending.set(exchange, req);
        // One reaction per request: a fetch Response (rare) takes a second
        // turn to read its body.
        Promise.resolve(result).then(
          (value) => {
            if (isFetchResponse(value)) {
              fromFetchResponse(value).then(
                (res) => this._settled(exchange, req, this._answer(exchange, route, res, req)),
                (err) => this._settled(exchange, req, this._failed(exchange, route, err)),
              );
              return;
            }
            this._settled(exchange, req, this._answer(exchange, route, value, req));
          },
          (err) => this._settled(exchange, req, this._failedRequest(exchange, route, req, err)),
        );
        continue;
      }
      const answer = this._answer(exchange, route, result, req);
      if (answer !== null) out.push(answer);
    }
    if (out.length > 0) this._respond(out);
  }

  /** One info() call per line of the core's batch. */
  _logAccess(batch) {
    const logger = this._accessLogger;
    if (logger === null) return;
    let start = 0;
    for (let end = batch.indexOf('\n'); end !== -1; end = batch.indexOf('\n', start)) {
      try {
        logger.info(batch.slice(start, end));
      } catch (err) {
        console.error('spikard: the access logger failed:', err);
        return;
      }
      start = end + 1;
    }
  }

  /** The answer to `value`, or null when it opened a stream. */
  _answer(exchange, route, value, req) {
    let later = req._seal();
    const gens = req._cleanups();
    if (gens !== null) later = [...(later || []), () => cleanUp(gens)]; // after the answer
    if (value instanceof StreamingResponse) {
      if (later !== null) this._later.set(exchange, later); // a stream always ends with an event
      this._streams.start(exchange, `the handler for ${route.method} ${route.path}`, value);
      return null;
    }
    if (value === undefined && route.refusesNothing) {
      return this._failed(
        exchange,
        route,
        new TypeError(
          `the handler for ${route.method} ${route.path} returned undefined, but its response schema does not admit null`,
        ),
      );
    }
    let answer;
    try {
      answer = render(value, C.RESPONSE_PROBLEM);
    } catch (err) {
      return this._failed(exchange, route, err);
    }
    if (later === null) return [exchange, answer[0], answer[1], answer[2], answer[3]];
    // Its background tasks start on the WRITTEN (or DISCONNECT) event.
    this._later.set(exchange, later);
    return [exchange, answer[0], answer[1], answer[2], answer[3] | C.RESPONSE_WRITTEN];
  }

  /** A stream's credit, or the end (WRITTEN, DISCONNECT) of an answered exchange. */
  _ended(exchange, kind) {
    this._streams.event(exchange, kind);
    if (kind === C.EVENT_STREAM_CREDIT) return;
    const later = this._later.get(exchange);
    if (later === undefined) return;
    this._later.delete(exchange);
    this._runLater(later);
  }

  /** Run background tasks one after another; a failure is logged, the next runs. */
  _runLater(tasks) {
    const run = (async () => {
      for (const task of tasks) {
        try {
          await task();
        } catch (err) {
          console.error(`spikard: background task ${task.name || '(anonymous)'} failed:`, err);
        }
      }
    })();
    this._running.add(run);
    run.finally(() => this._running.delete(run));
  }

  /** Answer a lifecycle visit once its hooks have run. */
  _visit(exchange, routeId, code, data) {
    const route = this._table[routeId];
    const failed = (err) => {
      console.error('spikard: a lifecycle hook failed:', err);
      this._queue([exchange, 500, null, '', C.RESPONSE_HANDLER_ERROR]);
    };
    let answer;
    try {
      answer = this._hooks.visitNow(exchange, route, code, data);
    } catch (err) {
      failed(err);
      return;
    }
    // Hooks that returned no promise are answered now, without a microtask turn.
    if (isThenable(answer)) answer.then((a) => this._queue(a), failed);
    else this._queue(answer);
  }

  /** _failed for a request whose dependencies' cleanups run now. */
  _failedRequest(exchange, route, req, err) {
    const gens = req._cleanups();
    if (gens !== null) cleanUp(gens);
    return this._failed(exchange, route, err);
  }

  _failed(exchange, route, err) {
    if (err instanceof PreAnswer) return [exchange, ...err.rest]; // lib/hooks.js
    this._hooks.remember(exchange, err);
    if (err instanceof ProblemError) {
      try {
        const [status, headers, body, flags] = renderProblem(err, C.RESPONSE_PROBLEM);
        return [exchange, status, headers, body, flags];
      } catch (inner) {
        err = inner;
      }
    }
    console.error(`spikard: handler for ${route.method} ${route.path} failed:`, err);
    return [exchange, 500, null, '', C.RESPONSE_HANDLER_ERROR];
  }

  _settled(exchange, req, answer) {
    if (this._pending.get(exchange) !== req) return; // the exchange ended first: nobody reads it
    this._pending.delete(exchange);
    if (answer === null) return; // a stream, opened already
    this._queue(answer);
  }

  /** Send answer with the others settling in this microtask turn. */
  _queue(answer) {
    this._batch.push(answer);
    if (!this._flushQueued) {
      this._flushQueued = true;
      queueMicrotask(() => {
        this._flushQueued = false;
        const batch = this._batch;
        this._batch = [];
        this._respond(batch);
      });
    }
  }

  _respond(batch) {
    if (this._app === null) return;
    try {
      this._app.respond(batch); // false: some exchange was over; its answer is dropped
    } catch (err) {
      // INVALID/UNSUPPORTED: a bad status or header from the handler, or a
      // bug here; the client has been sent the standard 500.
      console.error('spikard: an answer was refused:', err);
    }
  }

  /** The native App while the server runs, else null. */
  nativeApp() {
    return this._stopped ? null : this._app;
  }

  /** Stop gracefully (in-flight requests may finish), then free the handles. Idempotent. */
  close() {
    if (this._closing === null) this._closing = this._close();
    return this._closing;
  }

  async _close() {
    try {
      await this._app.stop(this.shutdownMs);
    } finally {
      this._stopped = true;
      let timer;
      const late = new Promise((resolve) => {
        timer = setTimeout(resolve, DRAIN_GRACE_MS, 'late');
      });
      const how = await Promise.race([this._drained, late]);
      clearTimeout(timer);
      if (how === 'late')
        console.error('spikard: the poller did not report the lane closed; closing it anyway');
      for (const req of this._pending.values()) req._abort(abortReason(C.GONE_STOPPING));
      this._pending.clear();
      // WebSocket handlers have seen their close (1001): they get up to the
      // shutdown timeout to end (a handler's cleanup may take a while).
      if (this._sockets !== null) await this._sockets.wait(this.shutdownMs);
      // Exchanges the stop ended without their event still run what they
      // scheduled; running tasks get up to the shutdown timeout.
      for (const exchange of [...this._later.keys()]) this._ended(exchange, C.EVENT_DISCONNECT);
      if (this._running.size > 0) {
        let wait;
        const deadline = new Promise((resolve) => {
          wait = setTimeout(resolve, this.shutdownMs, 'late');
        });
        const done = Promise.all(this._running).then(() => 'done');
        if ((await Promise.race([done, deadline])) === 'late') {
          console.error(
            `spikard: ${this._running.size} background task(s) still running after the shutdown timeout`,
          );
        }
        clearTimeout(wait);
      }
      this._poller.close();
      const app = this._app;
      this._app = null;
      app.close();
    }
  }
}

module.exports = { Server };
