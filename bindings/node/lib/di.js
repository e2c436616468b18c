'use strict';
// Dependency injection: values and factories a handler asks for by name.
//
//   app.provide('config', { dbUrl: 'postgres://localhost/app' });
//   app.provide('db', new Provide(({ config }) => connect(config.dbUrl),
//                                 { dependsOn: ['config'], singleton: true }));
//   app.get('/stats', async (req) => ({ db: (await req.dep('db')).name }));
//
// A factory (a function, async or not, or a generator of either whose code
// after `yield` is its cleanup) gets its dependencies as one object, by the
// names `dependsOn` lists. Each dependency is made once per request (every
// factory and `req.dep` of the request shares it), or once for the app with
// `singleton: true`; a generator's cleanup runs after the answer has been
// written (right away if the handler failed), newest first. The graph is
// checked at listen(): a `dependsOn` naming nothing, or a cycle, is logged
// (thrown with `strictDependencies: true`), and a request that needs it is
// answered with the core's dependency-error problem document, as a
// `req.dep` of a name never provided is.

const { ProblemError } = require('./response');

/** A factory dependency. */
class Provide {
  /** @param options `{ dependsOn = [], singleton = false }` */
  constructor(factory, options = {}) {
    if (typeof factory !== 'function') throw new TypeError('new Provide(factory): not a function');
    const { dependsOn = [], singleton = false } = options || {};
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
  constructor(message, kind, key, cycle) {
    super(500, message);
    this.name = 'DependencyError';
    this.kind = kind;
    this.key = key;
    this.cycle = cycle === undefined ? null : cycle;
  }

  toDescription() {
    const dependency = { kind: this.kind, key: this.key };
    if (this.cycle !== null) dependency.cycle = this.cycle;
    return { dependency };
  }
}

function isGenerator(fn) {
  const name = fn.constructor && fn.constructor.name;
  return name === 'GeneratorFunction' || name === 'AsyncGeneratorFunction';
}

class Dependencies {
  constructor() {
    this.entries = new Map();
    this.overrides = new Map(); // for tests: name -> what replaces it
    this.broken = new Map(); // name -> DependencyError found at listen
  }

  /** What resolves name: an override (app.overrideDependency) before the value. */
  _spec(name) {
    return this.overrides.has(name) ? this.overrides.get(name) : this.entries.get(name);
  }

  _has(name) {
    return this.overrides.has(name) || this.entries.has(name);
  }

  provide(name, value) {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError('app.provide(name, value): name must be a non-empty string');
    }
    this.entries.set(name, value);
  }

  get size() {
    return this.entries.size + this.overrides.size;
  }

  /** Check the graph (listen): every dependsOn provided, no cycle. Returns
   *  the errors found, each also kept for the names it breaks. */
  check() {
    this.broken.clear();
    const errors = [];
    const visit = (name, path) => {
      if (path.includes(name)) {
        const cycle = [...path.slice(path.indexOf(name)), name];
        return new DependencyError(
          `circular dependency ${cycle.join(' -> ')}`,
          'circular_dependency',
          name,
          cycle,
        );
      }
      if (!this._has(name)) {
        return new DependencyError(
          `dependency '${name}' is not registered`,
          'missing_dependency',
          name,
        );
      }
      const spec = this._spec(name);
      if (spec instanceof Provide) {
        for (const dep of spec.dependsOn) {
          const err = visit(dep, [...path, name]);
          if (err !== null) return err;
        }
      }
      return null;
    };
    for (const name of new Set([...this.entries.keys(), ...this.overrides.keys()])) {
      const err = visit(name, []);
      if (err !== null) {
        this.broken.set(name, err);
        errors.push([name, err]);
      }
    }
    return errors;
  }

  /** The value of `name` for the request whose state is `scope`. */
  async resolve(name, scope) {
    if (scope.cache.has(name)) return scope.cache.get(name);
    const broken = this.broken.get(name);
    if (broken !== undefined) throw broken;
    if (!this._has(name)) {
      throw new DependencyError(
        `dependency '${name}' is not registered`,
        'missing_dependency',
        name,
      );
    }
    const spec = this._spec(name);
    let made;
    if (!(spec instanceof Provide)) {
      made = Promise.resolve(spec);
    } else if (spec.singleton && spec._made) {
      made = Promise.resolve(spec._value);
    } else {
      made = this._make(spec, scope);
    }
    scope.cache.set(name, made); // one value per request, even while it is being made
    return made;
  }

  async _make(spec, scope) {
    const deps = {};
    for (const dep of spec.dependsOn) deps[dep] = await this.resolve(dep, scope);
    let value;
    if (isGenerator(spec.factory)) {
      const gen = spec.factory(deps);
      const first = await gen.next();
      value = first.value;
      if (!spec.singleton) scope.cleanups.push(gen);
    } else {
      value = await spec.factory(deps);
    }
    if (spec.singleton && !spec._made) {
      spec._made = true;
      spec._value = value;
    }
    return spec.singleton ? spec._value : value;
  }
}

/** Finish generator factories, newest first; a failure is logged. */
async function cleanUp(gens) {
  for (const gen of gens.reverse()) {
    try {
      await gen.next();
    } catch (err) {
      console.error("spikard: a dependency's cleanup failed:", err);
    }
  }
}

module.exports = { Dependencies, DependencyError, Provide, cleanUp };
