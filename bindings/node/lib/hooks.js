'use strict';
// Lifecycle hooks: user functions the core pauses a request for (spikard.h,
// Section - Lifecycle hooks). The same five phases as Python's, each a list
// of functions (async or not) run in registration order:
//
//   onRequest, preValidation (req) -> req | Response: after routing and
//     before validation (in the core's pre visit, or riding on the REQUEST
//     with config "hooks_in_request": the same request either way, as
//     received, `params` {}); `req.headers` may be changed (set or delete
//     a key) and validation sees the change; a Response answers at once.
//   preHandler (req) -> req | Response: right before the handler, with the
//     validated request, inside the request's own visit.
//   onResponse (res) -> Response: every answer before it is sent (the
//     handler's, a short circuit's, the core's own error documents).
//   onError (res) -> Response: every error answer before onResponse: a
//     handler's exception (its 500, or a ProblemError's document, with the
//     error on `res.exception`) and the core's own 4xx and 5xx.
//
// Anything else returned (undefined included) is an error naming the hook:
// the request is answered 500 and console.error names it.

const native = require('./native');
const { Request } = require('./request');
const { Response, render } = require('./response');

const C = native.constants;
const PHASES = ['on_request', 'pre_validation', 'pre_handler', 'on_response', 'on_error'];
const PRE = C.HOOK_ON_REQUEST | C.HOOK_PRE_VALIDATION;

/** The route a hook's request belongs to when none matched (SPIKARD_NO_ROUTE). */
const NO_ROUTE = { method: '', path: '', fields: {}, onlyGroup: null, hasBody: false };

/** The error answer onError hooks see: content is the body about to be sent
 *  (a Buffer: the core's problem document when it rendered it), `exception`
 *  the handler's error that caused it, or null. */
class ErrorResponse extends Response {
  constructor(content, init, exception) {
    super(content, init);
    this.exception = exception === undefined ? null : exception;
  }

  /** The content decoded as JSON. */
  json() {
    return this.content === null || this.content === undefined
      ? null
      : JSON.parse(String(this.content));
  }
}

/** The request onRequest/preValidation hooks see, in a pre visit or riding
 *  on a REQUEST alike: as received, before validation, so `params` is {}
 *  and `query`, `headers` and `cookies` hold what the client sent (as
 *  Python's Request for these phases). */
function preRequest(route, body, facts) {
  return new Request(route ? asReceived(route) : NO_ROUTE, '{}', body, facts, null);
}

/** route with no declared fields: a request of it reads every query key,
 *  header and cookie as sent (lib/request.js), none as validated. */
const AS_RECEIVED = new WeakMap();
function asReceived(route) {
  let view = AS_RECEIVED.get(route);
  if (view === undefined) {
    view = { ...route, fields: {}, onlyGroup: null };
    AS_RECEIVED.set(route, view);
  }
  return view;
}

function nameOf(fn) {
  return fn.name || '(anonymous)';
}

/** Lower-case name -> value of header pairs (the last of a name wins). */
function headerMap(pairs) {
  const out = new Map();
  for (const [name, value] of pairs) out.set(String(name).toLowerCase(), String(value));
  return out;
}

/** [name, value] changes from `before` to `after` ("" removes), or null. */
function changes(before, after) {
  const out = [];
  for (const [name, value] of after) if (before.get(name) !== value) out.push([name, value]);
  for (const name of before.keys()) if (!after.has(name)) out.push([name, '']);
  return out.length > 0 ? out : null;
}

function sameBody(a, b) {
  if (a === b) return true;
  const bytes = (v) => typeof v === 'string' || v instanceof Uint8Array;
  if (!bytes(a) || !bytes(b)) return false;
  return Buffer.from(a).equals(Buffer.from(b));
}

function isThenable(value) {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof value.then === 'function'
  );
}

