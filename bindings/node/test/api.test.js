'use strict';
// The public API over real HTTP: each test builds an app, listens on port 0,
// talks to it with fetch (or node:http where the socket matters) and closes.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');

const { ProblemError, Response, Spikard } = require('..');

/** Serve `app` on a free port for the test; closed when the test ends. */
async function serve(t, app) {
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return url;
}

function newApp(config = {}) {
  return new Spikard({ quiet: true, ...config });
}

const USER = {
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' }, email: { type: 'string' } },
  required: ['id', 'name', 'email'],
};

test('the Quick Start: a typed path param and a validated body', async (t) => {
  const app = newApp();
  app.get(
    '/users/{id}',
    { params: { type: 'object', properties: { id: { type: 'integer' } } } },
    async (req) => ({
      id: req.params.id,
      name: 'Alice',
      email: 'alice@example.com',
    }),
  );
  app.post('/users', { body: USER }, async (req) => new Response(req.body, { status: 201 }));
  const url = await serve(t, app);

  const got = await fetch(`${url}/users/7`);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-type'), 'application/json');
  assert.equal(await got.text(), '{"id":7,"name":"Alice","email":"alice@example.com"}');

  const made = await fetch(`${url}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 1, name: 'A', email: 'a@x.io' }),
  });
  assert.equal(made.status, 201);
  assert.equal(made.headers.get('content-type'), 'application/json');
  assert.deepEqual(await made.json(), { id: 1, name: 'A', email: 'a@x.io' });
});

test("a bad param is the core's 422 problem document", async (t) => {
  const app = newApp();
  let called = false;
  app.get(
    '/items/{id}',
    { params: { type: 'object', properties: { id: { type: 'integer' } } } },
    () => {
      called = true;
    },
  );
  app.post('/users', { body: USER }, (req) => req.body);
  const url = await serve(t, app);

  const bad = await fetch(`${url}/items/abc`);
  assert.equal(bad.status, 422);
  assert.equal(bad.headers.get('content-type'), 'application/problem+json');
  const doc = await bad.json();
  assert.equal(doc.status, 422);
  assert.ok(Array.isArray(doc.errors) && doc.errors.length === 1, JSON.stringify(doc));
  assert.deepEqual(doc.errors[0].loc, ['path', 'id']);

  const body = await fetch(`${url}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'x', name: 'A', email: 'a@x.io' }),
  });
  assert.equal(body.status, 422);
  assert.equal(body.headers.get('content-type'), 'application/problem+json');
  assert.equal(called, false);
});

test("a handler that throws is the core's 500, the stack only in the log", async (t) => {
  const logged = [];
  t.mock.method(console, 'error', (...args) => logged.push(args));
  const app = newApp();
  app.get('/boom', () => {
    throw new Error('secret-sync-detail');
  });
  app.get('/boom-async', async () => {
    await sleep(1);
    throw new Error('secret-async-detail');
  });
  const url = await serve(t, app);

  for (const [path, secret] of [
    ['/boom', 'secret-sync-detail'],
    ['/boom-async', 'secret-async-detail'],
  ]) {
    const res = await fetch(url + path);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const text = await res.text();
    assert.equal(JSON.parse(text).status, 500);
    assert.ok(!text.includes(secret), text);
    assert.ok(!text.includes('api.test.js'), text);
    assert.ok(
      logged.some((args) => args.some((a) => a instanceof Error && a.message === secret)),
      `the error of ${path} was logged`,
    );
  }
});

test('a ProblemError is rendered by the core', async (t) => {
  const app = newApp();
  app.post('/users', async () => {
    throw new ProblemError(409, 'user exists', { headers: { 'retry-after': '3' } });
  });
  app.get('/teapot', () => new ProblemError(418, undefined, { title: 'Short and stout' }));
  const url = await serve(t, app);

  const res = await fetch(`${url}/users`, { method: 'POST' });
  assert.equal(res.status, 409);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.equal(res.headers.get('retry-after'), '3');
  const doc = await res.json();
  assert.equal(doc.status, 409);
  assert.equal(doc.detail, 'user exists');

  const tea = await fetch(`${url}/teapot`);
  assert.equal(tea.status, 418);
  assert.equal((await tea.json()).title, 'Short and stout');
});

