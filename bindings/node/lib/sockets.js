'use strict';
// Open WebSockets: the dispatcher's side of lib/websocket.js.
//
// A WebSocket route's WS_OPEN (a request-shaped event; its route says it is
// one) starts the route's handler with a WebSocket over the handshake's
// Request. The connection's later events (WS_MESSAGE, STREAM_CREDIT,
// WS_CLOSE, and DISCONNECT while the handshake is unanswered) come to
// `event`, in order, on the JS thread.
//
// A message handler (the default) runs inside a loop of this file: accept,
// then for each message decode it by the route's `message` option (JSON by
// default, "text", "binary", or JSON meeting a JSON Schema object or a Zod
// schema), await `handler(message, ws)`, and send what it returns (undefined
// and null send nothing; a string as text, bytes as binary, anything else as
// JSON). JSON messages are checked by the core against the route's
// "message_schema" (the schema's JSON Schema; {} for plain JSON), which
// closes the connection with 1007 at the first that fails, as Python's
// binding does; a Zod schema then still parses each message (its transforms
// and refinements, which no JSON Schema carries), and a message it refuses
// closes with 1007 here. A
// `connection: true` handler gets the WebSocket itself and accepts, receives
// and sends on its own; its `message` may be a JSON Schema object, which the
// core checks each message against the same way (Python's message_schema).
//
// However a handler ends, the connection ends with it: a return closes with
// 1000 (before the accept: refuses the handshake, 403), a ProblemError
// refuses the handshake with its problem (after the accept: closes with
// 1008), any other throw is logged with its stack and answers the core's
// 500 (after the accept: closes with 1011). Python's binding ends its
// handlers the same way (its validation errors where this has ProblemError).

const native = require('./native');
const { Request } = require('./request');
const { ProblemError, renderProblem } = require('./response');
const { WebSocket, WebSocketDisconnect, utf8 } = require('./websocket');
const { toJsonSchema } = require('./schema');

const C = native.constants;
const OPTIONS = ['connection', 'message', 'subprotocols', 'params', 'query', 'headers', 'cookies'];
const SCHEMA_GROUPS = ['params', 'query', 'headers', 'cookies'];
const FORMATS = ['json', 'text', 'binary'];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_REASON = 123; // bytes of UTF-8 a close frame has room for

/** A close reason cut to the bytes a close frame can carry, at a character boundary. */
function closeReason(text) {
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    bytes += Buffer.byteLength(ch);
    if (bytes > MAX_REASON) break;
    out += ch;
  }
  return out;
}

const decodeJson = (raw) => JSON.parse(typeof raw === 'string' ? raw : utf8(raw));
const DECODERS = {
  json: decodeJson,
  text: (raw) => (typeof raw === 'string' ? raw : utf8(raw)),
  binary: (raw) => (typeof raw === 'string' ? Buffer.from(raw) : raw),
};

/** A decoder that checks each JSON message with a Zod schema's own safeParse. */
function zodDecoder(schema) {
  return (raw) => {
    const result = schema.safeParse(decodeJson(raw));
    if (result.success) return result.data;
    const issues = (result.error && result.error.issues) || [];
    const first = issues[0];
    if (first === undefined) throw new TypeError(String(result.error));
    const where = Array.isArray(first.path) && first.path.length > 0 ? first.path.join('.') : '';
    throw new TypeError(where === '' ? first.message : `${where}: ${first.message}`);
  };
}

/**
 * How a WebSocket route runs its handler: once per connection with the
 * WebSocket (`connection`), or once per decoded message.
 */
class SocketPlan {
  constructor(handler, connection, decode) {
    this.handler = handler;
    this.connection = connection;
    this.decode = decode;
  }

  async run(ws) {
    if (this.connection) {
      await this.handler(ws);
      return;
    }
    await ws.accept();
    for await (const raw of ws) {
      let message;
      try {
        message = this.decode(raw);
      } catch (err) {
        await ws.close(1007, closeReason(`the message does not fit the handler: ${err.message}`));
        return;
      }
      const reply = await this.handler(message, ws);
      if (reply !== undefined && reply !== null) await ws.send(reply);
    }
  }
}

/**
 * The parts of an `app.websocket(path, handler, options)` call:
 * `{ schemas, websocket, plan }`: the parameter schemas for compileSchemas,
 * the route document's "websocket" value and the SocketPlan. Bad options
 * are a TypeError naming the option.
 */