/** A hook's result checked: what its phase continues with, else a TypeError naming it. */
function checked(phase, hook, out, request) {
  if (!(out instanceof Response) && !(request && out instanceof Request)) {
    const want = request ? 'the request to go on, or a Response' : 'a Response';
    throw new TypeError(
      `${phase} hook ${nameOf(hook)} returned ${out === undefined ? 'undefined' : typeof out}; it must return ${want}`,
    );
  }
  return out;
}

/** Whether two lists of header pairs are equal, pair by pair. */
function samePairs(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false;
  }
  return true;
}

/** What a REQUEST's pre phases answer instead of the handler's answer
 *  (config "hooks_in_request", spikard.h): CONTINUE with the headers its
 *  hooks changed, or a failed hook's 500. Thrown out of a hooked route's
 *  handler; the server sends [exchange, ...rest]. */
class PreAnswer {
  constructor(rest) {
    this.rest = rest;
  }
}

class Hooks {
  constructor() {
    this.byPhase = Object.fromEntries(PHASES.map((p) => [p, []]));
    this.startup = [];
    this.shutdown = [];
    this.errors = new Map(); // exchange -> the handler's error, for ErrorResponse.exception
  }

  add(phase, fn, method) {
    if (typeof fn !== 'function') {
      throw new TypeError(`app.${method}(hook): the hook must be a function`);
    }
    this.byPhase[phase].push(fn);
  }

  /** The phases with hooks, for the core's "hooks" list. */
  phases() {
    return PHASES.filter((p) => this.byPhase[p].length > 0);
  }

  /** Whether onRequest/preValidation hooks exist (config "hooks_in_request"). */
  get inRequest() {
    return this.byPhase.on_request.length > 0 || this.byPhase.pre_validation.length > 0;
  }

  /** Whether error answers make an error visit. */
  get post() {
    return this.byPhase.on_error.length > 0 || this.byPhase.on_response.length > 0;
  }

  remember(exchange, err) {
    if (this.post) this.errors.set(exchange, err);
  }

  /** Run the hooks of `phases` on `value`, each on the last one's result;
   *  with `request`, a Response ends the chain. */
  async run(phases, value, request) {
    for (const phase of phases) {
      for (const hook of this.byPhase[phase]) {
        const out = await hook(value);
        if (!(out instanceof Response) && !(request && out instanceof Request)) {
          const want = request ? 'the request to go on, or a Response' : 'a Response';
          throw new TypeError(
            `${phase} hook ${nameOf(hook)} returned ${out === undefined ? 'undefined' : typeof out}; it must return ${want}`,
          );
        }
        value = out;
        if (request && value instanceof Response) return value;
      }
    }
    return value;
  }

  /** The (phase, hook) pairs of `phases` in the order they run. */
  chain(...phases) {
    return phases.flatMap((phase) => this.byPhase[phase].map((hook) => [phase, hook]));
  }

  /** run over a chain without a turn of the microtask queue while no hook
   *  returns a promise: the result, or a promise of it once one does. A
   *  hook returning what it was given is checked by identity alone. */
  runNow(chain, value, request, from = 0) {
    for (let i = from; i < chain.length; i++) {
      const [phase, hook] = chain[i];
      const out = hook(value);
      if (out === value) continue;
      if (isThenable(out)) {
        return Promise.resolve(out).then((v) => {
          const next = v === value ? v : checked(phase, hook, v, request);
          if (request && next instanceof Response) return next;
          return this.runNow(chain, next, request, i + 1);
        });
      }
      value = checked(phase, hook, out, request);
      if (request && value instanceof Response) return value;
    }
    return value;
  }

  /** [status, headers, body, flags] of an answer through the onResponse
   *  hooks: the rendered answer itself when they hand back the Response
   *  they were given unchanged (no re-render); a promise of it once a hook
   *  returns one. */
  onResponseNow(rendered) {
    const chain = this._postChain || (this._postChain = this.chain('on_response'));
    if (chain.length === 0) return rendered;
    const [status, headers, body] = rendered;
    const given = new Response(body === '' ? undefined : body, { status, headers: headers || [] });
    const before = given.headers.slice();
    const content = given.content;
    const after = (res) =>
      res === given &&
      typeof body === 'string' && // a Buffer's bytes may have changed in place
      res.status === status &&
      res.content === content &&
      samePairs(res.headers, before) &&
      res.constructor === Response
        ? rendered
        : render(res);
    const out = this.runNow(chain, given, false);
    return isThenable(out) ? out.then(after) : after(out);
  }