test('query, header and cookie params are validated and coerced', async (t) => {
  const app = newApp();
  app.get(
    '/search',
    {
      query: {
        type: 'object',
        properties: { q: { type: 'string' }, limit: { type: 'integer', default: 10 } },
        required: ['q'],
      },
      headers: {
        type: 'object',
        properties: { 'x-token': { type: 'string', minLength: 3 } },
        required: ['x-token'],
      },
      cookies: { type: 'object', properties: { session: { type: 'integer' } } },
    },
    (req) => ({
      q: req.query.q,
      limit: req.query.limit,
      extra: req.query.extra,
      token: req.headers['x-token'],
      agent: typeof req.headers['user-agent'],
      session: req.cookies.session,
      other: req.cookies.other,
      params: req.params,
    }),
  );
  const url = await serve(t, app);

  const res = await fetch(`${url}/search?q=hi&limit=5&extra=a&extra=b`, {
    headers: { 'X-Token': 'abcd', cookie: 'session=42; other=x' },
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    q: 'hi',
    limit: 5,
    extra: ['a', 'b'],
    token: 'abcd',
    agent: 'string',
    session: 42,
    other: 'x',
    params: {},
  });

  const dflt = await fetch(`${url}/search?q=hi`, { headers: { 'x-token': 'abcd' } });
  assert.equal((await dflt.json()).limit, 10);

  const missing = await fetch(`${url}/search?q=hi`);
  assert.equal(missing.status, 422);
  assert.equal(missing.headers.get('content-type'), 'application/problem+json');

  const badCookie = await fetch(`${url}/search?q=hi`, {
    headers: { 'x-token': 'abcd', cookie: 'session=x' },
  });
  assert.equal(badCookie.status, 422);
});

test('return values: text, bytes, null, Response headers, raw bodies', async (t) => {
  const app = newApp();
  app.get('/text', () => 'héllo');
  app.get('/bytes', () => Buffer.from([0, 1, 2]));
  app.get('/nothing', () => undefined);
  app.get(
    '/raw-response',
    () =>
      new Response(Buffer.from('raw'), {
        status: 202,
        headers: [
          ['x-a', '1'],
          ['x-b', '2'],
        ],
      }),
  );
  app.get(
    '/typed-response',
    () => new Response('<p/>', { headers: { 'content-type': 'text/html' } }),
  );
  app.get('/empty', () => new Response(null, { status: 204 }));
  app.post('/echo', (req) => ({
    isBuffer: Buffer.isBuffer(req.body),
    text: req.body.toString(),
    method: req.method,
    path: req.path,
  }));
  app.get('/nan', () => ({ x: NaN }));
  app.get(
    '/fetch-response',
    async () => new globalThis.Response('from fetch', { status: 203, headers: { 'x-f': 'y' } }),
  );
  const logged = [];
  t.mock.method(console, 'error', (...args) => logged.push(args));
  const url = await serve(t, app);

  let res = await fetch(`${url}/text`);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await res.text(), 'héllo');

  res = await fetch(`${url}/bytes`);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  assert.deepEqual([...new Uint8Array(await res.arrayBuffer())], [0, 1, 2]);

  res = await fetch(`${url}/nothing`);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(await res.text(), 'null');

  res = await fetch(`${url}/raw-response`);
  assert.equal(res.status, 202);
  // The binding adds no content-type to a Response of bytes; what arrives is
  // the transport's default for a body without one (Hertz: text/plain).
  assert.notEqual(res.headers.get('content-type'), 'application/octet-stream');
  assert.equal(res.headers.get('x-a'), '1');
  assert.equal(res.headers.get('x-b'), '2');
  assert.equal(await res.text(), 'raw');

  res = await fetch(`${url}/typed-response`);
  assert.equal(res.headers.get('content-type'), 'text/html');

  res = await fetch(`${url}/empty`);
  assert.equal(res.status, 204);

  res = await fetch(`${url}/echo?x=1`, {
    method: 'POST',
    body: 'plain bytes',
    headers: { 'content-type': 'text/plain' },
  });
  assert.deepEqual(await res.json(), {
    isBuffer: true,
    text: 'plain bytes',
    method: 'POST',
    path: '/echo',
  });

  res = await fetch(`${url}/nan`);
  assert.equal(res.status, 500, 'NaN is not JSON: a handler error');

  res = await fetch(`${url}/fetch-response`);
  assert.equal(res.status, 203);
  assert.equal(res.headers.get('x-f'), 'y');
  assert.equal(await res.text(), 'from fetch');
});

