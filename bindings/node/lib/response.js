'use strict';
// Handler results -> answers [status, headers, body, flags] for app.respond.
//
// A plain return value: a string is text/plain; charset=utf-8, a Buffer or
// Uint8Array application/octet-stream, undefined and null JSON null, anything
// else JSON (application/json). A Response carries its own status and
// headers; its content is encoded by the same rules except that bytes get no
// content-type (the handler names one if it wants one), and no content
// sends an empty body. A ProblemError is rendered by the core
// (SPIKARD_RESPONSE_PROBLEM): the binding sends only its description.

const path = require('node:path');
const { encodeJson } = require('./json');
const native = require('./native');

const FILE_FLAG = native.constants.RESPONSE_FILE;

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const BYTES_TYPE = 'application/octet-stream';
const JSON_HEADERS = [['content-type', JSON_TYPE]];
const TEXT_HEADERS = [['content-type', TEXT_TYPE]];
const BYTES_HEADERS = [['content-type', BYTES_TYPE]];

/** Header pairs from an object, a Map, a fetch Headers or an array of pairs. */
function headerPairs(headers) {
  if (headers === undefined || headers === null) return [];
  const pairs = [];
  const iterable =
    typeof headers[Symbol.iterator] === 'function' ? headers : Object.entries(headers);
  for (const entry of iterable) {
    const [name, value] = entry;
    if (Array.isArray(value)) {
      for (const v of value) pairs.push([String(name), String(v)]);
    } else {
      pairs.push([String(name), String(value)]);
    }
  }
  return pairs;
}

function isBytes(value) {
  return value instanceof Uint8Array;
}

