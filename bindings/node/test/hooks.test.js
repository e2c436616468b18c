'use strict';
// Lifecycle hooks over real HTTP: the five phases, async or not, several per
// phase in order, changed request headers that validation sees, short
// circuits, the core's own errors through onError/onResponse, a hook
// returning undefined named as an error, startup and shutdown.

const test = require('node:test');
const assert = require('node:assert/strict');

const { ErrorResponse, HttpException, Response, Spikard } = require('..');

async function serve(t, app) {
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return url;
}

const USER_HEADER = {
  headers: {
    type: 'object',
    properties: { 'x-user': { type: 'string' } },
    required: ['x-user'],
  },
};

test('request hooks change headers that validation sees, in order', async (t) => {
  const app = new Spikard({ quiet: true });
  const order = [];
  app.onRequest((req) => {
    order.push('onRequest 1');
    req.headers['x-user'] = (req.headers.authorization || '').replace('Bearer ', '');
    return req;
  });
  app.onRequest(async (req) => {
    order.push('onRequest 2');
    delete req.headers.authorization;
    return req;
  });
  app.preValidation(async (req) => {
    order.push('preValidation');
    assert.equal(req.headers['x-user'], 'ada');
    return req;
  });
  app.get('/me', USER_HEADER, (req) => ({
    user: req.headers['x-user'],
    auth: req.headers.authorization ?? null,
  }));
  const url = await serve(t, app);
  const got = await fetch(`${url}/me`, { headers: { authorization: 'Bearer ada' } });
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), { user: 'ada', auth: null });
  assert.deepEqual(order, ['onRequest 1', 'onRequest 2', 'preValidation']);
});

test('a short circuit, preHandler hooks, and onResponse on every answer', async (t) => {
  const app = new Spikard({ quiet: true });
  let handled = 0;
  app.preValidation((req) =>
    req.headers.authorization ? req : new Response({ error: 'Unauthorized' }, { status: 401 }),
  );
  app.preHandler(async (req) =>
    req.query.role === 'admin' ? req : new Response({ error: 'Forbidden' }, { status: 403 }),
  );
  app.onResponse((res) => res.setHeader('X-Frame-Options', 'DENY'));
  app.get(
    '/n/{n}',
    { params: { type: 'object', properties: { n: { type: 'integer' } } } },
    (req) => {
      handled += 1;
      return { n: req.params.n };
    },
  );
  const url = await serve(t, app);
  const auth = { headers: { authorization: 'x' } };
  let got = await fetch(`${url}/n/1`);
  assert.equal(got.status, 401);
  assert.deepEqual(await got.json(), { error: 'Unauthorized' });
  assert.equal(got.headers.get('x-frame-options'), 'DENY');
  got = await fetch(`${url}/n/1`, auth);
  assert.equal(got.status, 403);
  assert.equal(got.headers.get('x-frame-options'), 'DENY');
  got = await fetch(`${url}/n/1?role=admin`, auth);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-type'), 'application/json');
  assert.equal(got.headers.get('x-frame-options'), 'DENY');
  assert.deepEqual(await got.json(), { n: 1 });
  got = await fetch(`${url}/n/x?role=admin`, auth);
  assert.equal(got.status, 422);
  assert.equal(got.headers.get('content-type'), 'application/problem+json');
  assert.equal(got.headers.get('x-frame-options'), 'DENY');
  got = await fetch(`${url}/nowhere`, auth);
  assert.equal(got.status, 404);
  assert.equal(got.headers.get('x-frame-options'), 'DENY');
  assert.equal(handled, 1);
});

test("onError sees a handler's error and the core's own errors", async (t) => {
  const app = new Spikard({ quiet: true });
  const seen = [];
  app.onError((res) => {
    assert.ok(res instanceof ErrorResponse);
    seen.push([res.status, res.exception === null ? null : res.exception.name]);
    if (res.status === 500) {
      return new Response({ error: 'Internal Server Error', error_id: 'e-1' }, { status: 500 });
    }
    return res.setHeader('x-error', 'seen');
  });
  app.get('/boom', async () => {
    throw new TypeError('kaput');
  });
  app.get('/gone', () => {
    throw new HttpException(410, 'it left', { 'retry-after': '9' });
  });
  const url = await serve(t, app);
  let got = await fetch(`${url}/boom`);
  assert.equal(got.status, 500);
  assert.deepEqual(await got.json(), { error: 'Internal Server Error', error_id: 'e-1' });
  got = await fetch(`${url}/gone`);
  assert.equal(got.status, 410);
  assert.equal(got.headers.get('x-error'), 'seen');
  assert.equal(got.headers.get('retry-after'), '9');
  assert.equal((await got.json()).detail, 'it left');
  got = await fetch(`${url}/nothing`);
  assert.equal(got.status, 404);
  assert.equal(got.headers.get('x-error'), 'seen');
  assert.deepEqual(seen, [
    [500, 'TypeError'],
    [410, 'HttpException'],
    [404, null],
  ]);
});

test('a hook returning undefined is an error naming it; startup and shutdown run', async (t) => {
  const app = new Spikard({ quiet: true });
  const events = [];
  app.onStartup(async () => events.push('startup'));
  app.onShutdown(() => events.push('shutdown'));
  app.onRequest(function forgetful() {});
  app.get('/x', () => 'never');
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args.map(String).join(' '));
  t.after(() => {
    console.error = original;
  });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  const got = await fetch(`${url}/x`);
  assert.equal(got.status, 500);
  assert.ok(logged.some((line) => line.includes('forgetful') && line.includes('undefined')));
  await app.close();
  assert.deepEqual(events, ['startup', 'shutdown']);
});