function compileSocket(path, handler, options) {
  const where = `websocket ${path}`;
  if (typeof handler !== 'function')
    throw new TypeError(`${where}: the handler must be a function`);
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object { ${OPTIONS.join(', ')} }`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) {
      throw new TypeError(
        `${where}: unknown option ${JSON.stringify(key)}; expected one of ${OPTIONS.join(', ')}`,
      );
    }
  }
  const { connection = false, message, subprotocols } = options;
  if (typeof connection !== 'boolean') {
    throw new TypeError(`${where}: connection must be a boolean`);
  }
  let decode = null;
  let messageSchema;
  const plainSchema =
    message !== null &&
    typeof message === 'object' &&
    !Array.isArray(message) &&
    typeof message.safeParse !== 'function';
  if (connection) {
    // A connection handler receives messages as they come; a JSON Schema
    // object only has the core check them (1007 at the first that fails).
    if (plainSchema) messageSchema = toJsonSchema(message, `${where}: message`);
    else if (message !== undefined) {
      throw new TypeError(
        `${where}: a connection handler receives its messages itself; its message option can only be a JSON Schema object the core checks them against`,
      );
    }
  } else if (message === undefined || FORMATS.includes(message)) {
    decode = DECODERS[message === undefined ? 'json' : message];
    if (message === undefined || message === 'json') messageSchema = {};
  } else if (message !== null && typeof message === 'object' && !Array.isArray(message)) {
    messageSchema = toJsonSchema(message, `${where}: message`);
    decode = typeof message.safeParse === 'function' ? zodDecoder(message) : decodeJson;
  } else {
    throw new TypeError(
      `${where}: message must be "json", "text", "binary", a JSON Schema object or a Zod schema, got ${JSON.stringify(message)}`,
    );
  }
  const websocket = {};
  if (subprotocols !== undefined) {
    if (
      !Array.isArray(subprotocols) ||
      subprotocols.some((p) => typeof p !== 'string' || !TOKEN.test(p))
    ) {
      throw new TypeError(
        `${where}: subprotocols must be an array of tokens (such as "chat.v1"), got ${JSON.stringify(subprotocols)}`,
      );
    }
    if (subprotocols.length > 0) websocket.subprotocols = [...subprotocols];
  }
  if (messageSchema !== undefined) websocket.message_schema = messageSchema;
  const schemas = {};
  for (const group of SCHEMA_GROUPS) {
    if (options[group] !== undefined) schemas[group] = options[group];
  }
  return {
    schemas,
    websocket: Object.keys(websocket).length === 0 ? true : websocket,
    plan: new SocketPlan(handler, connection, decode),
  };
}

/** The open WebSockets of one server; every method runs on the JS thread. */
class Sockets {
  /** @param app a function returning the native App, or null once it is closed */
  constructor(app) {
    this._app = app;
    this._open = new Map(); // exchange -> WebSocket, while its handler runs
    this._running = new Set(); // the handlers' promises
  }

  /** Start the handler of a WS_OPEN event (params and facts as a REQUEST's). */
  open(exchange, route, params, facts) {
    const ws = new WebSocket(exchange, this._app, new Request(route, params, null, facts, null));
    this._open.set(exchange, ws);
    const run = this._run(ws, route).finally(() => {
      this._open.delete(exchange);
      this._running.delete(run);
    });
    this._running.add(run);
  }

  /** A later event of an exchange: true when it was an open WebSocket's. */
  event(exchange, kind, code, data) {
    const ws = this._open.get(exchange);
    if (ws === undefined) return false;
    if (kind === C.EVENT_WS_MESSAGE) {
      ws._message(data);
    } else if (kind === C.EVENT_STREAM_CREDIT) {
      ws._credited();
    } else if (kind === C.EVENT_WS_CLOSE) {
      ws._over(code, data || '');
    } else if (kind === C.EVENT_DISCONNECT) {
      ws._over(1006, ''); // the client left (or request_timeout passed) before the accept
    }
    return true;
  }

  /**
   * The server stops: its WebSockets have their close (1001). Wait up to
   * `ms` for the handlers still running, then end what is left as dropped.
   */
  async wait(ms) {
    if (this._running.size > 0) {
      let timer;
      const late = new Promise((resolve) => {
        timer = setTimeout(resolve, ms, 'late');
      });
      const done = Promise.all(this._running).then(() => 'done');
      if ((await Promise.race([done, late])) === 'late') {
        console.error(
          `spikard: ${this._running.size} WebSocket handler(s) still running after the shutdown timeout`,
        );
      }
      clearTimeout(timer);
    }
    for (const ws of this._open.values()) ws._over(1006, '');
  }

  async _run(ws, route) {
    try {
      await route.socket.run(ws);
    } catch (err) {
      if (err instanceof WebSocketDisconnect) {
        if (ws._open) await this._close(ws, err.code, err.reason);
        return;
      }
      if (err instanceof ProblemError) {
        const answer = ws._connecting ? this._problem(err) : null;
        if (answer !== null) {
          ws._over(1006, '');
          this._respond([ws._exchange, answer[0], answer[1], answer[2], answer[3]]);
          return;
        }
        if (ws._open) {
          await this._close(ws, 1008, closeReason(err.message));
          return;
        }
      }
      console.error(`spikard: WebSocket handler for ${route.path} failed:`, err);
      if (ws._connecting) {
        ws._over(1006, '');
        this._respond([ws._exchange, 500, null, '', C.RESPONSE_HANDLER_ERROR]);
      } else if (ws._open) {
        await this._close(ws, 1011, '');
      }
      return;
    }
    if (ws._connecting) {
      await ws.close(); // returned without accepting: the handshake is refused
    } else if (ws._open) {
      await this._close(ws, 1000, '');
    }
  }

  /** The answer of a ProblemError, or null when it cannot be rendered. */
  _problem(err) {
    try {
      return renderProblem(err, C.RESPONSE_PROBLEM);
    } catch {
      return null;
    }
  }

  async _close(ws, code, reason) {
    try {
      await ws.close(code, reason);
    } catch {
      await ws.close(1011, '');
    }
  }

  _respond(answer) {
    const app = this._app();
    if (app === null) return;
    try {
      app.respond([answer]);
    } catch (err) {
      console.error('spikard: a WebSocket answer was refused:', err);
    }
  }
}

module.exports = { Sockets, compileSocket };
