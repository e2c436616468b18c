'use strict';
// Dependency injection over real HTTP: values and factories, async and
// generator factories with cleanup after the answer, one value per request,
// singletons, overrides, and the core's dependency-error problem.

const test = require('node:test');
const assert = require('node:assert/strict');

const { DependencyError, Provide, Spikard } = require('..');

/** The lines console.error prints until the test ends. */
function captureErrors(t) {
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args.join(' '));
  t.after(() => {
    console.error = original;
  });
  return logged;
}

test('values, factories, per-request caching, singletons and cleanup', async (t) => {
  const app = new Spikard({ quiet: true });
  const events = [];
  let made = 0;
  let ids = 0;
  let closed;
  const closing = new Promise((resolve) => {
    closed = resolve;
  });
  app.provide('config', { dbUrl: 'pg://x' });
  app.provide(
    'pool',
    new Provide(
      ({ config }) => {
        made += 1;
        return `pool(${config.dbUrl})`;
      },
      { dependsOn: ['config'], singleton: true },
    ),
  );
  app.provide('rid', new Provide(() => `r${++ids}`));
  app.provide('user', new Provide(async ({ rid }) => `user#${rid}`, { dependsOn: ['rid'] }));
  app.provide(
    'session',
    new Provide(async function* session() {
      events.push('open');
      yield 's-1';
      events.push('close');
      closed();
    }),
  );
  app.get('/a', async (req) => ({
    pool: await req.dep('pool'),
    user: await req.dep('user'),
    rid: await req.dep('rid'),
    session: await req.dep('session'),
  }));
  app.get('/boom', async (req) => {
    await req.dep('session');
    throw new Error('fails');
  });
  app.overrideDependency('config', { dbUrl: 'pg://test' });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  let got = await fetch(`${url}/a`);
  assert.deepEqual(await got.json(), {
    pool: 'pool(pg://test)',
    user: 'user#r1',
    rid: 'r1',
    session: 's-1',
  });
  await closing;
  got = await fetch(`${url}/a`);
  assert.equal((await got.json()).rid, 'r2');
  assert.equal(made, 1);
  got = await fetch(`${url}/boom`);
  assert.equal(got.status, 500);
  assert.deepEqual(events.slice(0, 2), ['open', 'close']);
});

test("unresolvable dependencies answer the core's dependency-error", async (t) => {
  const app = new Spikard({ quiet: true });
  app.provide('a', new Provide(({ b }) => b, { dependsOn: ['b'] }));
  app.provide('b', new Provide(({ a }) => a, { dependsOn: ['a'] }));
  app.get('/cycle', async (req) => req.dep('a'));
  app.get('/missing', async (req) => req.dep('ghost'));
  const logged = captureErrors(t);
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  let got = await fetch(`${url}/missing`);
  assert.equal(got.status, 500);
  assert.deepEqual(await got.json(), {
    type: 'https://spikard.dev/errors/dependency-error',
    title: 'Dependency Resolution Failed',
    status: 500,
    detail: 'Required dependency not found',
    errors: [
      {
        type: 'missing_dependency',
        msg: "Dependency 'ghost' is not registered",
        dependency_key: 'ghost',
      },
    ],
  });
  got = await fetch(`${url}/cycle`);
  const doc = await got.json();
  assert.equal(doc.errors[0].type, 'circular_dependency');
  assert.deepEqual(doc.errors[0].cycle, ['a', 'b', 'a']);
  assert.ok(logged.some((line) => line.includes('a -> b -> a')));
});

test('strictDependencies refuses to listen', async () => {
  const app = new Spikard({ quiet: true }, { strictDependencies: true });
  app.provide('c', new Provide(({ ghost }) => ghost, { dependsOn: ['ghost'] }));
  app.get('/', () => 'x');
  await assert.rejects(app.listen({ port: 0 }), DependencyError);
});

// -- by class, overrides per route, disposables, type mismatches ---------------

class Database {
  constructor(url) {
    this.url = url;
  }
}
class Mailer {}

test('a class is a key: values, factories, caching and singletons by class', async (t) => {
  const app = new Spikard({ quiet: true });
  let mailers = 0;
  app.provide(Database, new Database('pg://main'));
  app.provide(
    Mailer,
    new Provide(
      ({ Database: db }) => {
        mailers += 1;
        const m = new Mailer();
        m.n = mailers;
        m.db = db.url;
        return m;
      },
      { dependsOn: [Database] },
    ),
  );
  let singles = 0;
  class Clock {}
  app.provide(
    Clock,
    new Provide(() => Object.assign(new Clock(), { n: ++singles }), { singleton: true }),
  );
  app.get('/by-class', async (req) => {
    const first = await req.dep(Mailer);
    const again = await req.dep(Mailer);
    return { same: first === again, n: first.n, db: first.db, clock: (await req.dep(Clock)).n };
  });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  assert.deepEqual(await (await fetch(`${url}/by-class`)).json(), {
    same: true,
    n: 1,
    db: 'pg://main',
    clock: 1,
  });
  assert.deepEqual(await (await fetch(`${url}/by-class`)).json(), {
    same: true,
    n: 2,
    db: 'pg://main',
    clock: 1,
  });
});

