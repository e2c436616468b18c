'use strict';
// ServerConfig: the JS object of `new Spikard(config)`, checked field by field
// by the core (spikard_config_check) where the user wrote it, and turned into
// the configuration document of spikard_app_new.

const native = require('./native');
const { corsDocument } = require('./cors');
const { MIDDLEWARE } = require('./middleware');
const { GUARDS, guardDoc } = require('./guards');

/**
 * The config fields, camelCase in JS, with the core's snake_case key and the
 * JS type a value must have (a value of the right type the core still refuses
 * is a RangeError). Keys Python's ServerConfig sends too; besides
 * them, `workers` (below) is the binding's.
 */
const FIELDS = {
  host: ['host', 'string'],
  port: ['port', 'number'],
  maxBodySize: ['max_body_size', 'number'],
  maxJsonDepth: ['max_json_depth', 'number'],
  maxUriLength: ['max_uri_length', 'number'],
  maxHeaderSize: ['max_header_size', 'number'],
  maxHeaderCount: ['max_header_count', 'number'],
  headerTimeout: ['header_timeout', 'number'],
  requestTimeout: ['request_timeout', 'number'],
  readTimeout: ['read_timeout', 'number'],
  shutdownTimeout: ['shutdown_timeout', 'number'],
  accessLog: ['access_log', 'boolean'],
  quiet: ['quiet', 'boolean'],
  reusePort: ['reuse_port', 'boolean'],
  schedBatch: ['sched_batch', 'boolean'],
  streamQueueBytes: ['stream_queue_bytes', 'number'],
  sseKeepalive: ['sse_keepalive', 'number'],
  wsMaxMessageSize: ['ws_max_message_size', 'number'],
  wsInboundBytes: ['ws_inbound_bytes', 'number'],
  wsPingInterval: ['ws_ping_interval', 'number'],
  wsOrigins: ['ws_origins', 'object'],
  broadcast: ['broadcast', 'object'],
  // Request ids and CORS (lib/cors.js); the core does the work.
  requestId: ['request_id', 'boolean'],
  cors: ['cors', 'object'],
  openapi: ['openapi', 'object'],
  // Guards (lib/guards.js): camelCase objects, sent as the core's keys.
  jwtAuth: ['jwt_auth', 'object'],
  apiKeyAuth: ['api_key_auth', 'object'],
  rateLimit: ['rate_limit', 'object'],
};

/** The `openapi` object's camelCase fields and the core's keys (include/spikard.h). */
const OPENAPI_FIELDS = {
  enabled: 'enabled',
  title: 'title',
  version: 'version',
  description: 'description',
  swaggerUiPath: 'swagger_ui_path',
  redocPath: 'redoc_path',
  openapiPath: 'openapi_path',
};

/**
 * The core's "openapi" object of the JS one: camelCase fields to snake_case,
 * `null` page paths to "" (no page). Each field is asked of the core alone,
 * so that a refusal names it (`ServerConfig.openapi.title="": must be a
 * non-empty string`), then the whole object.
 */
function openapiDoc(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `ServerConfig.openapi=${show(value)}: expected an object { enabled, title, version, description, swaggerUiPath, redocPath, openapiPath }`,
    );
  }
  const doc = {};
  for (const [field, v] of Object.entries(value)) {
    if (!Object.prototype.hasOwnProperty.call(OPENAPI_FIELDS, field)) {
      throw new TypeError(
        `ServerConfig.openapi: unknown field ${JSON.stringify(field)}; expected one of ${Object.keys(OPENAPI_FIELDS).join(', ')}`,
      );
    }
    if (v === undefined) continue;
    const key = OPENAPI_FIELDS[field];
    const one = v === null && (field === 'swaggerUiPath' || field === 'redocPath') ? '' : v;
    try {
      native.checkConfig(JSON.stringify({ openapi: { [key]: one } }));
    } catch (err) {
      const reason = String(err && err.message)
        .replace('config: "openapi": ', '')
        .replace(`"${key}": `, '')
        .replace('or "" for no page', 'or null for no page');
      const Kind =
        typeof v === (field === 'enabled' ? 'boolean' : 'string') ? RangeError : TypeError;
      throw new Kind(`ServerConfig.openapi.${field}=${show(v)}: ${reason}`);
    }
    doc[key] = one;
  }
  try {
    native.checkConfig(JSON.stringify({ openapi: doc }));
  } catch (err) {
    const reason = String(err && err.message).replace('config: "openapi": ', '');
    throw new RangeError(`ServerConfig.openapi: ${reason}`, { cause: err });
  }
  return doc;
}

