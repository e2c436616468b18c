'use strict';
// The options of the core's guards (include/spikard.h: "jwt_auth",
// "api_key_auth", "rate_limit"): camelCase objects in JS, turned into the
// core's snake_case keys and checked by the core where the user wrote them.
// The same objects (or false) are a route's own `jwtAuth`, `apiKeyAuth` and
// `rateLimit` options.

const native = require('./native');

/** Each guard's core key and its fields: camelCase name -> snake_case key. */
const GUARDS = {
  jwtAuth: [
    'jwt_auth',
    {
      secret: 'secret',
      algorithm: 'algorithm',
      algorithms: 'algorithms',
      audience: 'audience',
      issuer: 'issuer',
      leeway: 'leeway',
      publicKey: 'public_key',
      publicKeyFile: 'public_key_file',
      jwksFile: 'jwks_file',
      requireExp: 'require_exp',
      realm: 'realm',
    },
  ],
  apiKeyAuth: [
    'api_key_auth',
    {
      keys: 'keys',
      deprecatedKeys: 'deprecated_keys',
      headerName: 'header_name',
      queryParam: 'query_param',
    },
  ],
  rateLimit: [
    'rate_limit',
    {
      perSecond: 'per_second',
      burst: 'burst',
      ipBased: 'ip_based',
      keyBy: 'key_by',
      trustedProxies: 'trusted_proxies',
      redisUrl: 'redis_url',
      redisPrefix: 'redis_prefix',
      redisTimeout: 'redis_timeout',
      failOpen: 'fail_open',
    },
  ],
};

function show(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * The core's object for guard `name` (jwtAuth, apiKeyAuth, rateLimit) given
 * as `value`, checked by the core. `where` prefixes errors ("ServerConfig"
 * or "GET /health"). A field the core faults is named in camelCase:
 * `ServerConfig.jwtAuth.secret: is required for HS256`. `false` is allowed
 * where `allowFalse` (a route turning the app's guard off).
 */
function guardDoc(where, name, value, allowFalse) {
  const [key, fields] = GUARDS[name];
  if (value === false && allowFalse) return false;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `${where}.${name}=${show(value)}: must be an object${allowFalse ? ' or false' : ''}`,
    );
  }
  const doc = {};
  for (const [field, v] of Object.entries(value)) {
    if (!Object.prototype.hasOwnProperty.call(fields, field)) {
      throw new TypeError(
        `${where}.${name}: unknown field ${JSON.stringify(field)}; expected one of ${Object.keys(fields).join(', ')}`,
      );
    }
    if (v === undefined) continue;
    if (name === 'apiKeyAuth' && field === 'queryParam' && v === null) {
      doc.query_param_off = true; // null: keys are never read from the query
      continue;
    }
    doc[fields[field]] = typeof v === 'string' && field === 'audience' ? [v] : v;
  }
  try {
    native.checkConfig(JSON.stringify({ [key]: doc }));
  } catch (err) {
    let reason = String(err && err.message).replace(`config: "${key}": `, '');
    const m = reason.match(new RegExp(`\\b${key}\\.(\\w+)(?:\\[\\d+\\])?:? |^"(\\w+)" `));
    const snake = m && (m[1] || m[2]);
    const camel = Object.keys(fields).find((f) => fields[f] === snake);
    if (camel !== undefined) {
      reason = reason.replace(m[0], '');
      throw new RangeError(`${where}.${name}.${camel}=${show(value[camel])}: ${reason}`, {
        cause: err,
      });
    }
    throw new RangeError(`${where}.${name}: ${reason}`, { cause: err });
  }
  return doc;
}

module.exports = { GUARDS, guardDoc };
