'use strict';
// The Node fixture server of the conformance/parity runner.
//
// It speaks tests/parity/servers/PROTOCOL.md on stdin/stdout: it reads one app
// plan per case, builds the app through @spikard/node's public API only
// (`new Spikard(config)`, `app.registerRoute(...)`), listens on an ephemeral
// loopback port and replies `listening <port>`; `stop` closes it. Every
// route's handler returns its plan's answer as a `Response` of a Buffer
// (which adds no content-type), unchanged; a `raise` route's handler throws,
// which the framework turns into its standard 500. A `stream` route returns
// a `StreamingResponse` of its chunks, an `sse` route is an `app.sse`
// generator of its events, a `websocket` route an `app.websocket` handler
// that sends its messages and echoes; `background` hands `req.background` the
// recording of a body field, which a `record` route answers. A `file` route
// returns a `FileResponse` of its path; the config's `compression` and
// `static_files` objects become `compression` and `staticFiles` with
// camelCase fields.
//
// A config key the JS ServerConfig has no field for, or a route key
// registerRoute has no option for, is `unsupported`; a plan the framework
// refuses (a bad value, a schema it cannot compile) is
// `error <the framework's message>`. stdout carries the protocol only:
// console.log goes to stderr with the framework's logs.

const fs = require('node:fs');
const path = require('node:path');

const { FileResponse, Provide, Response, SseEvent, Spikard, StreamingResponse } = require(
  path.join(__dirname, '..', '..', '..', '..', 'bindings', 'node'),
);

const LANGUAGE = 'node';
const PROTOCOL_VERSION = 2;

// The ServerConfig fields of @spikard/node (lib/index.d.ts), by the
// snake_case key plans use; host, port and quiet are the server's own.
const CONFIG_FIELDS = {
  max_body_size: 'maxBodySize',
  max_json_depth: 'maxJsonDepth',
  max_uri_length: 'maxUriLength',
  max_header_size: 'maxHeaderSize',
  max_header_count: 'maxHeaderCount',
  header_timeout: 'headerTimeout',
  request_timeout: 'requestTimeout',
  read_timeout: 'readTimeout',
  shutdown_timeout: 'shutdownTimeout',
  access_log: 'accessLog',
  reuse_port: 'reusePort',
  sched_batch: 'schedBatch',
  openapi: 'openapi',
  jwt_auth: 'jwtAuth',
  api_key_auth: 'apiKeyAuth',
  rate_limit: 'rateLimit',
  compression: 'compression',
  static_files: 'staticFiles',
  request_id: 'requestId',
  cors: 'cors',
};
// Config fields that are option objects: their keys are camelCase in JS.
const OBJECT_FIELDS = new Set(['jwt_auth', 'api_key_auth', 'rate_limit']);
const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
// The fields of the config's middleware objects, by the plan's key.
const MIDDLEWARE_FIELDS = {
  compression: {
    gzip: 'gzip',
    brotli: 'brotli',
    zstd: 'zstd',
    min_size: 'minSize',
    quality: 'quality',
  },
  static_files: {
    directory: 'directory',
    route_prefix: 'routePrefix',
    index_file: 'indexFile',
    cache_control: 'cacheControl',
  },
};

/** A middleware object of the plan with the JS field names (unknown keys
 * kept, for the framework to refuse). */
function camelObject(fields, value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) out[fields[k] || k] = v;
  return out;
}
// What registerRoute takes besides method and path, by the plan's key.
const ROUTE_OPTIONS = {
  parameter_schema: 'parameterSchema',
  body_schema: 'bodySchema',
  response_schema: 'responseSchema',
  file_params: 'fileParams',
  summary: 'summary',
  description: 'description',
  tags: 'tags',
  operation_id: 'operationId',
  status_code: 'statusCode',
  cors: 'cors',
};
// The config's objects whose keys the JS API spells in camelCase.
const CONFIG_OBJECTS = {
  openapi: {
    enabled: 'enabled',
    title: 'title',
    version: 'version',
    description: 'description',
    swagger_ui_path: 'swaggerUiPath',
    redoc_path: 'redocPath',
    openapi_path: 'openapiPath',
  },
};

