'use strict';
// TestClient: an app under test, served for real on a free loopback port and
// spoken to over HTTP/1.1, so a test sees exactly the bytes a user would.

const http = require('node:http');
const { connect } = require('./testsocket');

const BODY_OPTIONS = ['json', 'body', 'form', 'files'];

/** The answer to one request, read to its end. */
class TestResponse {
  constructor(status, headers, body) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /** The body as a string (UTF-8 unless told). */
  text(encoding = 'utf8') {
    return this.body.toString(encoding);
  }

  /** The body parsed as JSON; a body that is not JSON throws a SyntaxError naming the status. */
  json() {
    try {
      return JSON.parse(this.text());
    } catch (err) {
      throw new SyntaxError(
        `the ${this.status} answer is not JSON (${err.message}): ${this.text().slice(0, 200)}`,
        { cause: err },
      );
    }
  }
}

function queryString(query) {
  if (query === undefined || query === null) return '';
  if (typeof query === 'string') return query.startsWith('?') ? query.slice(1) : query;
  const pairs = new URLSearchParams();
  const entries =
    query instanceof URLSearchParams || query instanceof Map ? query : Object.entries(query);
  for (const [name, value] of entries) {
    for (const one of Array.isArray(value) ? value : [value]) pairs.append(name, String(one));
  }
  return pairs.toString();
}

// RFC 6265's cookie-octet: a value is sent as given, so one a server could
// not read back unchanged is refused here rather than mangled.
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function cookieHeader(cookies) {
  return Object.entries(cookies)
    .map(([name, value]) => {
      const text = String(value);
      if (!TOKEN.test(name))
        throw new TypeError(`cookie name ${JSON.stringify(name)} is not a token`);
      if (!COOKIE_VALUE.test(text)) {
        throw new TypeError(
          `cookie ${name}: ${JSON.stringify(text)} has characters a cookie value cannot carry (RFC 6265)`,
        );
      }
      return `${name}=${text}`;
    })
    .join('; ');
}

/** A multipart body made by the platform's own FormData encoder. */
async function multipart(form, files) {
  const data = new FormData();
  for (const [name, value] of Object.entries(form || {})) {
    for (const one of Array.isArray(value) ? value : [value]) data.append(name, String(one));
  }
  for (const [name, value] of Object.entries(files)) {
    for (const file of Array.isArray(value) ? value : [value]) {
      const {
        data: bytes,
        filename = name,
        contentType = 'application/octet-stream',
      } = file instanceof Uint8Array || typeof file === 'string' ? { data: file } : file;
      data.append(name, new Blob([bytes], { type: contentType }), filename);
    }
  }
  const encoded = new globalThis.Response(data);
  return {
    contentType: encoded.headers.get('content-type'),
    bytes: Buffer.from(await encoded.arrayBuffer()),
  };
}

/** The request's body and the content-type it implies, from the one body option given. */
async function encodeBody(options) {
  const given = BODY_OPTIONS.filter((name) => options[name] !== undefined);
  if (
    given.length > 1 &&
    !(given.length === 2 && given.includes('form') && given.includes('files'))
  ) {
    throw new TypeError(`give one body option, not ${given.join(' and ')}`);
  }
  if (options.files !== undefined) return multipart(options.form, options.files);
  if (options.json !== undefined) {
    return { contentType: 'application/json', bytes: Buffer.from(JSON.stringify(options.json)) };
  }
  if (options.form !== undefined) {
    return {
      contentType: 'application/x-www-form-urlencoded',
      bytes: Buffer.from(queryString(options.form)),
    };
  }
  if (options.body !== undefined) {
    if (typeof options.body !== 'string' && !(options.body instanceof Uint8Array)) {
      throw new TypeError(
        'body must be a string, a Buffer or a Uint8Array (use json: for a value)',
      );
    }
    return { contentType: undefined, bytes: Buffer.from(options.body) };
  }
  return { contentType: undefined, bytes: null };
}

/** One server-sent event as a client reads it. */
class ServerSentEvent {
  constructor(data, event, id, retry) {
    this.data = data;
    this.event = event;
    this.id = id;
    this.retry = retry;
  }

  /** `data` parsed as JSON. */
  json() {
    return JSON.parse(this.data);
  }
}

/** The events of one SSE answer, in order. */
class EventReader {
  constructor(res) {
    this.status = res.statusCode;
    this.headers = res.headers;
    this._res = res;
  }

  async *[Symbol.asyncIterator]() {
    let buffered = '';
    let data = [];
    let event = 'message';
    let id = null;
    let retry = null;
    this._res.setEncoding('utf8');
    for await (const text of this._res) {
      buffered += text;
      let at;
      while ((at = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        if (line === '') {
          if (data.length > 0) yield new ServerSentEvent(data.join('\n'), event, id, retry);
          data = [];
          event = 'message';
          retry = null;
          continue;
        }
        if (line.startsWith(':')) continue; // a comment: the core's keep-alive
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (name === 'data') data.push(value);
        else if (name === 'event') event = value;
        else if (name === 'id') id = value;
        else if (name === 'retry' && /^\d+$/.test(value)) retry = Number(value);
      }
    }
  }

  /** Stop reading: the connection is closed (the server's generator ends). */
  close() {
    this._res.destroy();
  }
}

/**
 * Serves `app` on 127.0.0.1 (a free port) from its first request, unless it
 * already listens, and sends it requests over keep-alive connections.
 * `close()` closes the connections and, if the client started the app, the app.
 */
class TestClient {
  constructor(app) {
    if (app === null || typeof app !== 'object' || typeof app.listen !== 'function') {
      throw new TypeError('TestClient(app): app must be a Spikard app');
    }
    this.app = app;
    this._agent = new http.Agent({ keepAlive: true });
    this._started = null; // the listen() promise when this client started the app
    this._closed = false;
    this._streams = new Set(); // open SSE answers
    this._sockets = new Set(); // open WebSockets
  }

