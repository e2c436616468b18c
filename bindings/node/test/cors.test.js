'use strict';
// Request ids and CORS through real HTTP: the core does the work, the
// binding only checks and passes the configuration.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Spikard } = require('..');

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function serve(t, app) {
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return url;
}

test('request ids: generated, kept when sane, seen by the handler', async (t) => {
  const app = new Spikard({ quiet: true });
  app.get('/id', undefined, (req) => ({ id: req.requestId }));
  const url = await serve(t, app);
  const made = await fetch(`${url}/id`);
  const id = made.headers.get('x-request-id');
  assert.match(id, UUID4);
  assert.deepEqual(await made.json(), { id });
  const kept = await fetch(`${url}/id`, { headers: { 'X-Request-ID': 'trace-9' } });
  assert.equal(kept.headers.get('x-request-id'), 'trace-9');
  assert.deepEqual(await kept.json(), { id: 'trace-9' });
  const long = await fetch(`${url}/id`, { headers: { 'X-Request-ID': 'x'.repeat(129) } });
  assert.match(long.headers.get('x-request-id'), UUID4);
  const missing = await fetch(`${url}/nowhere`, { headers: { 'X-Request-ID': 'p-1' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-request-id'), 'p-1');
});

test('request ids can be turned off', async (t) => {
  const app = new Spikard({ quiet: true, requestId: false });
  app.get('/id', undefined, (req) => ({ id: req.requestId ?? null }));
  const url = await serve(t, app);
  const r = await fetch(`${url}/id`, { headers: { 'X-Request-ID': 'external' } });
  assert.equal(r.headers.get('x-request-id'), null);
  assert.deepEqual(await r.json(), { id: 'external' });
  assert.throws(
    () => new Spikard({ requestId: 'yes' }),
    (err) => err instanceof TypeError && /ServerConfig\.requestId="yes"/.test(err.message),
  );
});

test('a handler past requestTimeout gets a 408 problem', async (t) => {
  const app = new Spikard({ quiet: true, requestTimeout: 0.2 });
  app.get('/slow', undefined, async (req) => {
    await new Promise((resolve) => req.signal.addEventListener('abort', resolve));
    return 'late';
  });
  const url = await serve(t, app);
  const r = await fetch(`${url}/slow`);
  assert.equal(r.status, 408);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal((await r.json()).detail, 'Request not answered within request_timeout (0.2 s)');
});

function corsApp() {
  const app = new Spikard({
    quiet: true,
    cors: {
      allowOrigins: ['https://app.example', /https:\/\/[a-z]+\.tenant\.example/],
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['X-Custom'],
      maxAge: 3600,
    },
  });
  app.get('/items', undefined, () => ({ items: [] }));
  app.get('/open', { cors: false }, () => 'open');
  app.registerRoute('GET', '/any', { cors: { allowOrigins: ['*'], maxAge: null } }, () => 'any');
  app.sse('/events', undefined, async function* events() {
    yield 'one';
  });
  return app;
}

test('CORS: allowed, refused, preflight, per route, SSE', async (t) => {
  const url = await serve(t, corsApp());
  const ok = await fetch(`${url}/items`, { headers: { Origin: 'https://app.example' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.equal(ok.headers.get('vary'), 'Origin');
  const regex = await fetch(`${url}/items`, { headers: { Origin: 'https://acme.tenant.example' } });
  assert.equal(regex.headers.get('access-control-allow-origin'), 'https://acme.tenant.example');
  const bad = await fetch(`${url}/items`, { headers: { Origin: 'https://evil.example' } });
  assert.equal(bad.status, 403);
  assert.equal(
    (await bad.json()).detail,
    "CORS request from origin 'https://evil.example' not allowed",
  );
  const pre = await fetch(`${url}/items`, {
    method: 'OPTIONS',
    headers: {
      Origin: 'https://app.example',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'X-Custom',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, POST');
  assert.equal(pre.headers.get('access-control-max-age'), '3600');
  const open = await fetch(`${url}/open`, { headers: { Origin: 'https://evil.example' } });
  assert.equal(open.status, 200);
  assert.equal(open.headers.get('access-control-allow-origin'), null);
  const any = await fetch(`${url}/any`, { headers: { Origin: 'https://whoever.example' } });
  assert.equal(any.headers.get('access-control-allow-origin'), '*');
  const events = await fetch(`${url}/events`, { headers: { Origin: 'https://app.example' } });
  assert.equal(events.headers.get('content-type'), 'text/event-stream');
  assert.equal(events.headers.get('access-control-allow-origin'), 'https://app.example');
  await events.text();
});

test('CORS policies are checked where written, naming the field', () => {
  const cases = [
    [
      { cors: { allowOrigins: ['https://a.example/'] } },
      RangeError,
      /ServerConfig\.cors\.allowOrigins=\["https:\/\/a.example\/"\]: .*not an origin/,
    ],
    [
      { cors: { allowOrigins: [] } },
      RangeError,
      /ServerConfig\.cors\.allowOrigins=\[\]: must list at least one origin/,
    ],
    [
      { cors: { allowOrigins: 'https://a.example' } },
      TypeError,
      /ServerConfig\.cors\.allowOrigins="https:\/\/a.example": must be an array/,
    ],
    [{ cors: { allowOrigins: [/a/i] } }, RangeError, /has flags/],
    [
      { cors: { allowOrigins: ['*'], maxAge: -5 } },
      RangeError,
      /ServerConfig\.cors\.maxAge=-5: must be an integer/,
    ],
    [
      { cors: { allowOrigins: ['*'], allowed: 1 } },
      TypeError,
      /ServerConfig\.cors: unknown field "allowed"/,
    ],
    [{ cors: true }, TypeError, /ServerConfig\.cors=true: expected a CORS policy object/],
  ];
  for (const [config, Kind, pattern] of cases) {
    assert.throws(
      () => new Spikard(config),
      (err) => err instanceof Kind && pattern.test(err.message),
      JSON.stringify(config),
    );
  }
  const app = new Spikard({ quiet: true });
  assert.throws(
    () => app.get('/x', { cors: true }, () => 1),
    (err) => err instanceof TypeError && /GET \/x cors=true: .* or false/.test(err.message),
  );
});
