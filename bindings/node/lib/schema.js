'use strict';
// Route schemas: the `{ params, query, headers, cookies, body, response }` of a
// route method (JSON Schema objects, or Zod 4 schemas through Zod's own JSON
// Schema export) turned into the route document of spikard_app_add_route.
//
// The four parameter groups are object schemas; their properties are merged
// into one "parameter_schema", each tagged with its "source", and their
// "required" lists are kept. A path placeholder no `params` property
// declares is added as a required string ({name:int}: integer, {name:uuid}:
// a uuid string), so that the core extracts it. The core extracts, coerces
// and validates; the binding only splits the validated object back by group.

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'];
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?\}/g;

/** Parameter group of a route's schemas -> [core "source", request field]. */
const GROUPS = {
  params: ['path', 'params'],
  query: ['query', 'query'],
  headers: ['header', 'headers'],
  cookies: ['cookie', 'cookies'],
};
/** A parameter_schema property's "source" -> the request field it lands in. */
const FIELD_OF_SOURCE = { path: 'params', query: 'query', header: 'headers', cookie: 'cookies' };

function upperMethod(method) {
  const upper = String(method).toUpperCase();
  if (!METHODS.includes(upper)) {
    throw new TypeError(
      `unsupported HTTP method ${JSON.stringify(method)}; expected one of ${METHODS.join(', ')}`,
    );
  }
  return upper;
}

function isZod(schema) {
  return (
    typeof schema.toJSONSchema === 'function' || (schema._zod !== undefined && schema._zod !== null)
  );
}

/**
 * A JSON Schema object from a JSON Schema object or a Zod 4 schema (its own
 * `toJSONSchema()` method, else `z.toJSONSchema` of the zod package the
 * application has installed). `$schema` is dropped: the core has one dialect.
 */
function toJsonSchema(schema, what) {
  if (schema === undefined || schema === null) return undefined;
  if (typeof schema !== 'object' || Array.isArray(schema)) {
    throw new TypeError(`${what}: expected a JSON Schema object or a Zod schema`);
  }
  let out = schema;
  if (isZod(schema)) {
    if (typeof schema.toJSONSchema === 'function') {
      out = schema.toJSONSchema();
    } else {
      let zod;
      try {
        zod = require('zod');
      } catch {
        throw new TypeError(
          `${what}: a Zod schema needs the zod package (or pass z.toJSONSchema(schema))`,
        );
      }
      out = zod.toJSONSchema(schema);
    }
  }
  if (Object.prototype.hasOwnProperty.call(out, '$schema')) {
    out = { ...out };
    delete out.$schema;
  }
  return out;
}

function placeholderSchema(kind) {
  if (kind === 'int') return { type: 'integer' };
  if (kind === 'uuid') return { type: 'string', format: 'uuid' };
  return { type: 'string' };
}

/**
 * The route document and the request plan of a route method call:
 * `{ doc, fields, hasBody }`, where `fields` maps each parameter name to the
 * request field (`params`, `query`, `headers`, `cookies`) it lands in.
 */
function compileSchemas(method, path, schemas) {
  if (schemas === undefined || schemas === null) schemas = {};
  if (typeof schemas !== 'object') {
    throw new TypeError(
      `${method} ${path}: schemas must be an object { params, query, headers, cookies, body, response }`,
    );
  }
  for (const key of Object.keys(schemas)) {
    if (
      !['params', 'query', 'headers', 'cookies', 'body', 'response'].includes(key) &&
      !Object.prototype.hasOwnProperty.call(DOC_OPTIONS, key)
    ) {
      throw new TypeError(`${method} ${path}: unknown schema group ${JSON.stringify(key)}`);
    }
  }
  const properties = {};
  const required = [];
  const fields = {};
  for (const [group, [source, field]] of Object.entries(GROUPS)) {
    const schema = toJsonSchema(schemas[group], `${method} ${path} ${group}`);
    if (schema === undefined) continue;
    if (schema.type !== undefined && schema.type !== 'object') {
      throw new TypeError(
        `${method} ${path} ${group}: expected an object schema, got type ${JSON.stringify(schema.type)}`,
      );
    }
    for (const [name, prop] of Object.entries(schema.properties || {})) {
      if (Object.prototype.hasOwnProperty.call(properties, name)) {
        throw new TypeError(
          `${method} ${path}: parameter ${JSON.stringify(name)} is declared in two groups`,
        );
      }
      properties[name] = { ...prop, source };
      fields[name] = field;
    }
    for (const name of schema.required || []) required.push(name);
  }
  // A path parameter is always there when the route matches: required.
  for (const match of path.matchAll(PLACEHOLDER)) {
    const name = match[1];
    if (!Object.prototype.hasOwnProperty.call(properties, name)) {
      properties[name] = { ...placeholderSchema(match[2]), source: 'path' };
      fields[name] = 'params';
    }
    if (!required.includes(name)) required.push(name);
  }
  const doc = {};
  if (Object.keys(properties).length > 0) {
    doc.parameter_schema = { type: 'object', properties };
    if (required.length > 0) doc.parameter_schema.required = required;
  }
  const body = toJsonSchema(schemas.body, `${method} ${path} body`);
  if (body !== undefined) doc.body_schema = body;
  const response = toJsonSchema(schemas.response, `${method} ${path} response`);
  if (response !== undefined) doc.response_schema = response;
  Object.assign(doc, docKeys(method, path, schemas));
  return { doc, fields, hasBody: body !== undefined };
}

