'use strict';
// Dependency injection: values and factories a handler asks for by name or
// by class.
//
//   app.provide('config', { dbUrl: 'postgres://localhost/app' });
//   app.provide('db', new Provide(({ config }) => connect(config.dbUrl),
//                                 { dependsOn: ['config'], singleton: true }));
//   app.provide(Mailer, new Provide(() => new Mailer()));       // by class
//   app.get('/stats', async (req) => ({ db: (await req.dep('db')).name,
//                                       mail: (await req.dep(Mailer)).host }));
//
// A key is a name (a non-empty string) or a class (a constructor): Node has
// no parameter annotations, so the class itself is the token Python's
// annotation is. A class key's value must be an instance of it (instanceof):
// a provided value that is not is a type_mismatch found at listen(), a
// factory's result that is not one at the request.
//
// A factory (a function, async or not, or a generator of either whose code
// after `yield` is its cleanup) gets its dependencies as one object, by the
// keys `dependsOn` lists (a class by its name: `deps.Mailer`). Each
// dependency is made once per request (every factory and `req.dep` of the
// request shares it), or once for the app with `singleton: true`. After the
// answer has been written (right away if the handler failed) the request's
// cleanups run, newest first: a generator's code after `yield`, and
// `[Symbol.asyncDispose]()` (else `[Symbol.dispose]()`) of a value a
// non-generator factory made for the request. A singleton is the app's: its
// cleanup is the app's (onShutdown).
//
// The graph is checked at listen(): a `dependsOn` naming nothing, a cycle or
// a value of the wrong class is logged (thrown with `strictDependencies:
// true`), and a request that needs it is answered with the core's
// dependency-error problem document, as a `req.dep` of a key never provided
// is. Overrides for tests: app.overrideDependency(key, value) for the whole
// app, a route's `dependencyOverrides` option for one route.

const { ProblemError } = require('./response');

/** A factory dependency. */
class Provide {
  /** @param options `{ dependsOn = [], singleton = false }` */
  constructor(factory, options = {}) {
    if (typeof factory !== 'function') throw new TypeError('new Provide(factory): not a function');
    const { dependsOn = [], singleton = false } = options || {};
    if (!Array.isArray(dependsOn)) {
      throw new TypeError(
        'new Provide(factory, { dependsOn }): dependsOn must be an array of keys',
      );
    }
    const names = new Set();
    for (const key of dependsOn) {
      checkKey(key, 'new Provide(factory, { dependsOn })');
      const name = keyName(key);
      if (names.has(name)) {
        throw new TypeError(`new Provide(factory, { dependsOn }): '${name}' is listed twice`);
      }
      names.add(name);
    }
    this.factory = factory;
    this.dependsOn = [...dependsOn];
    this.singleton = Boolean(singleton);
    this._made = false;
    this._value = undefined;
  }
}

/** A dependency that cannot be resolved; answered with the core's
 *  dependency-error problem (SPIKARD_RESPONSE_PROBLEM, {"dependency": ...}). */
class DependencyError extends ProblemError {
  constructor(message, kind, key, cycle, expected) {
    super(500, message);
    this.name = 'DependencyError';
    this.kind = kind;
    this.key = key;
    this.cycle = cycle === undefined ? null : cycle;
    this.expected = expected === undefined ? null : expected;
  }

  toDescription() {
    const dependency = { kind: this.kind, key: this.key };
    if (this.cycle !== null) dependency.cycle = this.cycle;
    if (this.expected !== null) dependency.expected = this.expected;
    return { dependency };
  }
}

/** A key as errors and a factory's deps object name it. */
function keyName(key) {
  return typeof key === 'string' ? key : key.name || '(anonymous class)';
}

function checkKey(key, where) {
  const isName = typeof key === 'string' && key !== '';
  const isClass = typeof key === 'function' && typeof key.prototype === 'object';
  if (!isName && !isClass) throw new TypeError(`${where}: a key is a non-empty string or a class`);
}

function isGenerator(fn) {
  const name = fn.constructor && fn.constructor.name;
  return name === 'GeneratorFunction' || name === 'AsyncGeneratorFunction';
}

function missing(key) {
  const name = keyName(key);
  return new DependencyError(`dependency '${name}' is not registered`, 'missing_dependency', name);
}

function mismatch(key, value) {
  const name = keyName(key);
  const what =
    value === null ? 'null' : (value.constructor && value.constructor.name) || typeof value;
  return new DependencyError(
    `dependency '${name}' is a ${what}, not a ${name}`,
    'type_mismatch',
    name,
    undefined,
    name,
  );
}

/** Whether `value` fits class key `key` (names take anything). */
function fits(key, value) {
  return typeof key === 'string' || value instanceof key;
}