test('exceptionHandler maps error classes to answers', async (t) => {
  class OutOfStock extends Error {}
  class Backordered extends OutOfStock {}
  const app = new Spikard({ quiet: true });
  app.exceptionHandler(
    OutOfStock,
    (req, err) => new Response({ error: err.message, path: req.path }, { status: 409 }),
  );
  app.get('/a', async () => {
    throw new Backordered('none left');
  });
  app.get('/other', () => {
    throw new RangeError('not mapped');
  });
  const url = await serve(t, app);
  let got = await fetch(`${url}/a`);
  assert.equal(got.status, 409);
  assert.deepEqual(await got.json(), { error: 'none left', path: '/a' });
  got = await fetch(`${url}/other`);
  assert.equal(got.status, 500);
});

test('onResponse changes made in place on the given Response reach the client', async (t) => {
  const app = new Spikard({ quiet: true });
  app.onResponse((res) => {
    const what = res.getHeader('x-what') || '';
    if (what.includes('status')) res.status = 201;
    if (what.includes('content')) res.content = '{"edited":true}';
    if (what.includes('cookie')) res.setCookie('seen', '1');
    if (what.includes('header')) res.setHeader('x-edited', 'yes');
    return res;
  });
  app.preHandler((req) => req); // returns what it was given: no promise, no check
  app.get(
    '/r/{what}',
    { params: { type: 'object', properties: { what: { type: 'string' } } } },
    (req) => new Response({ what: req.params.what }, { headers: { 'x-what': req.params.what } }),
  );
  app.get('/buf', () => Buffer.from('abc'));
  const url = await serve(t, app);
  let got = await fetch(`${url}/r/none`);
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), { what: 'none' });
  assert.equal(got.headers.get('x-edited'), null);
  assert.equal((await fetch(`${url}/r/status`)).status, 201);
  assert.deepEqual(await (await fetch(`${url}/r/content`)).json(), { edited: true });
  assert.match((await fetch(`${url}/r/cookie`)).headers.get('set-cookie'), /^seen=1/);
  assert.equal((await fetch(`${url}/r/header`)).headers.get('x-edited'), 'yes');
  got = await fetch(`${url}/buf`);
  assert.equal(await got.text(), 'abc');
});

test('request hooks in the REQUEST and in a pre visit: unchanged, changed, short circuit, failing', async (t) => {
  const app = new Spikard({ quiet: true });
  app.onRequest((req) => {
    const action = req.headers['x-action'];
    if (action === 'deny') return new Response({ error: 'denied' }, { status: 403 });
    if (action === 'throw') throw new Error('hook broke');
    if (action === 'name') req.headers['x-user'] = 'ada';
    return req;
  });
  app.get('/a', USER_HEADER, async (req) => req.headers['x-user']);
  app.get('/s', USER_HEADER, (req) => req.headers['x-user']);
  const url = await serve(t, app);
  const call = (path, headers) => fetch(`${url}${path}`, { headers });
  for (const path of ['/a', '/s']) {
    assert.equal(await (await call(path, { 'x-user': 'eve' })).text(), 'eve');
    assert.equal(await (await call(path, { 'x-user': 'eve', 'x-action': 'name' })).text(), 'ada');
    assert.equal(await (await call(path, { 'x-action': 'name' })).text(), 'ada'); // a pre visit
    assert.equal((await call(path, {})).status, 422); // the pre visit continued unchanged
    const denied = await call(path, { 'x-user': 'eve', 'x-action': 'deny' });
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), { error: 'denied' });
    assert.equal((await call(path, { 'x-user': 'eve', 'x-action': 'throw' })).status, 500);
  }
});

test('request hooks see the request as received, in the REQUEST and in a pre visit alike', async (t) => {
  const app = new Spikard({ quiet: true });
  const seen = [];
  app.onRequest((req) => {
    seen.push(['onRequest', req.params, req.query.n, req.headers['x-n']]);
    return req;
  });
  app.preValidation((req) => {
    seen.push(['preValidation', req.params, req.query.n, req.headers['x-n']]);
    return req;
  });
  app.get(
    '/items/{id}',
    {
      params: { type: 'object', properties: { id: { type: 'integer' } } },
      query: { type: 'object', properties: { n: { type: 'integer' } } },
      headers: { type: 'object', properties: { 'x-n': { type: 'integer' } } },
    },
    (req) => ({ id: req.params.id, n: req.query.n, x: req.headers['x-n'] }),
  );
  const url = await serve(t, app);
  // Valid as received: the hooks ride on the REQUEST; the handler still
  // gets the validated, coerced values.
  let got = await fetch(`${url}/items/42?n=07`, { headers: { 'x-n': '08' } });
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), { id: 42, n: 7, x: 8 });
  assert.deepEqual(seen.splice(0), [
    ['onRequest', {}, '07', '08'],
    ['preValidation', {}, '07', '08'],
  ]);
  // Invalid as received: a pre visit, then the core's 422.
  got = await fetch(`${url}/items/42?n=07`, { headers: { 'x-n': 'x' } });
  assert.equal(got.status, 422);
  assert.deepEqual(seen.splice(0), [
    ['onRequest', {}, '07', 'x'],
    ['preValidation', {}, '07', 'x'],
  ]);
});
