'use strict';
// jwtAuth, apiKeyAuth and rateLimit (core/guard.go) through the Node face,
// over real HTTP: 401s in the core's words, claims on req.claims, route
// choices, 429 with its headers, and options checked where they are written.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { Spikard } = require('..');

const SECRET = 'your-secret-key';

async function serve(t, app) {
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return url;
}

const b64 = (buf) => Buffer.from(buf).toString('base64url');

function hs256(claims, secret = SECRET) {
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify(claims));
  const sig = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64(sig)}`;
}

const bearer = (claims, secret) => ({ authorization: `Bearer ${hs256(claims, secret)}` });

test('jwtAuth: 401 without a token, claims with one, a route opting out', async (t) => {
  const app = new Spikard({
    quiet: true,
    jwtAuth: {
      secret: SECRET,
      algorithm: 'HS256',
      audience: ['api.example.com'],
      issuer: 'auth.example.com',
      leeway: 30,
    },
  });
  app.get('/me', async (req) => ({
    claims: req.claims,
    auth: 'authorization' in req.headers,
    pseudo: ':claims' in req.headers,
  }));
  app.get('/health', { jwtAuth: false }, async (req) => ({ claims: req.claims }));
  const url = await serve(t, app);
  const now = Math.floor(Date.now() / 1000);
  const good = { sub: 'user123', aud: 'api.example.com', iss: 'auth.example.com', exp: now + 600 };

  let r = await fetch(`${url}/me`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="api"');
  assert.deepEqual(await r.json(), {
    type: 'https://spikard.dev/errors/unauthorized',
    title: 'Missing or invalid Authorization header',
    status: 401,
    detail: "Expected 'Authorization: Bearer <token>'",
  });
  r = await fetch(`${url}/me`, { headers: bearer(good) });
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { claims: good, auth: true, pseudo: false });
  r = await fetch(`${url}/me`, { headers: bearer({ ...good, aud: ['elsewhere'] }) });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).detail, 'Token audience is invalid');
  r = await fetch(`${url}/me`, { headers: bearer({ ...good, exp: now - 600 }) });
  assert.equal((await r.json()).detail, 'Token has expired');
  r = await fetch(`${url}/health`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { claims: null });
});

test('apiKeyAuth: header, query, deprecated and invalid keys', async (t) => {
  const app = new Spikard({
    quiet: true,
    apiKeyAuth: { keys: ['sk_new'], deprecatedKeys: ['sk_old'], headerName: 'X-API-Token' },
  });
  app.get('/data', async () => ({ data: 'sensitive' }));
  const url = await serve(t, app);
  assert.equal((await fetch(`${url}/data`, { headers: { 'x-api-token': 'sk_new' } })).status, 200);
  const old = await fetch(`${url}/data`, { headers: { 'x-api-token': 'sk_old' } });
  assert.equal(old.headers.get('x-api-key-deprecated'), 'true');
  assert.equal((await fetch(`${url}/data?api_key=sk_new`)).status, 200);
  const bad = await fetch(`${url}/data`, { headers: { 'x-api-token': 'nope' } });
  assert.equal(bad.status, 401);
  assert.equal((await bad.json()).title, 'Invalid API key');
});

test('rateLimit: 429 after the burst, with the RateLimit headers', async (t) => {
  const app = new Spikard({ quiet: true, rateLimit: { perSecond: 0.5, burst: 3 } });
  app.get('/l', async () => ({ ok: true }));
  app.get('/free', { rateLimit: false }, async () => ({ ok: true }));
  const url = await serve(t, app);
  const statuses = [];
  let last;
  for (let i = 0; i < 4; i++) {
    last = await fetch(`${url}/l`);
    statuses.push(last.status);
    if (i === 0) assert.equal(last.headers.get('ratelimit-remaining'), '2');
  }
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  assert.equal(last.headers.get('ratelimit-limit'), '3');
  assert.ok(['1', '2'].includes(last.headers.get('retry-after')));
  assert.equal((await last.json()).title, 'Too Many Requests');
  const free = await fetch(`${url}/free`);
  assert.equal(free.status, 200);
  assert.equal(free.headers.get('ratelimit-limit'), null);
});

test('options are checked where they are written, naming the field', () => {
  assert.throws(() => new Spikard({ jwtAuth: { algorithm: 'HS256' } }), {
    name: 'RangeError',
    message: 'ServerConfig.jwtAuth.secret=undefined: is required for HS256',
  });
  assert.throws(() => new Spikard({ jwtAuth: { secret: 's', leway: 3 } }), {
    name: 'TypeError',
    message: /ServerConfig.jwtAuth: unknown field "leway"/,
  });
  assert.throws(() => new Spikard({ rateLimit: { perSecond: 0, burst: 1 } }), {
    name: 'RangeError',
    message: 'ServerConfig.rateLimit.perSecond=0: must be a positive number, got 0',
  });
  assert.throws(() => new Spikard({ apiKeyAuth: { keys: [] } }), {
    message: 'ServerConfig.apiKeyAuth.keys=[]: must hold at least one key',
  });
  const app = new Spikard();
  assert.throws(() => app.get('/x', { rateLimit: true }, () => null), {
    message: 'GET /x.rateLimit=true: must be an object or false',
  });
});