test('overrides for tests: app-wide and per route, by name and by class', async (t) => {
  const app = new Spikard({ quiet: true });
  app.provide('env', 'prod');
  app.provide(
    Database,
    new Provide(({ env }) => new Database(`pg://${env}`), { dependsOn: ['env'] }),
  );
  const show = async (req) => ({ env: await req.dep('env'), db: (await req.dep(Database)).url });
  app.get('/app', show);
  app.get('/route', { dependencyOverrides: { env: 'route' } }, show);
  app.get(
    '/class',
    { dependencyOverrides: new Map([[Database, new Database('pg://fake')]]) },
    show,
  );
  app.overrideDependency('env', 'test');
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  assert.deepEqual(await (await fetch(`${url}/app`)).json(), { env: 'test', db: 'pg://test' });
  assert.deepEqual(await (await fetch(`${url}/route`)).json(), { env: 'route', db: 'pg://route' });
  assert.deepEqual(await (await fetch(`${url}/class`)).json(), { env: 'test', db: 'pg://fake' });
  assert.throws(() => app.get('/bad', { dependencyOverrides: [1] }, show), TypeError);
});

test('a disposable value is disposed after the answer is written, newest first', async (t) => {
  const app = new Spikard({ quiet: true });
  const events = [];
  let done;
  const disposed = new Promise((resolve) => {
    done = resolve;
  });
  // The disposal waits for the client to have the answer: were it run
  // before the answer is written, the fetch below would time out.
  let answered;
  const received = new Promise((resolve) => {
    answered = resolve;
  });
  app.provide(
    'conn',
    new Provide(async () => ({
      async [Symbol.asyncDispose]() {
        await received;
        events.push('conn disposed');
        done();
      },
    })),
  );
  app.provide(
    'tx',
    new Provide(
      () => ({
        [Symbol.dispose]() {
          events.push('tx disposed');
        },
      }),
      { dependsOn: ['conn'] },
    ),
  );
  app.get('/work', async (req) => {
    await req.dep('tx');
    events.push('handler');
    return { ok: true };
  });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const got = await fetch(`${url}/work`, { signal: AbortSignal.timeout(5000) });
  assert.deepEqual(await got.json(), { ok: true });
  answered();
  await disposed;
  assert.deepEqual(events, ['handler', 'tx disposed', 'conn disposed']);
});

test("a value of the wrong class is a type_mismatch: the core's problem, or a refusal", async (t) => {
  const app = new Spikard({ quiet: true });
  app.provide(Database, { url: 'not a Database' });
  app.provide(Mailer, new Provide(() => 'not a Mailer'));
  app.get('/db', async (req) => (await req.dep(Database)).url);
  app.get('/mail', async (req) => String(await req.dep(Mailer)));
  app.get('/ghost', async (req) => String(await req.dep(class Ghost {})));
  const logged = captureErrors(t);
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  assert.ok(
    logged.some((line) => line.includes("dependency 'Database' is a Object, not a Database")),
  );
  for (const path of ['/db', '/mail']) {
    const got = await fetch(`${url}${path}`);
    assert.equal(got.status, 500);
    const doc = await got.json();
    assert.equal(doc.type, 'https://spikard.dev/errors/dependency-error');
    assert.equal(doc.errors[0].type, 'type_mismatch');
    assert.equal(doc.errors[0].dependency_key, path === '/db' ? 'Database' : 'Mailer');
  }
  const got = await fetch(`${url}/ghost`);
  assert.equal(got.status, 500);
  assert.deepEqual((await got.json()).errors, [
    {
      type: 'missing_dependency',
      msg: "Dependency 'Ghost' is not registered",
      dependency_key: 'Ghost',
    },
  ]);

  const strict = new Spikard({ quiet: true }, { strictDependencies: true });
  strict.provide(Database, 'pg://x');
  strict.get('/', () => 'x');
  await assert.rejects(strict.listen({ port: 0 }), (err) => err.kind === 'type_mismatch');
  const cyclic = new Spikard({ quiet: true }, { strictDependencies: true });
  cyclic.provide(Database, new Provide(({ Mailer: m }) => m, { dependsOn: [Mailer] }));
  cyclic.provide(Mailer, new Provide(({ Database: d }) => d, { dependsOn: [Database] }));
  cyclic.get('/', () => 'x');
  await assert.rejects(cyclic.listen({ port: 0 }), (err) =>
    ['Database,Mailer,Database', 'Mailer,Database,Mailer'].includes(err.cycle.join(',')),
  );
  assert.throws(() => app.provide(() => 1, 'arrow'), TypeError);
  assert.throws(() => new Provide(() => 1, { dependsOn: ['a', 'a'] }), TypeError);
});