function toBuffer(bytes) {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An answer with an explicit status and headers. */
class Response {
  /**
   * @param content the body: a string, bytes, a JSON value, or undefined/null for none
   * @param init `{ status = 200, headers }`; headers as an object, a Map, a
   *   Headers or an array of [name, value] pairs (repeats allowed)
   */
  constructor(content, init = {}) {
    const { status = 200, headers } = init || {};
    this.content = content;
    this.status = status;
    this.headers = headerPairs(headers);
  }

  /** The first value of header `name` (any case), or undefined. */
  getHeader(name) {
    const lower = String(name).toLowerCase();
    const pair = this.headers.find(([n]) => n.toLowerCase() === lower);
    return pair === undefined ? undefined : pair[1];
  }

  /** Set header `name`, replacing every value it had (an onResponse hook's way to add one). */
  setHeader(name, value) {
    this.deleteHeader(name);
    this.headers.push([String(name), String(value)]);
    return this;
  }

  /** Remove header `name` (any case). */
  deleteHeader(name) {
    const lower = String(name).toLowerCase();
    this.headers = this.headers.filter(([n]) => n.toLowerCase() !== lower);
    return this;
  }

  /**
   * Set a cookie. The core writes the Set-Cookie header (spikard.h,
   * "spikard-cookie"), the same bytes as every binding's, and answers 500 for
   * a name that is no token or a value with a space, quote, comma, semicolon
   * or backslash. `options`: `{ maxAge (seconds), expires (Date or Unix
   * seconds), path = '/', domain, secure, httpOnly, sameSite = 'lax'
   * ('strict', 'lax', 'none' or null), partitioned }`.
   */
  setCookie(name, value = '', options = {}) {
    const o = options || {};
    const cookie = { name: String(name), value: String(value) };
    if (o.maxAge !== undefined && o.maxAge !== null) cookie.max_age = Math.trunc(o.maxAge);
    if (o.expires !== undefined && o.expires !== null) {
      cookie.expires =
        o.expires instanceof Date ? Math.floor(o.expires.getTime() / 1000) : Math.trunc(o.expires);
    }
    const path = o.path === undefined ? '/' : o.path;
    if (path) cookie.path = path;
    if (o.domain) cookie.domain = o.domain;
    if (o.secure) cookie.secure = true;
    if (o.httpOnly) cookie.httponly = true;
    const sameSite = o.sameSite === undefined ? 'lax' : o.sameSite;
    if (sameSite) cookie.samesite = sameSite;
    if (o.partitioned) cookie.partitioned = true;
    this.headers.push([COOKIE_HEADER, JSON.stringify(cookie)]);
    return this;
  }

  /** Tell the client to drop a cookie (path and domain must match the cookie's). */
  deleteCookie(name, options = {}) {
    return this.setCookie(name, '', { ...(options || {}), maxAge: 0, expires: 0 });
  }

  /** An HTML answer (text/html; charset=utf-8). */
  static html(content, init = {}) {
    return typed(content, init, 'text/html; charset=utf-8');
  }

  /** A plain-text answer (text/plain; charset=utf-8). */
  static text(content, init = {}) {
    return typed(content, init, TEXT_TYPE);
  }

  /** A redirect to `url`: status 307 by default (301, 302, 303, 308 too), no body. */
  static redirect(url, status = 307) {
    if (![301, 302, 303, 307, 308].includes(status)) {
      throw new RangeError(`Response.redirect: status ${status} is not a redirect`);
    }
    return new Response(undefined, { status, headers: [['location', String(url)]] });
  }
}

/** The response header the core renders as Set-Cookie (spikard.h). */
const COOKIE_HEADER = 'spikard-cookie';

function typed(content, init, type) {
  const res = new Response(String(content), init);
  if (res.getHeader('content-type') === undefined) res.headers.push(['content-type', type]);
  return res;
}

/**
 * An answer whose body is a file the core reads and sends itself
 * (SPIKARD_RESPONSE_FILE): ETag, Last-Modified, 304s and ranges for status
 * 200, the type of the extension unless `contentType` or a content-type
 * header says otherwise, and with `filename` a Content-Disposition
 * attachment the core encodes (RFC 6266, RFC 8187). A file that is not
 * there answers 500 and a log line naming it.
 */
class FileResponse extends Response {
  /**
   * @param filePath the file (relative: to the working directory now)
   * @param init `{ status = 200, headers, contentType, filename }`
   */
  constructor(filePath, init = {}) {
    const { status = 200, headers, contentType, filename } = init || {};
    if (typeof filePath !== 'string' || filePath === '' || filePath.includes('\0')) {
      throw new TypeError(
        `FileResponse.path=${JSON.stringify(filePath)}: must be a non-empty string without NUL`,
      );
    }
    if (
      !Number.isInteger(status) ||
      status < 200 ||
      status > 599 ||
      status === 204 ||
      status === 304
    ) {
      throw new RangeError(`FileResponse.status=${status}: must be 200..599 but 204 and 304`);
    }
    if (
      filename !== undefined &&
      (typeof filename !== 'string' || filename === '' || filename.includes('\0'))
    ) {
      throw new TypeError(
        `FileResponse.filename=${JSON.stringify(filename)}: must be a non-empty string without NUL`,
      );
    }
    super(undefined, { status, headers });
    if (contentType !== undefined && !hasContentType(this.headers)) {
      this.headers.push(['content-type', String(contentType)]);
    }
    this.path = path.resolve(filePath);
    this.filename = filename;
  }

  /** The body of SPIKARD_RESPONSE_FILE: the path, then NUL and the name. */
  payload() {
    return this.filename === undefined ? this.path : `${this.path}\0${this.filename}`;
  }
}

/** An error answer the core renders as its RFC 9457 problem document. */
class ProblemError extends Error {
  /**
   * @param status 400..599
   * @param detail the human-readable explanation (optional)
   * @param options `{ type, title, errors, headers }`: errors are entries
   *   `{ type, loc, msg, input?, ctx? }`; headers add to the answer (not
   *   content-type or content-length)
   */
  constructor(status, detail, options = {}) {
    super(detail === undefined ? `HTTP ${status}` : String(detail));
    this.name = 'ProblemError';
    this.status = status;
    this.detail = detail;
    const { type, title, errors, headers } = options || {};
    this.type = type;
    this.title = title;
    this.errors = errors;
    this.headers = headerPairs(headers);
  }

  /** The description the core renders (spikard.h SPIKARD_RESPONSE_PROBLEM). */
  toDescription() {
    const doc = {};
    if (this.detail !== undefined) doc.detail = String(this.detail);
    if (this.type !== undefined) doc.type = this.type;
    if (this.title !== undefined) doc.title = this.title;
    if (this.errors !== undefined) doc.errors = this.errors;
    return doc;
  }
}

/** An application's HTTP error, as Python's HTTPException: thrown anywhere
 *  (a handler, a hook), it becomes the core's problem document with this
 *  status and detail, and these headers. */
class HttpException extends ProblemError {
  constructor(status, detail, headers) {
    super(status, detail, { headers });
    this.name = 'HttpException';
  }
}

function hasContentType(pairs) {
  return pairs.some(([name]) => name.toLowerCase() === 'content-type');
}

/** [status, headers | null, body, flags] of a Response. */
function renderResponse(res) {
  if (res instanceof FileResponse) {
    return [res.status, res.headers.length > 0 ? res.headers : null, res.payload(), FILE_FLAG];
  }
  const headers = res.headers.slice();
  const content = res.content;
  let body;
  let type = null;
  if (content === undefined || content === null) {
    body = '';
  } else if (typeof content === 'string') {
    body = content;
    type = TEXT_TYPE;
  } else if (isBytes(content)) {
    body = toBuffer(content);
  } else {
    body = encodeJson(content);
    type = JSON_TYPE;
  }
  if (type !== null && !hasContentType(headers)) headers.push(['content-type', type]);
  return [res.status, headers.length > 0 ? headers : null, body, 0];
}

/** [status, headers | null, body, flags] of any handler result (see the file comment). */
function render(result, problemFlag) {
  if (typeof result === 'string') return [200, TEXT_HEADERS, result, 0];
  if (result === undefined || result === null) return [200, JSON_HEADERS, 'null', 0];
  if (result instanceof Response) return renderResponse(result);
  if (isBytes(result)) return [200, BYTES_HEADERS, toBuffer(result), 0];
  if (result instanceof ProblemError) return renderProblem(result, problemFlag);
  return [200, JSON_HEADERS, encodeJson(result), 0];
}

function renderProblem(err, problemFlag) {
  const headers = err.headers.length > 0 ? err.headers : null;
  return [err.status, headers, encodeJson(err.toDescription()), problemFlag];
}

/** Whether `value` is a WHATWG fetch Response (read asynchronously). */
function isFetchResponse(value) {
  return typeof globalThis.Response === 'function' && value instanceof globalThis.Response;
}

/** A fetch Response as a Response of this package, once its body is read. */
async function fromFetchResponse(res) {
  const body = Buffer.from(await res.arrayBuffer());
  return new Response(body, { status: res.status, headers: [...res.headers] });
}

module.exports = {
  FileResponse,
  HttpException,
  ProblemError,
  Response,
  headerPairs,
  isFetchResponse,
  render,
  fromFetchResponse,
  renderProblem,
};
