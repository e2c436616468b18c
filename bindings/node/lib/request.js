'use strict';
// Request: what a handler receives. Built from one REQUEST event of the
// poller (src/NATIVE.md): params, body, facts and attachments. Every field is decoded on first access, so a handler pays only for
// what it reads.
//
// `params`, `query`, `headers` and `cookies` hold the values the core
// validated and coerced (the event's params, split by the group each
// parameter was declared in). `query`, `headers` and `cookies` also hold the
// undeclared rest of the request: the core's query pairs (a repeated key is
// an array), the headers (lower-case names, repeats joined with ", ") and the
// core's cookie pairs (the first of a repeated name wins); a declared value
// replaces the raw one of its name.

const { bindUploads } = require('./upload');

/** Index of each part of the facts text (src/NATIVE.md). */
const METHOD = 0;
const PATH = 1;
const RAW_QUERY = 2;
const HEADERS = 3;
const COOKIES = 4;
const QUERY_PAIRS = 5;
const UPLOADS = 6;
/** The header pair the core carries fact "claims" in (include/spikard.h). */
const CLAIMS = ':claims';
const NO_FACTS = ['', '', '', [], [], [], []];

const hasOwn = (obj, name) => Object.prototype.hasOwnProperty.call(obj, name);

/** obj[name] = value as an own data property, even for "__proto__" (a name a client chose). */
function put(obj, name, value) {
  if (name === '__proto__') {
    Object.defineProperty(obj, name, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    obj[name] = value;
  }
}

class Request {
  /**
   * @param route the compiled route
   * @param params the core's validated parameters, JSON text
   * @param body JSON text (routes with a body schema), a Buffer, or null
   * @param facts method, path, query, headers, cookies, query pairs and
   *   upload pointers as JSON text, or null
   * @param attachments the multipart bytes uploads point into, or null
   */
  constructor(route, params, body, facts, attachments) {
    this._route = route;
    this._params = params;
    this._rawBody = body;
    this._factsText = facts;
    this._attachments = attachments;
    this._facts = null;
    this._split = null;
    this._query = undefined;
    this._headers = undefined;
    this._cookies = undefined;
    this._claims = undefined;
    this._body = undefined;
    this._controller = null;
    this._abortReason = undefined;
    this._later = null; // background tasks
    this._sealed = false;
  }

  /**
   * Run `task` (a function, async or not) after the answer has been sent,
   * or once the exchange ends if the client leaves first. Tasks run one
   * after another, in the order given; a failure goes to console.error. A
   * handler that throws, or whose client leaves before it answers, runs
   * none of its tasks.
   */
  background(task) {
    if (typeof task !== 'function') {
      throw new TypeError(
        'req.background(task): task must be a function, run after the answer is sent',
      );
    }
    if (this._sealed) {
      throw new Error('req.background(): the answer has been sent already');
    }
    if (this._later === null) this._later = [];
    this._later.push(task);
  }

  /** The answer is being sent: the tasks scheduled so far, or null; no more after this. */
  _seal() {
    this._sealed = true;
    return this._later;
  }

  /** The facts, parsed on first use. */
  _fact(index) {
    if (this._facts === null) {
      this._facts = this._factsText === null ? NO_FACTS : JSON.parse(this._factsText);
    }
    return this._facts[index];
  }

  /** The HTTP method, upper-case. */
  get method() {
    return this._fact(METHOD) || this._route.method;
  }

  /** The path, percent-decoded, without the query. */
  get path() {
    return this._fact(PATH);
  }

  /** The raw query string, without "?". */
  get rawQuery() {
    return this._fact(RAW_QUERY);
  }

  _validated() {
    if (this._split === null) {
      const split = { params: {}, query: {}, headers: {}, cookies: {} };
      const raw = this._params;
      if (raw.length > 2) {
        const route = this._route;
        const values = JSON.parse(raw);
        if (route.onlyGroup !== null) {
          split[route.onlyGroup] = values;
        } else {
          const fields = route.fields;
          for (const name of Object.keys(values)) {
            split[fields[name] || 'params'][name] = values[name];
          }
        }
      }
      this._split = split;
    }
    return this._split;
  }

  /** Path parameters, validated and coerced by the core. */
  get params() {
    return this._validated().params;
  }

  /** Query parameters: the declared ones validated, the others as sent. */
  get query() {
    if (this._query === undefined) {
      // The declared values as the core coerced them, then the rest as sent.
      const out = this._validated().query;
      const fields = this._route.fields;
      const pairs = this._fact(QUERY_PAIRS);
      for (let i = 0; i < pairs.length; i += 2) {
        const name = pairs[i];
        if (fields[name] === 'query') continue;
        const value = pairs[i + 1];
        const prev = hasOwn(out, name) ? out[name] : undefined;
        if (prev === undefined) put(out, name, value);
        else if (Array.isArray(prev)) prev.push(value);
        else put(out, name, [prev, value]);
      }
      this._query = out;
    }
    return this._query;
  }

  /** Headers, lower-case names: the declared ones validated, the others as sent. */
  get headers() {
    if (this._headers === undefined) {
      const out = {};
      const pairs = this._fact(HEADERS);
      for (let i = 0; i < pairs.length; i += 2) {
        const name = pairs[i];
        const value = pairs[i + 1];
        if (name === CLAIMS) continue;
        const prev = hasOwn(out, name) ? out[name] : undefined;
        put(
          out,
          name,
          prev === undefined ? value : `${prev}${name === 'cookie' ? '; ' : ', '}${value}`,
        );
      }
      const declared = this._validated().headers;
      for (const name of Object.keys(declared)) put(out, name, declared[name]);
      this._headers = out;
    }
    return this._headers;
  }

  /**
   * The verified claims of the request's JWT (the route's `jwtAuth`, or the
   * app's), or null when none was verified (an API-key request, a route
   * without JWT). The core sends them as the last header pair, ":claims".
   */
  get claims() {
    if (this._claims === undefined) {
      const pairs = this._fact(HEADERS);
      const n = pairs.length;
      this._claims =
        n >= 2 && pairs[n - 2] === CLAIMS
          ? JSON.parse(Buffer.from(pairs[n - 1], 'latin1').toString('utf8'))
          : null;
    }
    return this._claims;
  }

  /** The request's id: the core's X-Request-ID, which its answer carries too. */
  get requestId() {
    return this.headers['x-request-id'];
  }

  /** Cookies: the declared ones validated, the others as sent. */
  get cookies() {
    if (this._cookies === undefined) {
      const out = {};
      const pairs = this._fact(COOKIES);
      for (let i = 0; i < pairs.length; i += 2) {
        const name = pairs[i];
        const value = pairs[i + 1];
        if (!hasOwn(out, name)) put(out, name, value);
      }
      const declared = this._validated().cookies;
      for (const name of Object.keys(declared)) put(out, name, declared[name]);
      this._cookies = out;
    }
    return this._cookies;
  }

  /**
   * With a body schema: the validated body, decoded from JSON (forms and
   * multipart arrive as the equivalent object; file fields as UploadFiles).
   * Without one: the raw body as a Buffer, or null when there is none.
   */
  get body() {
    if (this._body === undefined) {
      const raw = this._rawBody;
      if (!this._route.hasBody) {
        this._body = raw === undefined ? null : raw;
      } else if (raw === null || raw === undefined || raw.length === 0) {
        this._body = null;
      } else {
        const body = JSON.parse(raw);
        const attachments = this._attachments;
        if (attachments !== null && body !== null && typeof body === 'object') {
          const pointers = this._fact(UPLOADS);
          if (pointers.length > 0) bindUploads(body, pointers, attachments);
        }
        this._body = body;
      }
    }
    return this._body;
  }

  /** Aborted when the exchange ends without the answer (client gone, timeout, stop). */
  get signal() {
    if (this._controller === null) {
      this._controller = new AbortController();
      if (this._abortReason !== undefined) this._controller.abort(this._abortReason);
    }
    return this._controller.signal;
  }

  /**
   * The dependency `name` (lib/di.js), a name or a class: a promise of its
   * value, made once per request (or once for the app, for a singleton).
   * Rejects with a DependencyError, answered with the core's
   * dependency-error problem, when it cannot be resolved.
   */
  dep(name) {
    const deps = this._route.deps;
    if (deps === undefined) {
      return depsMissing(name);
    }
    if (this._scope === undefined) {
      this._scope = { cache: new Map(), cleanups: [] };
    }
    return deps.resolve(name, this._scope);
  }

  /** The generator factories' cleanups this request owes, or null. */
  _cleanups() {
    const scope = this._scope;
    if (scope === undefined || scope.cleanups.length === 0) return null;
    const gens = scope.cleanups;
    scope.cleanups = [];
    return gens;
  }

  /** Called by the dispatcher on the exchange's DISCONNECT event. */
  _abort(reason) {
    if (this._abortReason !== undefined) return;
    this._abortReason = reason;
    if (this._controller !== null) this._controller.abort(reason);
  }
}

/** req.dep(name) of an app that provides nothing. */
function depsMissing(name) {
  const { DependencyError } = require('./di');
  const key = typeof name === 'function' ? name.name : String(name);
  return Promise.reject(
    new DependencyError(`dependency '${key}' is not registered`, 'missing_dependency', key),
  );
}

module.exports = { Request };