// A plan's CORS policy (the core's words) as the JS CorsConfig: {"regex": p}
// origins are RegExps, max_age -1 is null; false stays false.
const CORS_FIELDS = {
  allow_origins: 'allowOrigins',
  allow_methods: 'allowMethods',
  allow_headers: 'allowHeaders',
  allow_credentials: 'allowCredentials',
  expose_headers: 'exposeHeaders',
  max_age: 'maxAge',
  allow_private_network: 'allowPrivateNetwork',
};
function corsConfig(doc) {
  if (doc === null || typeof doc !== 'object') return doc;
  const out = {};
  for (const [key, value] of Object.entries(doc)) {
    const field = Object.prototype.hasOwnProperty.call(CORS_FIELDS, key) ? CORS_FIELDS[key] : key;
    if (key === 'allow_origins' && Array.isArray(value)) {
      out[field] = value.map((o) =>
        o !== null && typeof o === 'object' && 'regex' in o ? new RegExp(o.regex) : o,
      );
    } else if (key === 'max_age' && value === -1) out[field] = null;
    else out[field] = value;
  }
  return out;
}

class ProtocolError extends Error {}

/**
 * stdin as lines and byte counts. Read asynchronously: the JS thread must stay
 * free while an app serves, since its handlers run on it.
 */
class Input {
  constructor(stream) {
    this.buf = Buffer.alloc(0);
    this.eof = false;
    this.wake = null;
    stream.on('data', (chunk) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this._wake();
    });
    stream.on('end', () => {
      this.eof = true;
      this._wake();
    });
  }

  _wake() {
    const wake = this.wake;
    this.wake = null;
    if (wake !== null) wake();
  }

  _more() {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** The next line without "\n", or null at end of input. */
  async line() {
    for (;;) {
      const i = this.buf.indexOf(10);
      if (i >= 0) {
        const line = this.buf.subarray(0, i).toString('utf8');
        this.buf = this.buf.subarray(i + 1);
        return line;
      }
      if (this.eof) {
        if (this.buf.length === 0) return null;
        const line = this.buf.toString('utf8');
        this.buf = Buffer.alloc(0);
        return line;
      }
      await this._more();
    }
  }

  /** Exactly n bytes (fewer at end of input). */
  async bytes(n) {
    while (this.buf.length < n && !this.eof) await this._more();
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(out.length);
    return out;
  }
}

function newPlan(name = '') {
  // recorded: what the plan's background tasks recorded, for its record routes.
  // dependencies: the app's ("dependency" lines); made: how many instances
  // its generic factories have made.
  return {
    name,
    config: undefined,
    routes: [],
    mistake: null,
    recorded: [],
    hooks: [],
    dependencies: [],
    made: 0,
  };
}

// The line that opens each kind of block after a route line.
const OPENERS = new Set(['answer', 'raise', 'stream', 'sse', 'websocket', 'record', 'file']);
// The lines inside a block, by the kind of block they belong to.
const ITEM_KINDS = { chunk: 'stream', event: 'sse', send: 'websocket' };

/** The n raw bytes after a `<what> <n>` line, and its newline; read whatever
 * the plan's state, to keep the framing. */
async function readBytes(input, arg, what) {
  const count = arg.split(' ', 1)[0];
  if (!/^[0-9]+$/.test(count)) throw new ProtocolError(`${what} ${count} is not a byte count`);
  const n = Number(count);
  const data = await input.bytes(n);
  if (data.length !== n || (await input.bytes(1)).toString() !== '\n') {
    throw new ProtocolError(`${what} of ${n} bytes not followed by a newline`);
  }
  return data;
}

/** Keep the plan's first mistake; it is the reply to `serve`. */
function wrong(plan, why) {
  if (plan.mistake === null) plan.mistake = why;
}

function parseJson(text, plan, what) {
  try {
    return JSON.parse(text);
  } catch (err) {
    wrong(plan, `fixture: ${what} is not JSON: ${err.message}`);
    return undefined;
  }
}