test('async handlers are answered when they settle, in any order', async (t) => {
  const app = newApp();
  app.get('/wait/{ms:int}', async (req) => {
    await sleep(req.params.ms);
    return { waited: req.params.ms };
  });
  const url = await serve(t, app);
  const order = [];
  await Promise.all(
    [60, 5, 30].map(async (ms) => {
      const res = await fetch(`${url}/wait/${ms}`);
      assert.deepEqual(await res.json(), { waited: ms });
      order.push(ms);
    }),
  );
  assert.deepEqual(order, [5, 30, 60]);
});

test('req.signal is aborted when the client disconnects', async (t) => {
  const app = newApp();
  let entered;
  const enteredP = new Promise((resolve) => {
    entered = resolve;
  });
  let aborted;
  const abortedP = new Promise((resolve) => {
    aborted = resolve;
  });
  app.get('/slow', async (req) => {
    entered();
    await new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }));
    aborted(req.signal.reason);
    return 'never sent';
  });
  const url = await serve(t, app);

  const client = http.get(`${url}/slow`);
  client.on('error', () => {});
  await enteredP;
  client.destroy();
  const reason = await Promise.race([abortedP, sleep(5000).then(() => 'timeout')]);
  assert.notEqual(reason, 'timeout', 'the handler saw the abort');
  assert.equal(reason.name, 'AbortError');
});

