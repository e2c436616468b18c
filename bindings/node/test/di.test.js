'use strict';
// Dependency injection over real HTTP: values and factories, async and
// generator factories with cleanup after the answer, one value per request,
// singletons, overrides, and the core's dependency-error problem.

const test = require('node:test');
const assert = require('node:assert/strict');

const { DependencyError, Provide, Spikard } = require('..');

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
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args.join(' '));
  t.after(() => {
    console.error = original;
  });
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
