'use strict';
// WebSocket: one connection, for handlers that receive and send on their own.
//
// A handler registered with `{ connection: true }` gets the connection before
// it is accepted:
//
//   app.websocket('/chat/{room}', async (ws) => {
//     await ws.accept();
//     ws.subscribe(ws.params.room);
//     for await (const message of ws) await ws.publish(ws.params.room, message);
//   }, { connection: true });
//
// The core does the transport (handshake, frames, fragments, ping/pong, the
// close handshake, size limits, origins); this object only hands messages
// over. A receive after the connection ended rejects with a
// WebSocketDisconnect carrying the close code; `for await` just ends. Sends
// use the stream rules: when the core's queue for the connection is full
// (E_AGAIN) a send waits for its STREAM_CREDIT, so a client that stops
// reading suspends its sender. lib/sockets.js runs handlers and feeds events.

const native = require('./native');
const { encodeJson } = require('./json');
const { headerPairs } = require('./response');

const C = native.constants;
const TEXT = 0;
const REFUSED = '{"detail":"The WebSocket handler closed the connection before accepting it"}';
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
const REDIS_RETRY_MS = 10; // a full queue for Redis sends no event: retry after this
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The connection is over: `code` is its close code (1000 normal, 1001 going away, 1006 dropped, ...). */
class WebSocketDisconnect extends Error {
  constructor(code = 1000, reason = '') {
    super(`the WebSocket is closed (${code}${reason ? `: ${reason}` : ''})`);
    this.name = 'WebSocketDisconnect';
    this.code = code;
    this.reason = reason;
  }
}