/** `workers` is never in the app's document: it is spikard_supervise's
 *  (include/spikard.h, Workers and signals), so the core's supervisor judges
 *  it, in the same words for every binding. */
function checkWorkers(value) {
  try {
    native.checkSupervise(JSON.stringify({ workers: value }));
  } catch (err) {
    const reason = String(err && err.message).replace('supervise: "workers": ', '');
    const Kind = typeof value === 'number' ? RangeError : TypeError;
    throw new Kind(`ServerConfig.workers=${show(value)}: ${reason}`);
  }
}

/** The core's snake_case key of a camelCase field, or undefined. */
function coreKey(field) {
  return Object.prototype.hasOwnProperty.call(FIELDS, field) ? FIELDS[field][0] : undefined;
}

function show(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value !== null && typeof value === 'object') {
    try {
      return JSON.stringify(value); // the origins list, the broadcast object
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/**
 * A checked copy of `config`: unknown fields are a TypeError; each value is
 * asked of the core in a one-key document, and a refusal is a TypeError
 * (wrong JS type) or a RangeError (right type, outside the rule) with the
 * core's words: `ServerConfig.port=70000: must be an integer in 0..65535`.
 * `undefined` keeps the default; `null` is refused, as by the core.
 */
function checkConfig(config) {
  if (config === undefined || config === null) return {};
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new TypeError('ServerConfig: expected an object of settings');
  }
  const out = {};
  for (const [field, value] of Object.entries(config)) {
    if (field === 'workers') {
      if (value === undefined) continue;
      checkWorkers(value);
      out.workers = value;
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(MIDDLEWARE, field)) {
      // compression, staticFiles: objects of their own (middleware.js),
      // checked now and translated again for the app's document.
      if (value !== undefined) {
        MIDDLEWARE[field][1](value);
        out[field] = value;
      }
      continue;
    }
    if (field === 'logger') {
      if (value === undefined) continue;
      checkLogger(value);
      out.logger = value;
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(FIELDS, field)) {
      throw new TypeError(
        `ServerConfig: unknown field ${JSON.stringify(field)}; expected one of ${[...Object.keys(FIELDS), ...Object.keys(MIDDLEWARE), 'workers', 'logger'].join(', ')}`,
      );
    }
    if (value === undefined) continue;
    if (field === 'cors') {
      out.cors = corsDocument(value, 'ServerConfig.cors'); // the core's document from here on
      continue;
    }
    if (field === 'openapi') {
      openapiDoc(value);
      out.openapi = value;
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(GUARDS, field)) {
      out[field] = guardDoc('ServerConfig', field, value, false);
      continue;
    }
    const [key, type] = FIELDS[field];
    let doc;
    try {
      doc = JSON.stringify({ [key]: value });
    } catch {
      doc = undefined;
    }
    if (doc === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
      throw new TypeError(`ServerConfig.${field}=${show(value)}: not a JSON value`);
    }
    try {
      native.checkConfig(doc);
    } catch (err) {
      const reason = String(err && err.message).replace(`config: "${key}": `, '');
      const Kind = value !== null && typeof value === type ? RangeError : TypeError;
      throw new Kind(`ServerConfig.${field}=${show(value)}: ${reason}`);
    }
    out[field] = value;
  }
  return out;
}

/** The spikard_app_new document of a checked config (without `workers` and
 *  `logger`). With `logLane` the binding logs itself: the access lines come
 *  as SPIKARD_EVENT_LOG batches on that lane, and the core prints no
 *  "listening" line. */
function configJson(config, logLane) {
  const doc = {};
  for (const [field, value] of Object.entries(config)) {
    if (value === undefined || field === 'workers' || field === 'logger') continue;
    if (Object.prototype.hasOwnProperty.call(MIDDLEWARE, field))
      doc[MIDDLEWARE[field][0]] = MIDDLEWARE[field][1](value);
    else doc[FIELDS[field][0]] = field === 'openapi' ? openapiDoc(value) : value;
  }
  if (logLane !== undefined) {
    doc.access_log = doc.access_log === true ? { lane: logLane } : false;
    doc.quiet = true;
  }
  return JSON.stringify(doc);
}

/** `logger`: an object with an `info(message)` method (console, pino, ...), or
 *  false for none; the binding's own, never sent to the core. */
function checkLogger(value) {
  if (value === false) return;
  if (value === null || typeof value !== 'object' || typeof value.info !== 'function') {
    throw new TypeError(
      `ServerConfig.logger=${show(value)}: must be an object with an info(message) method (console, a pino logger) or false`,
    );
  }
}

module.exports = { FIELDS, checkConfig, configJson, coreKey };
