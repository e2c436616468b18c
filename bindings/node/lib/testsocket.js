'use strict';
// TestWebSocket: the client side of one WebSocket, for TestClient.websocket.
//
// Node 20 has no WebSocket client of its own, and a browser-style one could
// neither send the headers a test needs nor show the close code as sent, so
// this speaks RFC 6455 as a client does over a plain upgraded socket: masked
// frames out; whole messages in (fragments joined), pings answered, the
// close handshake answered. It is a test tool: the server's transport is the
// core's, and this file is never on the serving path.

const crypto = require('node:crypto');
const http = require('node:http');
const { WebSocketDisconnect } = require('./websocket');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
const CLOSE_WAIT_MS = 5000; // how long close() waits for the server's answer before dropping

/** One client frame: FIN set, masked as RFC 6455 requires of a client. */
function frame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = crypto.randomBytes(4);
  mask.copy(out, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

function closePayload(code, reason) {
  const text = Buffer.from(reason);
  const out = Buffer.allocUnsafe(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}

/** A WebSocket connection as a test client sees it. */
class TestWebSocket {
  constructor(socket, head, res) {
    /** The 101 answer: `status` and `headers` (lower-case names). */
    this.response = { status: res.statusCode, headers: res.headers };
    /** The subprotocol the server chose, or null. */
    this.subprotocol = res.headers['sec-websocket-protocol'] || null;
    this._socket = socket;
    this._buffer = Buffer.alloc(0);
    this._fragments = null; // [opcode, pieces] of a fragmented message
    this._inbox = [];
    this._receivers = [];
    this._close = null; // [code, reason] once the connection is over
    this._closing = false; // this side sent its close
    this._ended = new Promise((resolve) => socket.once('close', resolve));
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this._data(chunk));
    socket.on('error', () => {}); // a reset is seen as 'close' (1006)
    socket.on('close', () => this._gone(1006, ''));
    if (head.length > 0) this._data(head);
  }

  /** The server's close code once the connection is over (1006 when it dropped), else null. */
  get closeCode() {
    return this._close === null ? null : this._close[0];
  }

  /** The close reason once the connection is over, else null. */
  get closeReason() {
    return this._close === null ? null : this._close[1];
  }

  /** Send a string as a text message, bytes as a binary one. */
  send(data) {
    if (typeof data === 'string') return this._send(OP_TEXT, Buffer.from(data));
    if (data instanceof Uint8Array) return this._send(OP_BINARY, Buffer.from(data));
    return Promise.reject(
      new TypeError('TestWebSocket.send: data must be a string or bytes (sendJson for a value)'),
    );
  }

  /** Send `value` as a JSON text message. */
  sendJson(value) {
    return this._send(OP_TEXT, Buffer.from(JSON.stringify(value)));
  }

  /**
   * The next message: a string for text, a Buffer for binary. Once the
   * server closed (and every message before its close was received) it
   * rejects with a WebSocketDisconnect carrying the close code and reason.
   */
  receive() {
    if (this._inbox.length > 0) return Promise.resolve(this._inbox.shift());
    if (this._close !== null) return Promise.reject(new WebSocketDisconnect(...this._close));
    return new Promise((resolve, reject) => this._receivers.push({ resolve, reject }));
  }

  /** The next message parsed as JSON. */
  async receiveJson() {
    const message = await this.receive();
    return JSON.parse(typeof message === 'string' ? message : message.toString('utf8'));
  }

  /**
   * Close with `code` and `reason`; resolves once the connection is closed
   * (the server answered, or it dropped within a few seconds). Harmless
   * once closed.
   */
  async close(code = 1000, reason = '') {
    if (this._close === null && !this._closing) {
      this._closing = true;
      this._socket.write(frame(OP_CLOSE, closePayload(code, reason)));
      const timer = setTimeout(() => this._socket.destroy(), CLOSE_WAIT_MS);
      await this._ended;
      clearTimeout(timer);
      return;
    }
    await this._ended;
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }

  _send(opcode, payload) {
    if (this._close !== null || this._closing) {
      return Promise.reject(new WebSocketDisconnect(...(this._close || [1000, ''])));
    }
    return new Promise((resolve, reject) => {
      this._socket.write(frame(opcode, payload), (err) => (err ? reject(err) : resolve()));
    });
  }

  _data(chunk) {
    this._buffer = this._buffer.length === 0 ? chunk : Buffer.concat([this._buffer, chunk]);
    for (;;) {
      const b = this._buffer;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (b.length < at + len) return;
      const payload = Buffer.from(b.subarray(at, at + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskAt + (i & 3)];
      this._buffer = b.subarray(at + len);
      this._frame(fin, opcode, payload);
    }
  }

  _frame(fin, opcode, payload) {
    if (opcode === OP_PING) {
      if (!this._closing) this._socket.write(frame(OP_PONG, payload));
      return;
    }
    if (opcode === OP_PONG) return;
    if (opcode === OP_CLOSE) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
      if (!this._closing) {
        this._closing = true;
        this._socket.write(frame(OP_CLOSE, payload.length >= 2 ? payload.subarray(0, 2) : payload));
      }
      this._gone(code, reason);
      this._socket.end();
      return;
    }
    if (opcode === OP_CONTINUATION) {
      if (this._fragments === null) return;
      this._fragments[1].push(payload);
    } else {
      this._fragments = [opcode, [payload]];
    }
    if (!fin) return;
    const [kind, pieces] = this._fragments;
    this._fragments = null;
    const whole = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
    const message = kind === OP_TEXT ? whole.toString('utf8') : whole;
    if (this._receivers.length > 0) this._receivers.shift().resolve(message);
    else this._inbox.push(message);
  }

  _gone(code, reason) {
    if (this._close !== null) return;
    this._close = [code, reason];
    const receivers = this._receivers;
    this._receivers = [];
    for (const r of receivers) r.reject(new WebSocketDisconnect(code, reason));
  }
}

/**
 * Open a WebSocket to `target` (host, port, path with query) with `headers`
 * and the offered `subprotocols`. Resolves once the 101 has arrived; a
 * refused handshake rejects with an Error whose `response` is the answer,
 * made by `toResponse(status, headers, body)`.
 */
function connect(host, port, target, headers, subprotocols, toResponse) {
  const key = crypto.randomBytes(16).toString('base64');
  const all = {
    ...headers,
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-key': key,
    'sec-websocket-version': '13',
  };
  if (subprotocols.length > 0) all['sec-websocket-protocol'] = subprotocols.join(', ');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: target, headers: all, agent: false });
    req.on('upgrade', (res, socket, head) => {
      const want = crypto
        .createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      if (res.headers['sec-websocket-accept'] !== want) {
        socket.destroy();
        reject(new Error('the server answered the upgrade with a wrong Sec-WebSocket-Accept'));
        return;
      }
      resolve(new TestWebSocket(socket, head, res));
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const err = new Error(
          `the WebSocket handshake to ${target} was refused: ${res.statusCode}`,
        );
        err.name = 'WebSocketRefused';
        err.response = toResponse(res.statusCode, res.headers, Buffer.concat(chunks));
        reject(err);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

module.exports = { TestWebSocket, connect };