  /** The served app's base URL, starting it if needed. */
  async url() {
    if (this._closed) throw new Error('this TestClient is closed');
    if (this.app.url !== undefined && this._started === null) return this.app.url;
    if (this._started === null) this._started = this.app.listen({ host: '127.0.0.1', port: 0 });
    return (await this._started).url;
  }

  /**
   * Send one request. `options`: `query` (object, URLSearchParams or string),
   * `headers`, `cookies`, and at most one body: `json` (a value),
   * `body` (string or bytes), `form` (url-encoded fields) or `files` (with
   * `form`, a multipart body).
   */
  async request(method, path, options = {}) {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new TypeError(`path must start with "/", got ${JSON.stringify(path)}`);
    }
    const base = new URL(await this.url());
    const query = queryString(options.query);
    const target = query === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${query}`;
    const { contentType, bytes } = await encodeBody(options);
    const headers = {};
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (options.cookies !== undefined) headers.cookie = cookieHeader(options.cookies);
    for (const [name, value] of Object.entries(options.headers || {})) {
      headers[name.toLowerCase()] = value;
    }
    if (bytes !== null) headers['content-length'] = String(bytes.length);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          method: method.toUpperCase(),
          path: target,
          headers,
          agent: this._agent,
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve(new TestResponse(res.statusCode, res.headers, Buffer.concat(chunks))),
          );
        },
      );
      req.on('error', reject);
      req.end(bytes === null ? undefined : bytes);
    });
  }

  get(path, options) {
    return this.request('GET', path, options);
  }

  post(path, options) {
    return this.request('POST', path, options);
  }

  put(path, options) {
    return this.request('PUT', path, options);
  }

  patch(path, options) {
    return this.request('PATCH', path, options);
  }

  delete(path, options) {
    return this.request('DELETE', path, options);
  }

  head(path, options) {
    return this.request('HEAD', path, options);
  }

  options(path, options) {
    return this.request('OPTIONS', path, options);
  }

  /**
   * Open an SSE stream: resolves once the answer's head has arrived with an
   * `EventSource`-like reader: `status`, `headers`, `for await (const event
   * of events)` (each `{ data, event, id, retry, json() }`, comments skipped)
   * and `close()`. The connection is its own, not the keep-alive pool's.
   */
  async sse(path, options = {}) {
    const base = new URL(await this.url());
    const query = queryString(options.query);
    const target = query === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${query}`;
    const headers = { accept: 'text/event-stream' };
    for (const [name, value] of Object.entries(options.headers || {})) {
      headers[name.toLowerCase()] = value;
    }
    const res = await new Promise((resolve, reject) => {
      const req = http.get(
        { host: base.hostname, port: base.port, path: target, headers },
        resolve,
      );
      req.on('error', reject);
    });
    this._streams.add(res);
    res.on('close', () => this._streams.delete(res));
    return new EventReader(res);
  }

  /**
   * Open a WebSocket: resolves once the server accepted it (the 101 has
   * arrived) with a connection that has `send`, `sendJson`, `receive`,
   * `receiveJson`, `close(code, reason)`, `subprotocol` and `response`.
   * `options`: `query`, `headers`, `cookies`, and `subprotocols` to offer.
   * A refused handshake rejects with an Error whose `response` is the
   * answer (`status`, `headers`, `body`, `json()`).
   */
  async websocket(path, options = {}) {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new TypeError(`path must start with "/", got ${JSON.stringify(path)}`);
    }
    const { query: q, headers: extra, cookies, subprotocols = [] } = options || {};
    if (!Array.isArray(subprotocols) || subprotocols.some((p) => typeof p !== 'string')) {
      throw new TypeError('websocket: subprotocols must be an array of strings');
    }
    const base = new URL(await this.url());
    const query = queryString(q);
    const target = query === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${query}`;
    const headers = {};
    if (cookies !== undefined) headers.cookie = cookieHeader(cookies);
    for (const [name, value] of Object.entries(extra || {})) headers[name.toLowerCase()] = value;
    const ws = await connect(
      base.hostname,
      base.port,
      target,
      headers,
      subprotocols,
      (status, head, body) => new TestResponse(status, head, body),
    );
    this._sockets.add(ws);
    ws._ended.then(() => this._sockets.delete(ws));
    return ws;
  }

  /**
   * Close the client's connections (its WebSockets with 1000), then the app
   * if this client started it.
   */
  async close() {
    if (this._closed) return;
    this._closed = true;
    this._agent.destroy();
    for (const res of this._streams) res.destroy();
    await Promise.all([...this._sockets].map((ws) => ws.close()));
    if (this._started !== null) {
      await this._started.catch(() => undefined);
      await this.app.close();
    }
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }
}

module.exports = { ServerSentEvent, TestClient, TestResponse };
