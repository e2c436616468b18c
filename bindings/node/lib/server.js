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

const native = require('./native');
const { Request } = require('./request');
const {
  ProblemError,
  isFetchResponse,
  fromFetchResponse,
  render,
  renderProblem,
} = require('./response');

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
   */
  constructor(routes, configJson, shutdownMs) {
    this.shutdownMs = shutdownMs;
    this.port = 0;
    this._pending = new Map(); // exchange -> Request of a handler not yet settled
    this._batch = [];
    this._flushQueued = false;
    this._stopped = false;
    this._closing = null;
    this._drainedResolve = null;
    this._drained = new Promise((resolve) => {
      this._drainedResolve = resolve;
    });
    this._app = new native.App(configJson);
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
        if (events[i + 3] === C.EVENT_DISCONNECT) {
          const req = this._pending.get(exchange);
          if (req !== undefined) {
            this._pending.delete(exchange);
            req._abort(abortReason(events[i + 4]));
          }
        }
        continue;
      }
      const route = table[events[i + 1]];
      const req = new Request(route, params, events[i + 3], events[i + 4], events[i + 5]);
      let result;
      try {
        result = route.handler(req);
      } catch (err) {
        out.push(this._failed(exchange, route, err));
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
                (res) => this._settled(exchange, req, this._answer(exchange, route, res)),
                (err) => this._settled(exchange, req, this._failed(exchange, route, err)),
              );
              return;
            }
            this._settled(exchange, req, this._answer(exchange, route, value));
          },
          (err) => this._settled(exchange, req, this._failed(exchange, route, err)),
        );
        continue;
      }
      out.push(this._answer(exchange, route, result));
    }
    if (out.length > 0) this._respond(out);
  }

  _answer(exchange, route, value) {
    let answer;
    try {
      answer = render(value, C.RESPONSE_PROBLEM);
    } catch (err) {
      return this._failed(exchange, route, err);
    }
    return [exchange, answer[0], answer[1], answer[2], answer[3]];
  }

  _failed(exchange, route, err) {
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
      this._poller.close();
      const app = this._app;
      this._app = null;
      app.close();
    }
  }
}

module.exports = { Server };
