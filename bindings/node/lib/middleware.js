'use strict';
// The middleware fields of the Spikard config whose values are objects of
// their own: `compression` and `staticFiles`. Each is translated to the
// core's document (camelCase -> snake_case) and judged by the core
// (spikard_config_check) key by key, so a refusal names the field in the
// core's words: `ServerConfig.compression.quality=12: must be an integer in
// 0..11`, `ServerConfig.staticFiles[0].directory="./nope": ...`.

const path = require('node:path');
const native = require('./native');

const COMPRESSION = {
  gzip: 'gzip',
  brotli: 'brotli',
  zstd: 'zstd',
  minSize: 'min_size',
  quality: 'quality',
};

const STATIC = {
  directory: 'directory',
  routePrefix: 'route_prefix',
  indexFile: 'index_file',
  cacheControl: 'cache_control',
};

function show(value) {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function kindOf(value, expected) {
  return value !== null && typeof value === expected ? RangeError : TypeError;
}

function expectObject(where, value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where}=${show(value)}: must be an object`);
  }
}

/** Checks one key of a middleware object with the core. */
function ask(doc, strip, where, value, expected) {
  try {
    native.checkConfig(JSON.stringify(doc));
  } catch (err) {
    const message = String(err && err.message);
    const reason = message.startsWith(strip) ? message.slice(strip.length) : message;
    throw new (kindOf(value, expected))(`${where}=${show(value)}: ${reason}`, { cause: err });
  }
}

const TYPES = {
  gzip: 'boolean',
  brotli: 'boolean',
  zstd: 'boolean',
  minSize: 'number',
  quality: 'number',
  directory: 'string',
  routePrefix: 'string',
  indexFile: 'boolean',
  cacheControl: 'string',
};

/** The core's "compression" object of a checked `compression` field. */
function checkCompression(value) {
  expectObject('ServerConfig.compression', value);
  const doc = {};
  for (const [field, v] of Object.entries(value)) {
    const key = COMPRESSION[field];
    if (key === undefined) {
      throw new TypeError(
        `ServerConfig.compression: unknown field ${JSON.stringify(field)}; expected one of ${Object.keys(COMPRESSION).join(', ')}`,
      );
    }
    if (v === undefined) continue;
    ask(
      { compression: { [key]: v } },
      `config: "compression": "${key}": `,
      `ServerConfig.compression.${field}`,
      v,
      TYPES[field],
    );
    doc[key] = v;
  }
  return doc;
}

/** The core's "static_files" list of a checked `staticFiles` field. */
function checkStaticFiles(value) {
  if (!Array.isArray(value)) {
    throw new TypeError(`ServerConfig.staticFiles=${show(value)}: must be an array of mounts`);
  }
  const docs = value.map((mount, i) => {
    const where = `ServerConfig.staticFiles[${i}]`;
    expectObject(where, mount);
    const doc = {};
    for (const [field, v] of Object.entries(mount)) {
      const key = STATIC[field];
      if (key === undefined) {
        throw new TypeError(
          `${where}: unknown field ${JSON.stringify(field)}; expected one of ${Object.keys(STATIC).join(', ')}`,
        );
      }
      if (v === undefined) continue;
      // A relative directory is the working directory's now, not at listen().
      doc[key] = field === 'directory' && typeof v === 'string' ? path.resolve(v) : v;
    }
    for (const required of ['directory', 'routePrefix']) {
      if (doc[STATIC[required]] === undefined) {
        throw new TypeError(`${where}.${required}: required`);
      }
    }
    try {
      native.checkConfig(JSON.stringify({ static_files: [doc] }));
    } catch (err) {
      const message = String(err && err.message);
      const m = /^config: "static_files": \[0\]: "(\w+)":? (.*)$/s.exec(message);
      const field = m ? Object.keys(STATIC).find((f) => STATIC[f] === m[1]) : undefined;
      if (field === undefined) throw new TypeError(`${where}: ${message}`, { cause: err });
      const v = mount[field];
      throw new (kindOf(v, TYPES[field]))(`${where}.${field}=${show(v)}: ${m[2]}`, { cause: err });
    }
    return doc;
  });
  const prefixes = docs.map((d) =>
    d.route_prefix.length > 1 ? d.route_prefix.replace(/\/$/, '') : '/',
  );
  prefixes.forEach((p, i) => {
    if (prefixes.indexOf(p) !== i) {
      throw new RangeError(`ServerConfig.staticFiles[${i}].routePrefix=${show(p)}: mounted twice`);
    }
  });
  return docs;
}

/** The config fields handled here: field -> [core key, checker]. */
const MIDDLEWARE = {
  compression: ['compression', checkCompression],
  staticFiles: ['static_files', checkStaticFiles],
};

module.exports = { MIDDLEWARE };