async function readPlanLine(line, input, plan) {
  const space = line.indexOf(' ');
  const word = space < 0 ? line : line.slice(0, space);
  const arg = space < 0 ? '' : line.slice(space + 1);
  const last = plan.routes.length > 0 ? plan.routes[plan.routes.length - 1] : null;
  if (word === 'config') {
    if (plan.config !== undefined) wrong(plan, 'fixture: a second config line');
    plan.config = parseJson(arg, plan, 'config');
  } else if (word === 'hook') {
    const spec = parseJson(arg, plan, 'hook');
    if (spec === null || typeof spec !== 'object' || !(spec.phase in HOOK_METHODS))
      wrong(plan, 'fixture: a hook line without a phase');
    else if (!['set_header', 'require_header', 'replace', 'echo_request'].includes(spec.kind))
      wrong(plan, `fixture: hook kind ${JSON.stringify(spec.kind)} is not known`);
    else plan.hooks.push(spec);
  } else if (word === 'dependency') {
    const spec = parseJson(arg, plan, 'dependency');
    if (
      spec === null ||
      typeof spec !== 'object' ||
      typeof spec.key !== 'string' ||
      !['value', 'factory'].includes(spec.kind)
    )
      wrong(plan, 'fixture: a dependency line without a key and a kind');
    else plan.dependencies.push(spec);
  } else if (word === 'inject') {
    const keys = parseJson(arg, plan, 'inject');
    if (last === null || last.kind !== 'answer' || last.body === null)
      wrong(plan, "fixture: an inject line not right after an answer's body");
    else if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string'))
      wrong(plan, 'fixture: inject wants a list of keys');
    else if (last.delayMs !== null || last.background !== null)
      wrong(plan, 'fixture: inject with delay or background');
    else last.inject = keys;
  } else if (word === 'route') {
    plan.routes.push({
      doc: parseJson(arg, plan, 'route'),
      // answer, raise, stream, sse, websocket or record; null until the next line says.
      kind: null,
      status: null,
      headers: [],
      body: null,
      background: null, // the body field a background task records
      delayMs: null, // how long the handler takes before it answers
      items: [], // chunks, events or messages to send
      fields: [], // each event's fields beyond its data
      ended: false, // a stream, sse or websocket block's `end`
      key: null, // a record route's key
      path: null, // a file route's path
      filename: undefined, // a file route's download name
      inject: null, // the dependencies its handler asks for
      schema: undefined, // a websocket route's message schema
    });
  } else if (OPENERS.has(word)) {
    if (last === null || last.kind !== null) {
      wrong(plan, `fixture: a ${word} line not right after a route line`);
      return;
    }
    last.kind = word;
    if (word === 'answer' || word === 'stream' || word === 'file') {
      if (!/^[0-9]+$/.test(arg)) wrong(plan, `fixture: ${word} ${arg} is not a status`);
      else last.status = Number(arg);
    } else if (word === 'record') {
      last.key = arg;
    }
  } else if (word === 'header') {
    const colon = arg.indexOf(':');
    if (
      last === null ||
      (last.kind !== 'answer' && last.kind !== 'stream' && last.kind !== 'file') ||
      last.body !== null ||
      last.items.length > 0 ||
      last.path !== null
    )
      wrong(plan, 'fixture: a header line outside an answer or stream block');
    else if (colon <= 0) wrong(plan, `fixture: header ${arg} is not "<name>: <value>"`);
    else last.headers.push([arg.slice(0, colon), arg.slice(colon + 1).replace(/^ /, '')]);
  } else if (word === 'body') {
    const data = await readBytes(input, arg, 'body');
    if (last === null || last.kind !== 'answer' || last.body !== null)
      wrong(plan, 'fixture: a body line outside an answer block');
    else last.body = data;
  } else if (word === 'background') {
    if (last === null || last.kind !== 'answer' || last.body === null || arg === '')
      wrong(plan, "fixture: a background line not right after an answer's body");
    else last.background = arg;
  } else if (word === 'delay') {
    if (last === null || last.kind !== 'answer' || last.body === null || !/^[0-9]+$/.test(arg))
      wrong(plan, "fixture: a delay line not right after an answer's body");
    else last.delayMs = Number(arg);
  } else if (Object.prototype.hasOwnProperty.call(ITEM_KINDS, word)) {
    const data = await readBytes(input, arg, word);
    const meta = arg.indexOf(' ') < 0 ? '' : arg.slice(arg.indexOf(' ') + 1);
    if (last === null || last.kind !== ITEM_KINDS[word] || last.ended) {
      wrong(plan, `fixture: a ${word} line outside a ${ITEM_KINDS[word]} block`);
      return;
    }
    last.items.push(data);
    last.fields.push(meta === '' ? {} : parseJson(meta, plan, 'event fields'));
  } else if (word === 'schema') {
    const data = await readBytes(input, arg, word);
    if (last === null || last.kind !== 'websocket' || last.ended || last.schema !== undefined)
      wrong(plan, 'fixture: a schema line outside a websocket block');
    else last.schema = parseJson(data.toString('utf8'), plan, 'message schema');
  } else if (word === 'path' || word === 'filename') {
    const data = await readBytes(input, arg, word);
    if (last === null || last.kind !== 'file' || last.ended)
      wrong(plan, `fixture: a ${word} line outside a file block`);
    else if (word === 'path') last.path = data.toString('utf8');
    else last.filename = data.toString('utf8');
  } else if (line === 'end') {
    if (last === null || !['stream', 'sse', 'websocket', 'file'].includes(last.kind) || last.ended)
      wrong(plan, 'fixture: an end line outside a stream, sse or websocket block');
    else last.ended = true;
  } else {
    wrong(plan, `fixture: unknown line ${line.slice(0, 60)}`);
  }
}

