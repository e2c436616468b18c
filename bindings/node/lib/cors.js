'use strict';
// CORS policies: the JS object of the config's `cors` and of a route's
// `cors` option, checked where the user wrote it and turned into the core's
// "cors" document (include/spikard.h). The core does the CORS work itself:
// preflights, 403s, the Access-Control-* headers and Vary: Origin.

const native = require('./native');

/** The policy's camelCase fields and the core's keys. */
const CORS_FIELDS = {
  allowOrigins: 'allow_origins',
  allowMethods: 'allow_methods',
  allowHeaders: 'allow_headers',
  allowCredentials: 'allow_credentials',
  exposeHeaders: 'expose_headers',
  maxAge: 'max_age',
  allowPrivateNetwork: 'allow_private_network',
};
const CORE_TO_FIELD = Object.fromEntries(Object.entries(CORS_FIELDS).map(([f, k]) => [k, f]));

function show(value) {
  if (value instanceof RegExp) return String(value);
  if (Array.isArray(value)) return `[${value.map(show).join(',')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/**
 * The core document of a policy `value`, written at `where` (for messages:
 * "ServerConfig.cors", "GET /items cors"). A route may pass `false` (no
 * CORS on the route). RegExps in `allowOrigins` become {"regex": source}
 * patterns, which the core runs as RE2 (no lookarounds or backreferences;
 * flags are refused). `maxAge: null` sends no Access-Control-Max-Age.
 * Unknown fields and wrong JS types are a TypeError; values the core
 * refuses a RangeError, in the core's words.
 */
function corsDocument(value, where, routeLevel = false) {
  if (routeLevel && value === false) return false;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `${where}=${show(value)}: expected a CORS policy object { allowOrigins, ... }${routeLevel ? ' or false' : ''}`,
    );
  }
  const doc = {};
  for (const [field, v] of Object.entries(value)) {
    if (!Object.prototype.hasOwnProperty.call(CORS_FIELDS, field)) {
      throw new TypeError(
        `${where}: unknown field ${JSON.stringify(field)}; expected one of ${Object.keys(CORS_FIELDS).join(', ')}`,
      );
    }
    if (v === undefined) continue;
    if (field === 'allowOrigins') {
      if (!Array.isArray(v))
        throw new TypeError(`${where}.allowOrigins=${show(v)}: must be an array`);
      doc.allow_origins = v.map((o) => {
        if (!(o instanceof RegExp)) return o;
        if (o.flags !== '') {
          throw new RangeError(`${where}.allowOrigins: ${o} has flags; patterns take none`);
        }
        return { regex: o.source };
      });
    } else if (field === 'maxAge' && v === null) {
      doc.max_age = -1;
    } else {
      doc[CORS_FIELDS[field]] = v;
    }
  }
  try {
    native.checkConfig(JSON.stringify({ cors: doc }));
  } catch (err) {
    const reason = String(err && err.message).replace('config: "cors": ', '');
    const m = /^"(\w+)": ([\s\S]*)$/.exec(reason);
    if (m && CORE_TO_FIELD[m[1]]) {
      const field = CORE_TO_FIELD[m[1]];
      throw new RangeError(`${where}.${field}=${show(value[field])}: ${m[2]}`, { cause: err });
    }
    throw new RangeError(`${where}: ${reason}`, { cause: err });
  }
  return doc;
}

module.exports = { corsDocument };
