'use strict';
// Errors that name the culprit: where a route was registered, and the
// listener the core could not open.

const path = require('node:path');

const LIB = __dirname + path.sep;

/** The file:line of the user's code that called into the package. */
function callerSite() {
  const stack = new Error().stack || '';
  for (const line of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^()]+?):(\d+):\d+\)?$/.exec(line.trim());
    if (m && !m[1].replace('file://', '').startsWith(LIB)) return `${m[1]}:${m[2]}`;
  }
  return 'an unknown place';
}

/** A handler as an error message names it: its name and where it was registered. */
function describe(route) {
  const name = route.handler.name || 'an anonymous handler';
  return `${name} (${route.site})`;
}

/** A path with its parameter names blanked: `/users/{id}` and `/users/{uid}` match the same requests. */
function routeShape(routePath) {
  return routePath.replace(
    /\{[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z]+)?\}/g,
    (_, type) => `{${type || ''}}`,
  );
}

/** The server could not listen on host:port; `reason` is the system's words. */
class ListenError extends Error {
  constructor(host, port, reason) {
    super(`cannot listen on ${host}:${port}: ${reason}`);
    this.host = host;
    this.port = port;
    this.reason = reason;
  }
}
ListenError.prototype.name = 'ListenError';

/** A ListenError from the core's message for a listener it could not open. */
function listenError(host, port, message) {
  const at = message.lastIndexOf(`${host}:${port}: `);
  return new ListenError(
    host,
    port,
    at < 0 ? message : message.slice(at + `${host}:${port}: `.length),
  );
}

module.exports = { ListenError, callerSite, describe, listenError, routeShape };