/** Route options only the OpenAPI document reads -> the route document's keys. */
const DOC_OPTIONS = {
  summary: 'summary',
  description: 'description',
  tags: 'tags',
  operationId: 'operation_id',
  statusCode: 'status_code',
};

/**
 * The route document's OpenAPI keys of a route's options (`summary`,
 * `description`, `tags`, `operationId`, `statusCode`), checked here so that a
 * mistake names the option where the route is registered.
 */
function docKeys(method, path, options) {
  const out = {};
  for (const [option, key] of Object.entries(DOC_OPTIONS)) {
    const value = options[option];
    if (value === undefined) continue;
    const where = `${method} ${path}: ${option}=${JSON.stringify(value)}`;
    if (option === 'tags') {
      if (!Array.isArray(value) || !value.every((t) => typeof t === 'string' && t !== '')) {
        throw new TypeError(`${where}: must be an array of non-empty strings`);
      }
      if (new Set(value).size !== value.length) throw new RangeError(`${where}: lists a tag twice`);
      out.tags = [...value];
    } else if (option === 'statusCode') {
      if (!Number.isInteger(value) || value < 100 || value > 599) {
        throw new RangeError(`${where}: must be an integer in 100..599`);
      }
      if (value !== 200) out.status_code = value;
    } else {
      if (typeof value !== 'string' || (option === 'operationId' && value === '')) {
        throw new TypeError(
          `${where}: must be a${option === 'operationId' ? ' non-empty' : ''} string`,
        );
      }
      out[key] = value;
    }
  }
  return out;
}

/**
 * The same for `registerRoute`'s raw schemas (`parameterSchema` properties
 * already carry their "source").
 */
function compileRaw(method, path, options) {
  if (options === undefined || options === null) options = {};
  const known = [
    'parameterSchema',
    'bodySchema',
    'responseSchema',
    'fileParams',
    ...Object.keys(DOC_OPTIONS),
  ];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${method} ${path}: unknown registerRoute option ${JSON.stringify(key)}; expected ${known.join(', ')}`,
      );
    }
  }
  const doc = {};
  const fields = {};
  const params = toJsonSchema(options.parameterSchema, `${method} ${path} parameterSchema`);
  if (params !== undefined) {
    doc.parameter_schema = params;
    for (const [name, prop] of Object.entries(params.properties || {})) {
      fields[name] = FIELD_OF_SOURCE[prop && prop.source] || 'params';
    }
  }
  const body = toJsonSchema(options.bodySchema, `${method} ${path} bodySchema`);
  if (body !== undefined) doc.body_schema = body;
  const response = toJsonSchema(options.responseSchema, `${method} ${path} responseSchema`);
  if (response !== undefined) doc.response_schema = response;
  if (options.fileParams !== undefined) doc.file_params = options.fileParams;
  Object.assign(doc, docKeys(method, path, options));
  return { doc, fields, hasBody: body !== undefined || options.fileParams !== undefined };
}

/** Whether a body schema declares a top-level file field ("format": "binary"). */
function declaresFiles(doc) {
  if (doc.file_params !== undefined) return true;
  const props = (doc.body_schema && doc.body_schema.properties) || {};
  return Object.values(props).some((prop) => {
    if (!prop || typeof prop !== 'object') return false;
    const item = prop.type === 'array' ? prop.items : prop;
    return Boolean(item) && item.format === 'binary';
  });
}

module.exports = { METHODS, compileRaw, compileSchemas, declaresFiles, toJsonSchema, upperMethod };