/** The plan's mistakes only visible once it is complete, or null. */
function check(plan) {
  if (plan.mistake !== null) return plan.mistake;
  if (plan.config === null || typeof plan.config !== 'object' || Array.isArray(plan.config)) {
    return 'fixture: the plan has no config object';
  }
  if (plan.routes.length === 0) return 'fixture: the plan has no route';
  for (const [i, route] of plan.routes.entries()) {
    const doc = route.doc;
    if (doc === null || typeof doc !== 'object' || !('method' in doc) || !('path' in doc)) {
      return `fixture: route ${i + 1} is not an object with method and path`;
    }
    const complete = {
      answer: route.body !== null,
      raise: true,
      record: true,
      stream: route.ended,
      sse: route.ended,
      websocket: route.ended,
      file: route.ended && route.path !== null,
    };
    if (complete[route.kind] !== true)
      return `fixture: route ${i + 1} has no complete answer or raise`;
  }
  return null;
}

/** Why the JS API cannot express the plan, or null. */
function unsupported(plan) {
  for (const key of Object.keys(plan.config)) {
    if (!Object.prototype.hasOwnProperty.call(CONFIG_FIELDS, key)) {
      return `config key ${JSON.stringify(key)}: ServerConfig has no such field`;
    }
  }
  for (const route of plan.routes) {
    for (const key of Object.keys(route.doc)) {
      if (
        key !== 'method' &&
        key !== 'path' &&
        !Object.prototype.hasOwnProperty.call(ROUTE_OPTIONS, key)
      ) {
        return `route key ${JSON.stringify(key)}: registerRoute takes no such option`;
      }
      if (
        (route.kind === 'sse' || route.kind === 'websocket') &&
        key !== 'method' &&
        key !== 'path' &&
        key !== 'cors'
      ) {
        return `route key ${JSON.stringify(key)}: app.${route.kind} takes no raw schemas`;
      }
    }
    if ((route.kind === 'sse' || route.kind === 'websocket') && route.doc.method !== 'GET') {
      return `app.${route.kind} serves GET only`;
    }
  }
  return null;
}

function handlerFor(route, plan) {
  if (route.kind === 'raise') {
    return () => {
      throw new Error('fixture: the plan says this handler fails');
    };
  }
  if (route.kind === 'record') {
    const key = route.key;
    return () =>
      new Response(Buffer.from(JSON.stringify({ [key]: plan.recorded })), {
        headers: { 'content-type': 'application/json' },
      });
  }
  const { status, headers, body } = route;
  if (route.kind === 'file') {
    const { path: filePath, filename } = route;
    return () => new FileResponse(filePath, { status, headers, filename });
  }
  if (route.kind === 'stream') {
    const chunks = route.items;
    async function* produce() {
      for (const chunk of chunks) yield chunk;
    }
    return () => new StreamingResponse(produce(), { status, headers });
  }
  const field = route.background;
  if (route.delayMs !== null) {
    const ms = route.delayMs;
    // A slow handler; it stops waiting when the exchange ends (request_timeout).
    return (req) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(new Response(body, { status, headers })), ms);
        req.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(new Response(body, { status, headers }));
        });
      });
  }
  return (req) => {
    if (field !== null) {
      const sent = req.body;
      const value =
        sent !== null && typeof sent === 'object' && !Buffer.isBuffer(sent) ? sent[field] : null;
      req.background(() => {
        plan.recorded.push(value === undefined ? null : value);
      });
    }
    return new Response(body, { status, headers });
  };
}