test("registerRoute takes raw schemas (the fixture servers' API)", async (t) => {
  const app = newApp();
  app.registerRoute(
    'GET',
    '/r/{id}',
    {
      parameterSchema: {
        type: 'object',
        properties: {
          id: { type: 'integer', source: 'path' },
          n: { type: 'number', source: 'query' },
          'x-k': { type: 'string', source: 'header' },
        },
        required: ['id'],
      },
    },
    (req) => ({ params: req.params, n: req.query.n, k: req.headers['x-k'] }),
  );
  app.registerRoute(
    'POST',
    '/r',
    { bodySchema: { type: 'object', properties: { a: { type: 'integer' } } } },
    (req) => req.body,
  );
  const url = await serve(t, app);

  let res = await fetch(`${url}/r/3?n=1.5`, { headers: { 'x-k': 'v' } });
  assert.deepEqual(await res.json(), { params: { id: 3 }, n: 1.5, k: 'v' });
  res = await fetch(`${url}/r`, {
    method: 'POST',
    body: 'a=2',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.deepEqual(await res.json(), { a: 2 });
});

test('a Zod-like schema is converted through its toJSONSchema()', async (t) => {
  const app = newApp();
  const zodish = {
    _zod: {},
    toJSONSchema: () => ({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { n: { type: 'integer', minimum: 1 } },
      required: ['n'],
    }),
  };
  app.get('/z', { query: zodish }, (req) => req.query.n);
  const url = await serve(t, app);
  assert.equal(await (await fetch(`${url}/z?n=4`)).text(), '4');
  assert.equal((await fetch(`${url}/z?n=0`)).status, 422);
});

test("config errors name the field in the core's words", () => {
  assert.throws(
    () => new Spikard({ port: 70000 }),
    (err) =>
      err instanceof RangeError &&
      /^ServerConfig\.port=70000: /.test(err.message) &&
      /65535/.test(err.message),
  );
  assert.throws(
    () => new Spikard({ port: 'x' }),
    (err) => err instanceof TypeError && /ServerConfig\.port/.test(err.message),
  );
  assert.throws(
    () => new Spikard({ maxBodySize: -1 }),
    (err) => err instanceof RangeError && /ServerConfig\.maxBodySize/.test(err.message),
  );
  assert.throws(
    () => new Spikard({ maxJsonDepth: 0 }),
    (err) =>
      err instanceof RangeError &&
      err.message === 'ServerConfig.maxJsonDepth=0: must be an integer in 1..10000',
  );
  assert.throws(
    () => new Spikard({ quiet: 'yes' }),
    (err) => err instanceof TypeError && /ServerConfig\.quiet/.test(err.message),
  );
  assert.throws(
    () => new Spikard({ requestTimeout: null }),
    (err) => err instanceof TypeError && /ServerConfig\.requestTimeout/.test(err.message),
  );
  assert.throws(
    () => new Spikard({ prot: 1 }),
    (err) => err instanceof TypeError && /"prot"/.test(err.message),
  );
  assert.doesNotThrow(() => new Spikard({ port: 0, requestTimeout: 1.5, quiet: true }));
  assert.throws(() => newApp().get('/x', 'not a function'), TypeError);
  assert.throws(() => newApp().route('FETCH', '/x', () => 1), TypeError);
});

test('close() resolves, frees the port, and an app can listen again', async () => {
  const app = newApp();
  app.get('/', () => 'up');
  const { port, url } = await app.listen({ port: 0 });
  assert.equal(app.port, port);
  assert.equal(url, `http://127.0.0.1:${port}`);
  assert.equal(await (await fetch(url, { headers: { connection: 'close' } })).text(), 'up');
  await app.close();
  assert.equal(app.port, undefined);
  await assert.rejects(fetch(url));
  await app.close(); // idempotent

  const again = await app.listen({ port: 0 });
  assert.equal(await (await fetch(again.url)).text(), 'up');
  await app.close();
});

test('close() lets an in-flight request finish', async () => {
  const app = newApp({ shutdownTimeout: 2 });
  app.get('/slow', async () => {
    await sleep(100);
    return 'done';
  });
  const { url } = await app.listen({ port: 0 });
  const pending = fetch(`${url}/slow`);
  await sleep(30);
  const closed = app.close();
  const res = await pending;
  assert.equal(await res.text(), 'done');
  await closed;
});

test('the ES module exports the same names', async () => {
  const esm = await import('../lib/index.mjs');
  assert.equal(esm.Spikard, Spikard);
  assert.equal(esm.Response, Response);
  assert.equal(esm.ProblemError, ProblemError);
});

test('names a client chooses never reach an object prototype', async (t) => {
  const app = newApp();
  app.get(
    '/echo',
    { query: { type: 'object', properties: { page: { type: 'integer' } } } },
    async (req) => ({
      query: Object.getPrototypeOf(req.query) === Object.prototype,
      proto: req.query.__proto__,
      page: req.query.page,
      other: req.query.other,
      header: Object.getPrototypeOf(req.headers) === Object.prototype,
      headerValue: Object.getOwnPropertyDescriptor(req.headers, '__proto__')?.value,
      cookie: Object.getOwnPropertyDescriptor(req.cookies, '__proto__')?.value,
    }),
  );
  const url = await serve(t, app);
  const res = await new Promise((resolve, reject) => {
    const req = http.get(
      `${url}/echo?__proto__=x&__proto__=y&page=3&other=1&other=2`,
      { headers: { ['__proto__']: 'h', cookie: '__proto__=c' } },
      (r) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve(JSON.parse(body)));
      },
    );
    req.on('error', reject);
  });
  assert.deepEqual(res, {
    query: true,
    proto: ['x', 'y'],
    page: 3,
    other: ['1', '2'],
    header: true,
    headerValue: 'h',
    cookie: 'c',
  });
});
