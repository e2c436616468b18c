'use strict';
// Router: a group of routes under a path prefix, included into an app with
// app.includeRouter(router, { prefix, tags }). A router only records what its
// methods declare; the app registers each route when the router is
// included, with the prefixes joined and the tags added up (app.routeTags,
// for documentation). Routers nest with router.includeRouter.

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'];

/** A prefix is '' or starts with '/' and does not end with one. */
function checkPrefix(prefix, who) {
  if (
    typeof prefix !== 'string' ||
    (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))
  ) {
    throw new TypeError(
      `${who}: prefix ${JSON.stringify(prefix)} must start with '/' and not end with one (or be '')`,
    );
  }
  return prefix;
}

class Router {
  /** @param options `{ prefix = '', tags = [] }` */
  constructor(options = {}) {
    const { prefix = '', tags = [] } = options || {};
    this.prefix = checkPrefix(prefix, 'new Router');
    this.tags = [...tags];
    this.records = []; // { method, path, schemas, handler, tags }
  }

  /** Record `handler` for `method` and `prefix + path`, as app.route takes them. */
  route(method, path, schemas, handler) {
    if (handler === undefined && typeof schemas === 'function') {
      handler = schemas;
      schemas = undefined;
    }
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new TypeError(`Router.route: path ${JSON.stringify(path)} must start with '/'`);
    }
    this.records.push({ method, path, schemas, handler, tags: [] });
    return this;
  }

  /** Take another router's routes under `options.prefix + router.prefix`. */
  includeRouter(router, options = {}) {
    const { prefix = '', tags = [] } = options || {};
    checkPrefix(prefix, 'Router.includeRouter');
    for (const r of router.expanded()) {
      this.records.push({ ...r, path: prefix + r.path, tags: [...tags, ...r.tags] });
    }
    return this;
  }

  /** The records with this router's prefix and tags applied. */
  expanded() {
    return this.records.map((r) => ({
      ...r,
      path: this.prefix + r.path,
      tags: [...this.tags, ...r.tags],
    }));
  }
}

for (const method of METHODS) {
  Router.prototype[method.toLowerCase()] = function add(path, schemas, handler) {
    return this.route(method, path, schemas, handler);
  };
}

module.exports = { Router, checkPrefix };