/** What a generic factory makes: a new instance with its own id. */
class Instance {
  constructor(plan) {
    plan.made += 1; // ids count the app's instances: the same in every language
    this.id = `00000000-0000-4000-8000-${String(plan.made).padStart(12, '0')}`;
  }
}

/** A `dependency` line's generic factory (PROTOCOL.md): makes an Instance;
 *  async for `async`; with `cleanup` a generator recording "<key> opened" as
 *  it makes one and "<key> closed" in its cleanup. */
function factoryFor(spec, plan) {
  const key = spec.key;
  if (spec.cleanup && spec.async) {
    return async function* openedAsync() {
      const made = new Instance(plan);
      plan.recorded.push(`${key} opened`);
      yield made;
      plan.recorded.push(`${key} closed`);
    };
  }
  if (spec.cleanup) {
    return function* opened() {
      const made = new Instance(plan);
      plan.recorded.push(`${key} opened`);
      yield made;
      plan.recorded.push(`${key} closed`);
    };
  }
  if (spec.async) return async () => new Instance(plan);
  return () => new Instance(plan);
}

/** Give the app the plan's dependencies, by name. */
function provide(app, plan) {
  for (const spec of plan.dependencies) {
    if (spec.kind === 'value') app.provide(spec.key, spec.value);
    else
      app.provide(
        spec.key,
        new Provide(factoryFor(spec, plan), {
          dependsOn: spec.depends_on || [],
          singleton: Boolean(spec.singleton),
        }),
      );
  }
}

/** body (JSON) with its placeholder strings, in document order, replaced by
 *  the ids of the Instances among values, in order. */
function filled(body, values) {
  const ids = values.filter((v) => v instanceof Instance).map((v) => v.id);
  let next = 0;
  const fill = (value) => {
    if (typeof value === 'string' && value.startsWith('<<') && value.endsWith('>>')) {
      return next < ids.length ? ids[next++] : value;
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    }
    return value;
  };
  return Buffer.from(JSON.stringify(fill(JSON.parse(body.toString('utf8')))));
}

/** An `inject` route's handler: asks the framework for each dependency in
 *  order (`req.dep`), then answers the plan's answer with its placeholders
 *  filled. */
function injectingHandler(route) {
  const { status, headers, body, inject } = route;
  const holes = body.includes('<<');
  return async (req) => {
    const values = [];
    for (const key of inject) values.push(await req.dep(key));
    return new Response(holes ? filled(body, values) : body, { status, headers });
  };
}

/** An sse route's producer: each event's data decoded from JSON, so the
 * framework encodes it, with the event's other fields. */
function eventsFor(route) {
  const events = route.items.map((data, i) => [JSON.parse(data.toString('utf8')), route.fields[i]]);
  return async function* produce() {
    for (const [data, meta] of events) {
      yield Object.keys(meta).length > 0 ? new SseEvent({ data, ...meta }) : data;
    }
  };
}

/** A websocket route's handler: send the plan's messages, then echo. */
function socketFor(route) {
  const sends = route.items.map((m) => m.toString('utf8'));
  return async (ws) => {
    await ws.accept();
    for (const message of sends) await ws.sendText(message);
    for await (const message of ws) await ws.send(message);
  };
}

/** The app method of each hook phase. */
const HOOK_METHODS = {
  on_request: 'onRequest',
  pre_validation: 'preValidation',
  pre_handler: 'preHandler',
  on_response: 'onResponse',
  on_error: 'onError',
};
const REQUEST_PHASES = ['on_request', 'pre_validation', 'pre_handler'];

/** One generic hook of a plan's `hook` line (PROTOCOL.md): what a user writes,
 *  parameterised by the plan, never by what the runner checks. */