/** A Uint8Array as a Buffer over the same bytes (the addon reads Buffers in place). */
function toBuffer(bytes) {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `[flags, data]` of a message: a string as text, bytes as binary, anything else as JSON text. */
function messageFrame(message) {
  if (typeof message === 'string') return [TEXT, message];
  if (message instanceof Uint8Array) return [C.CHUNK_WS_BINARY, toBuffer(message)];
  return [TEXT, encodeJson(message)];
}

/** A binary message as text; bytes that are not UTF-8 are a TypeError. */
function utf8(bytes) {
  return strictUtf8.decode(bytes);
}

function checkChannel(channel, who) {
  if (typeof channel !== 'string' && !(channel instanceof Uint8Array)) {
    throw new TypeError(`${who}: channel must be a string or a Buffer`);
  }
  return typeof channel === 'string' ? channel : toBuffer(channel);
}

/**
 * Publish `message` on `channel` through the native App `app`; false when
 * the queue for Redis is full (nothing was queued).
 */
function publishOn(app, channel, message, who) {
  const name = checkChannel(channel, who);
  const [flags, data] = messageFrame(message);
  return app.wsPublish(name, flags, data) === C.OK;
}

/** One WebSocket connection (see the file comment). */
class WebSocket {
  /**
   * @param exchange the core's exchange id
   * @param app a function returning the native App, or null once it is closed
   * @param request the handshake's Request
   */
  constructor(exchange, app, request) {
    this._exchange = exchange;
    this._app = app;
    this._request = request;
    this._state = CONNECTING;
    this._inbox = [];
    this._receivers = []; // { resolve, reject } of receives waiting for a message
    this._blocked = null; // a promise senders wait on until the connection's STREAM_CREDIT
    this._unblock = null;
    this._close = null; // [code, reason] once the connection is over
  }

  /** The handshake request: `params`, `query`, `headers`, `cookies`, `path`. */
  get request() {
    return this._request;
  }

  /** Path parameters, validated and coerced by the core. */
  get params() {
    return this._request.params;
  }

  /** Query parameters of the handshake. */
  get query() {
    return this._request.query;
  }

  /** The handshake's headers, lower-case names. */
  get headers() {
    return this._request.headers;
  }

  /** The handshake's cookies. */
  get cookies() {
    return this._request.cookies;
  }

  /** The request path, percent-decoded. */
  get path() {
    return this._request.path;
  }

  /** Aborted once the connection is over, however it ends; its reason is a WebSocketDisconnect. */
  get signal() {
    return this._request.signal;
  }

  /** The subprotocols the client offered, in its order. */
  get subprotocols() {
    const offered = this._request.headers['sec-websocket-protocol'];
    if (typeof offered !== 'string') return [];
    return offered
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
  }

  /** The close code once the connection is over, else null. */
  get closeCode() {
    return this._close === null ? null : this._close[0];
  }

  /** The close reason once the connection is over, else null. */
  get closeReason() {
    return this._close === null ? null : this._close[1];
  }

  // -- the handshake ------------------------------------------------------------

  /**
   * Accept the handshake. `options`: `subprotocol` (one the client offered;
   * without one the core picks the route's first the client offered) and
   * `headers` added to the 101. A string is taken as the subprotocol.
   */
  async accept(options = {}) {
    if (this._state === OPEN)
      throw new Error('WebSocket.accept: the connection was already accepted');
    if (this._state === CLOSED) throw new WebSocketDisconnect(...this._close);
    const { subprotocol, headers } =
      (typeof options === 'string' ? { subprotocol: options } : options) || {};
    const out = headerPairs(headers);
    if (subprotocol !== undefined && subprotocol !== null) {
      if (typeof subprotocol !== 'string') {
        throw new TypeError('WebSocket.accept: subprotocol must be a string');
      }
      out.push(['sec-websocket-protocol', subprotocol]);
    }
    const app = this._app();
    let accepted;
    try {
      accepted =
        app !== null &&
        app.respond([[this._exchange, 101, out.length > 0 ? out : null, '', C.RESPONSE_WS_ACCEPT]]);
    } catch (err) {
      // The core refused the answer (a subprotocol the client did not offer,
      // a header it keeps for itself) and sent the client its 500.
      this._over(1006, '');
      throw new Error(`WebSocket.accept: ${err.message}`, { cause: err });
    }
    if (!accepted) {
      this._over(1006, '');
      throw new WebSocketDisconnect(1006);
    }
    this._state = OPEN;
  }

  // -- receiving ------------------------------------------------------------------

  /** The next message: a string for text, a Buffer for binary. */
  receive() {
    if (this._state === CONNECTING) {
      return Promise.reject(new Error('WebSocket.receive: accept the connection first'));
    }
    if (this._inbox.length > 0) return Promise.resolve(this._inbox.shift());
    if (this._close !== null) return Promise.reject(new WebSocketDisconnect(...this._close));
    return new Promise((resolve, reject) => this._receivers.push({ resolve, reject }));
  }

  /** The next message, which must be text. */
  async receiveText() {
    const message = await this.receive();
    if (typeof message !== 'string') {
      throw new TypeError('WebSocket.receiveText: the client sent a binary message');
    }
    return message;
  }

  /** The next message as a Buffer (a text message as its UTF-8). */
  async receiveBytes() {
    const message = await this.receive();
    return typeof message === 'string' ? Buffer.from(message) : message;
  }

  /** The next message parsed as JSON (text, or binary holding UTF-8 JSON). */
  async receiveJson() {
    const message = await this.receive();
    return JSON.parse(typeof message === 'string' ? message : utf8(message));
  }

  /** `for await (const message of ws)`: every message until the connection ends. */
  async *[Symbol.asyncIterator]() {
    for (;;) {
      let message;
      try {
        message = await this.receive();
      } catch (err) {
        if (err instanceof WebSocketDisconnect) return;
        throw err;
      }
      yield message;
    }
  }

  // -- sending ------------------------------------------------------------------------

  /** Send `message`: a string as text, bytes as binary, anything else as JSON text. */
  async send(message) {
    const [flags, data] = messageFrame(message);
    await this._write([this._exchange, flags, data, '', '', 0]);
  }

  /** Send a text message. */
  async sendText(text) {
    if (typeof text !== 'string') throw new TypeError('WebSocket.sendText: text must be a string');
    await this._write([this._exchange, TEXT, text, '', '', 0]);
  }

  /** Send a binary message. */
  async sendBytes(bytes) {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError('WebSocket.sendBytes: bytes must be a Buffer or a Uint8Array');
    }
    await this._write([this._exchange, C.CHUNK_WS_BINARY, toBuffer(bytes), '', '', 0]);
  }

  /** Send `value` as a JSON text message (the response encoder's rules). */
  async sendJson(value) {
    await this._write([this._exchange, TEXT, encodeJson(value), '', '', 0]);
  }

  /** Queue one message, in order, waiting for credit while the connection is full. */
  async _write(chunk) {
    if (this._state === CONNECTING) throw new Error('WebSocket.send: accept the connection first');
    // Behind a sender parked on credit: a later message must not overtake it.
    while (this._blocked !== null) await this._blocked;
    for (;;) {
      const app = this._app();
      if (app === null || this._state === CLOSED) {
        throw new WebSocketDisconnect(...(this._close || [1006, '']));
      }
      const code = app.streamWrite([chunk])[0];
      if (code === C.OK) return;
      if (code === C.E_NOT_FOUND) {
        this._over(1006, '');
        throw new WebSocketDisconnect(...this._close);
      }
      if (code !== C.E_AGAIN) {
        throw new Error(`the core refused a WebSocket message (code ${code})`);
      }
      if (this._blocked === null) {
        this._blocked = new Promise((resolve) => {
          this._unblock = resolve;
        });
      }
      await this._blocked;
    }
  }

  /**
   * Close with `code` (1000..1003, 1007..1014, 3000..4999) and `reason` (at
   * most 123 bytes of UTF-8), after the messages already queued. Before
   * `accept` this refuses the handshake (403). Harmless once closed.
   */
  async close(code = 1000, reason = '') {
    if (!Number.isInteger(code)) throw new TypeError('WebSocket.close: code must be an integer');
    if (typeof reason !== 'string') throw new TypeError('WebSocket.close: reason must be a string');
    const app = this._app();
    if (this._state === CONNECTING) {
      this._over(1006, '');
      if (app !== null) app.respond([[this._exchange, 403, null, REFUSED, C.RESPONSE_PROBLEM]]);
      return;
    }
    if (this._state === CLOSED || app === null) return;
    const result = app.streamWrite([
      [this._exchange, C.CHUNK_WS_CLOSE, reason, '', '', 0, code],
    ])[0];
    if (result !== C.OK && result !== C.E_NOT_FOUND) {
      throw new RangeError(
        `WebSocket.close(${code}, ${JSON.stringify(reason)}): the core refused it: a code must be ` +
          'in 1000..1003, 1007..1014 or 3000..4999 and a reason at most 123 bytes of UTF-8',
      );
    }
    if (this._close === null) this._close = [code, reason];
    this._state = CLOSED;
  }

  // -- channels --------------------------------------------------------------------

  /** Receive what is published on `channel` (a string or bytes) until the connection ends. */
  subscribe(channel) {
    const name = checkChannel(channel, 'WebSocket.subscribe');
    if (this._state === CONNECTING) {
      throw new Error('WebSocket.subscribe: accept the connection first');
    }
    const app = this._app();
    if (app === null || !app.wsSubscribe(this._exchange, name)) {
      throw new WebSocketDisconnect(...(this._close || [1006, '']));
    }
  }

  /** Stop receiving what is published on `channel`; harmless if not subscribed. */
  unsubscribe(channel) {
    const name = checkChannel(channel, 'WebSocket.unsubscribe');
    const app = this._app();
    if (app !== null && this._state === OPEN) app.wsUnsubscribe(this._exchange, name);
  }

  /**
   * Send `message` (a string as text, bytes as binary, anything else as JSON)
   * to every WebSocket subscribed to `channel`, this one included if it is
   * subscribed; through Redis to every worker when the config's `broadcast`
   * names one. Resolves once queued.
   */
  async publish(channel, message) {
    for (;;) {
      const app = this._app();
      if (app === null) throw new Error('WebSocket.publish: the server is closed');
      if (publishOn(app, channel, message, 'WebSocket.publish')) return;
      await new Promise((resolve) => setTimeout(resolve, REDIS_RETRY_MS));
    }
  }

  // -- from lib/sockets.js ---------------------------------------------------------

  get _connecting() {
    return this._state === CONNECTING;
  }

  get _open() {
    return this._state === OPEN;
  }

  /** A WS_MESSAGE's data: a string, or a Buffer for a binary message. */
  _message(data) {
    if (this._receivers.length > 0) this._receivers.shift().resolve(data);
    else this._inbox.push(data);
  }

  /** The connection is over (WS_CLOSE, DISCONNECT before the accept, or the server's end). */
  _over(code, reason) {
    if (this._close === null) this._close = [code, reason];
    this._state = CLOSED;
    this._request._abort(new WebSocketDisconnect(...this._close));
    const receivers = this._receivers;
    this._receivers = [];
    for (const r of receivers) r.reject(new WebSocketDisconnect(...this._close));
    this._credited();
  }

  /** The connection's STREAM_CREDIT: parked senders try again. */
  _credited() {
    const unblock = this._unblock;
    this._blocked = null;
    this._unblock = null;
    if (unblock !== null) unblock();
  }
}

module.exports = { WebSocket, WebSocketDisconnect, messageFrame, publishOn, utf8 };