/** The cleanup a request owes for a value a non-generator factory made. */
function disposer(value) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return null;
  if (typeof value[Symbol.asyncDispose] === 'function') return () => value[Symbol.asyncDispose]();
  if (typeof value[Symbol.dispose] === 'function') return () => value[Symbol.dispose]();
  return null;
}

class Dependencies {
  constructor() {
    this.entries = new Map();
    this.overrides = new Map(); // for tests: key -> what replaces it
    this.broken = new Map(); // key -> DependencyError found at listen
  }

  /** A view of these dependencies with a route's overrides on top: the same
   *  entries and app-wide overrides, its own check. */
  view(overrides) {
    const view = new Dependencies();
    view.entries = this.entries;
    view.overrides = new Map([...this.overrides, ...overrides]);
    return view;
  }

  /** What resolves key: an override (app.overrideDependency) before the value. */
  _spec(key) {
    return this.overrides.has(key) ? this.overrides.get(key) : this.entries.get(key);
  }

  _has(key) {
    return this.overrides.has(key) || this.entries.has(key);
  }

  provide(key, value) {
    checkKey(key, 'app.provide(key, value)');
    this.entries.set(key, value);
  }

  override(key, value) {
    checkKey(key, 'app.overrideDependency(key, value)');
    this.overrides.set(key, value);
  }

  get size() {
    return this.entries.size + this.overrides.size;
  }

  /** Check the graph (listen): every dependsOn provided, no cycle, every
   *  class key's value an instance of it. Returns [name, error] pairs, each
   *  error also kept for the key it breaks. */
  check() {
    this.broken.clear();
    const errors = [];
    const visit = (key, path) => {
      if (path.includes(key)) {
        const cycle = [...path.slice(path.indexOf(key)), key].map(keyName);
        return new DependencyError(
          `circular dependency ${cycle.join(' -> ')}`,
          'circular_dependency',
          keyName(key),
          cycle,
        );
      }
      if (!this._has(key)) return missing(key);
      const spec = this._spec(key);
      if (!(spec instanceof Provide)) return fits(key, spec) ? null : mismatch(key, spec);
      for (const dep of spec.dependsOn) {
        const err = visit(dep, [...path, key]);
        if (err !== null) return err;
      }
      return null;
    };
    for (const key of new Set([...this.entries.keys(), ...this.overrides.keys()])) {
      const err = visit(key, []);
      if (err !== null) {
        this.broken.set(key, err);
        errors.push([keyName(key), err]);
      }
    }
    return errors;
  }

  /** The value of `key` for the request whose state is `scope`. */
  async resolve(key, scope) {
    if (scope.cache.has(key)) return scope.cache.get(key);
    const broken = this.broken.get(key);
    if (broken !== undefined) throw broken;
    if (!this._has(key)) throw missing(key);
    const spec = this._spec(key);
    let made;
    if (!(spec instanceof Provide)) {
      made = fits(key, spec) ? Promise.resolve(spec) : Promise.reject(mismatch(key, spec));
    } else if (spec.singleton && spec._made) {
      made = Promise.resolve(spec._value);
    } else {
      made = this._make(key, spec, scope);
    }
    scope.cache.set(key, made); // one value per request, even while it is being made
    return made;
  }

  async _make(key, spec, scope) {
    const deps = {};
    for (const dep of spec.dependsOn) deps[keyName(dep)] = await this.resolve(dep, scope);
    let value;
    if (isGenerator(spec.factory)) {
      const gen = spec.factory(deps);
      const first = await gen.next();
      value = first.value;
      if (!spec.singleton) scope.cleanups.push(() => gen.next());
    } else {
      value = await spec.factory(deps);
      const dispose = spec.singleton ? null : disposer(value);
      if (dispose !== null) scope.cleanups.push(dispose);
    }
    if (!fits(key, value)) throw mismatch(key, value);
    if (spec.singleton && !spec._made) {
      spec._made = true;
      spec._value = value;
    }
    return spec.singleton ? spec._value : value;
  }
}

/** Run a request's cleanups, newest first; a failure is logged. */
async function cleanUp(cleanups) {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      console.error("spikard: a dependency's cleanup failed:", err);
    }
  }
}

/** A route's `dependencyOverrides` option (a Map, or an object of names) as
 *  a Map of key -> value, checked. */
function routeOverrides(value, where) {
  if (value instanceof Map) {
    for (const key of value.keys()) checkKey(key, `${where} dependencyOverrides`);
    return new Map(value);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where} dependencyOverrides: want a Map or an object of names`);
  }
  return new Map(Object.entries(value));
}

module.exports = { Dependencies, DependencyError, Provide, cleanUp, routeOverrides };