function hookFor(spec) {
  const json = (status, body) =>
    new Response(body, { status, headers: { 'content-type': 'application/json' } });
  if (spec.kind === 'set_header' && REQUEST_PHASES.includes(spec.phase)) {
    return (req) => {
      req.headers[spec.name.toLowerCase()] = spec.value;
      return req;
    };
  }
  if (spec.kind === 'set_header') return (res) => res.setHeader(spec.name, spec.value);
  if (spec.kind === 'require_header') {
    return async (req) =>
      spec.name.toLowerCase() in req.headers ? req : json(spec.status, spec.body);
  }
  if (spec.kind === 'echo_request') {
    return (req) =>
      json(spec.status, {
        params: req.params,
        header: req.headers[spec.header.toLowerCase()] ?? null,
      });
  }
  return () => json(spec.status, spec.body);
}

async function build(plan) {
  const config = { quiet: true };
  for (const [key, value] of Object.entries(plan.config)) {
    const fields = MIDDLEWARE_FIELDS[key];
    config[CONFIG_FIELDS[key]] =
      fields !== undefined
        ? Array.isArray(value)
          ? value.map((v) => camelObject(fields, v))
          : camelObject(fields, value)
        : key === 'cors'
          ? corsConfig(value)
          : OBJECT_FIELDS.has(key) && value !== null && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), v]))
            : value;
  }
  for (const [key, fields] of Object.entries(CONFIG_OBJECTS)) {
    const value = plan.config[key];
    if (value === undefined) continue;
    config[CONFIG_FIELDS[key]] = Object.fromEntries(
      Object.entries(value).map(([k, v]) => [fields[k] || k, v]),
    );
  }
  const app = new Spikard(config);
  for (const spec of plan.hooks) app[HOOK_METHODS[spec.phase]](hookFor(spec));
  provide(app, plan);
  for (const route of plan.routes) {
    const options = {};
    for (const [key, option] of Object.entries(ROUTE_OPTIONS)) {
      if (key in route.doc)
        options[option] = key === 'cors' ? corsConfig(route.doc[key]) : route.doc[key];
    }
    const cors = options.cors === undefined ? {} : { cors: options.cors };
    if (route.kind === 'sse') app.sse(route.doc.path, cors, eventsFor(route));
    else if (route.kind === 'websocket')
      app.websocket(route.doc.path, socketFor(route), {
        connection: true,
        ...(route.schema === undefined ? {} : { message: route.schema }),
        ...cors,
      });
    else if (route.inject !== null)
      app.registerRoute(route.doc.method, route.doc.path, options, injectingHandler(route));
    else app.registerRoute(route.doc.method, route.doc.path, options, handlerFor(route, plan));
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

function oneLine(text) {
  return String(text).split(/\r?\n/).join(' ') || '(no message)';
}

async function serve(input, reply) {
  let plan = newPlan();
  let running = null;
  for (;;) {
    const line = await input.line();
    if (line === null) break;
    if (line === 'case' || line.startsWith('case ')) {
      plan = newPlan(line.slice(5));
    } else if (line === 'serve') {
      if (running !== null) {
        await running.close();
        running = null;
      }
      const why = check(plan);
      const reason = why === null ? unsupported(plan) : null;
      if (why !== null) {
        reply(`error ${oneLine(why)}`);
      } else if (reason !== null) {
        reply(`unsupported ${oneLine(reason)}`);
      } else {
        try {
          running = await build(plan);
          reply(`listening ${running.port}`);
        } catch (err) {
          console.error(`server.js: ${plan.name}:`, err);
          reply(`error ${oneLine(`${err.name}: ${err.message}`)}`);
        }
      }
      plan = newPlan();
    } else if (line === 'stop') {
      if (running !== null) {
        await running.close();
        running = null;
      }
      reply('stopped');
    } else {
      await readPlanLine(line, input, plan);
    }
  }
  if (running !== null) await running.close();
}

async function main() {
  // stdout is the protocol's: everything else printed goes to stderr.
  console.log = console.error;
  console.info = console.error;
  const reply = (text) => fs.writeSync(1, `${text}\n`);
  reply(`spikard-fixture ${PROTOCOL_VERSION} ${LANGUAGE}`);
  try {
    await serve(new Input(process.stdin), reply);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    console.error(`server.js: ${err.message}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