  /** [status, headers, body, flags] of an answer through the onResponse hooks. */
  async onResponse(rendered) {
    return this.onResponseNow(rendered);
  }

  /** visit without a turn of the microtask queue while no hook returns a
   *  promise: a pre visit's answer, or a promise of it; an error visit's
   *  promise. */
  visitNow(exchange, route, code, data) {
    if (!(code & PRE)) return this.visit(exchange, route, code, data);
    const [, body, facts] = data;
    const req = preRequest(route, body, facts);
    const before = new Map(Object.entries(req.headers));
    const chain = this._preChain || (this._preChain = this.chain('on_request', 'pre_validation'));
    const go = (out) => {
      if (out instanceof Response) {
        const rendered = this.onResponseNow(render(out));
        return isThenable(rendered)
          ? rendered.then((r) => [exchange, ...r])
          : [exchange, ...rendered];
      }
      const after = new Map(
        Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), String(v)]),
      );
      return [exchange, 0, changes(before, after), '', C.RESPONSE_CONTINUE];
    };
    const out = this.runNow(chain, req, true);
    return isThenable(out) ? out.then(go) : go(out);
  }

  /** The onRequest/preValidation hooks of a REQUEST that brings its pre
   *  phases (config "hooks_in_request"), on its own request: null to go on
   *  to the handler, a Response (a short circuit), or a PreAnswer (they
   *  changed headers: CONTINUE; or one failed); a promise of it once a hook
   *  returns one. Answers as a pre visit (visitNow) would, and the hooks
   *  see the same request a pre visit gives them (preRequest), not the
   *  handler's validated one. */
  inRequestNow(handlerReq) {
    const req = preRequest(handlerReq._route, handlerReq._rawBody, handlerReq._factsText);
    const before = new Map(Object.entries(req.headers));
    const chain = this._preChain || (this._preChain = this.chain('on_request', 'pre_validation'));
    const go = (out) => {
      if (out instanceof Response) return out;
      const after = new Map(
        Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), String(v)]),
      );
      const edits = changes(before, after);
      if (edits === null && out === req) {
        // The handler's request reads the facts its hooks parsed already.
        if (handlerReq._facts === null) handlerReq._facts = req._facts;
        return null;
      }
      return new PreAnswer([0, edits, '', C.RESPONSE_CONTINUE]);
    };
    const failed = (err) => {
      console.error('spikard: a lifecycle hook failed:', err);
      return new PreAnswer([500, null, '', C.RESPONSE_HANDLER_ERROR]);
    };
    let out;
    try {
      out = this.runNow(chain, req, true);
    } catch (err) {
      return failed(err);
    }
    return isThenable(out) ? out.then(go, failed) : go(out);
  }

  /** The answer to a HOOK visit: [exchange, status, headers, body, flags]. */
  async visit(exchange, route, code, data) {
    if (code & PRE) return this.visitNow(exchange, route, code, data);
    const [params, body] = data;
    const doc = params ? JSON.parse(params) : {};
    const status = doc.status || 500;
    const before = headerMap(doc.headers || []);
    const exception = this.errors.get(exchange);
    this.errors.delete(exchange);
    let res = new ErrorResponse(body, { status, headers: doc.headers || [] }, exception);
    res = await this.run(['on_error'], res, false);
    res = await this.run(['on_response'], res, false);
    if (res.status === status && sameBody(res.content, body)) {
      // Only headers may have changed: core sends its own bytes.
      return [exchange, 0, changes(before, headerMap(res.headers)), '', C.RESPONSE_CONTINUE];
    }
    return [exchange, ...render(res)];
  }
}

module.exports = { ErrorResponse, Hooks, PHASES, PreAnswer, isThenable };
