'use strict';
// The addon (src/NATIVE.md) over real HTTP on loopback: one app, one poller
// on lane 0, and a tiny dispatcher by route id standing in for lib/.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');

const native = require(path.join(__dirname, '..', 'build', 'Release', 'spikard.node'));
const C = native.constants;

/** GET 127.0.0.1:port/path without keep-alive: { status, headers, body }. */
function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
  });
}

/** Resolves with the next event of exchange (or of any exchange when null) matching pred. */
function waitFor(pred) {
  return new Promise((resolve) => waiters.push({ pred, resolve }));
}

const seen = []; // every event, in order
const waiters = [];
const handlers = new Map(); // route id -> (event) => void
let app;
let poller;
let port;
let routes;
let closedCalls = 0;
let resolveClosed;
const closed = new Promise((resolve) => (resolveClosed = resolve));

function onEvents(events) {
  if (events === null) {
    closedCalls++;
    resolveClosed();
    return;
  }
  assert.ok(Array.isArray(events) && events.length > 0 && events.length % 6 === 0);
  for (let i = 0; i < events.length; i += 6) {
    const ev = events.slice(i, i + 6); // the flat batch, one event at a time
    seen.push(ev);
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i].pred(ev)) {
        waiters.splice(i, 1)[0].resolve(ev);
        break;
      }
    }
    if (ev[2] !== null) {
      handlers.get(ev[1])(ev);
    }
  }
}

before(() => {
  app = new native.App(JSON.stringify({ host: '127.0.0.1', port: 0, quiet: true }));
  routes = {
    item: app.addRoute(
      JSON.stringify({
        method: 'GET',
        path: '/items/{id}',
        parameter_schema: {
          type: 'object',
          properties: { id: { type: 'integer', source: 'path' } },
          required: ['id'],
        },
        facts: ['meta'],
      }),
    ),
    boom: app.addRoute(JSON.stringify({ method: 'GET', path: '/boom' })),
    refused: app.addRoute(JSON.stringify({ method: 'GET', path: '/refused' })),
    stream: app.addRoute(JSON.stringify({ method: 'GET', path: '/stream' })),
  };
  handlers.set(routes.item, (ev) => {
    const [exchange, , params] = ev;
    const { id } = JSON.parse(params);
    const ok = app.respond([
      [
        exchange,
        200,
        [
          ['content-type', 'application/json'],
          ['x-item', String(id)],
        ],
        `{"item":${id}}`,
        0,
      ],
    ]);
    assert.equal(ok, true);
  });
  handlers.set(routes.boom, (ev) => {
    assert.equal(app.respond([[ev[0], 0, null, '', C.RESPONSE_HANDLER_ERROR]]), true);
  });
  handlers.set(routes.refused, (ev) => {
    assert.throws(
      () => app.respond([[ev[0], 200, null, 'nope', 1 << 31]]),
      (err) =>
        err instanceof native.SpikardError &&
        err.code === C.E_UNSUPPORTED &&
        err.message.length > 0,
    );
  });
  handlers.set(routes.stream, (ev) => {
    const exchange = ev[0];
    assert.equal(
      app.respond([
        [exchange, 200, [['content-type', 'text/plain']], Buffer.from('first,'), C.RESPONSE_STREAM],
      ]),
      true,
    );
    // Write after the open, from a later turn, as a producer would.
    setImmediate(() => {
      const codes = app.streamWrite([
        [exchange, 0, 'second,', null, null, 0],
        [exchange, C.CHUNK_END, Buffer.from('third'), '', '', 0],
      ]);
      assert.deepEqual(codes, [C.OK, C.OK]);
    });
  });
  app.start();
  port = app.port;
  poller = new native.Poller(app, 0, onEvents);
});

after(() => {
  poller.close();
  app.close();
});

test('module: ABI, constants, checkConfig, workerIndex, signalOnstack', () => {
  assert.equal(Math.floor(native.abiVersion / 10000), 2);
  assert.ok(native.abiVersion >= C.ABI_VERSION);
  assert.equal(C.RESPONSE_STREAM, 4);
  assert.equal(C.E_UNSUPPORTED, -5);
  native.checkConfig('{"port":0}');
  assert.throws(
    () => native.checkConfig('{"prot":1}'),
    (err) =>
      err instanceof native.SpikardError && err.code === C.E_INVALID && /"prot"/.test(err.message),
  );
  assert.throws(() => native.checkConfig('{"port":null}'), native.SpikardError);
  assert.equal(native.workerIndex(), null);
  native.signalOnstack(15);
  assert.throws(() => native.signalOnstack(100000), native.SpikardError);
});

test('App refuses bad documents with SpikardError', () => {
  assert.throws(
    () => new native.App('{"port": "x"}'),
    (err) =>
      err instanceof native.SpikardError && err.code === C.E_INVALID && /port/.test(err.message),
  );
  const other = new native.App('{"port":0,"quiet":true}');
  assert.throws(() => other.addRoute('{"method":"GET"}'), native.SpikardError);
  assert.throws(
    () => other.port,
    (err) => err.code === C.E_STATE,
  );
  other.close();
  other.close(); // idempotent
  assert.throws(
    () => other.addRoute('{"method":"GET","path":"/"}'),
    (err) => err.code === C.E_STATE,
  );
});

test('GET /items/7: the event carries params and meta; the answer reaches the client', async () => {
  const event = waitFor((ev) => ev[1] === routes.item);
  const res = await get(port, '/items/7?x=1');
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-item'], '7');
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.body, '{"item":7}');

  const [exchange, route, params, body, facts, attachments] = await event;
  assert.equal(typeof exchange, 'number', 'an exchange below 2^53 is a plain number');
  assert.ok(Number.isSafeInteger(exchange) && exchange > 0);
  assert.equal(route, routes.item);
  assert.equal(typeof params, 'string');
  assert.deepEqual(JSON.parse(params), { id: 7 });
  assert.equal(body, null);
  assert.equal(attachments, null);
  const [method, p, query, headers, cookies, queryPairs, uploads] = JSON.parse(facts);
  assert.equal(method, 'GET');
  assert.equal(p, '/items/7');
  assert.equal(query, 'x=1');
  const host = headers.indexOf('host');
  assert.ok(host >= 0 && host % 2 === 0, 'headers are name, value, name, value, ...');
  assert.equal(headers[host + 1], `127.0.0.1:${port}`);
  assert.deepEqual([cookies, queryPairs, uploads], [[], [], []], 'only meta was asked for');
});

test('GET /items/x: 422 from core, and no event arrives', async () => {
  const before = seen.length;
  const res = await get(port, '/items/x');
  assert.equal(res.status, 422);
  assert.match(res.headers['content-type'], /application\/problem\+json/);
  // Give a stray event time to show up.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(seen.length, before);
});

test('RESPONSE_HANDLER_ERROR: the standard 500 problem', async () => {
  const res = await get(port, '/boom');
  assert.equal(res.status, 500);
  assert.match(res.headers['content-type'], /application\/problem\+json/);
  assert.equal(JSON.parse(res.body).status, 500);
});

test('an unknown flag (1 << 31) throws E_UNSUPPORTED and the client gets the 500', async () => {
  const res = await get(port, '/refused');
  assert.equal(res.status, 500);
});

test('respond: a gone exchange is false; bad shapes are TypeErrors', () => {
  assert.equal(app.respond([]), true);
  assert.equal(app.respond([[123456789n, 200, null, '', 0]]), false);
  assert.throws(() => app.respond('x'), TypeError);
  assert.throws(() => app.respond([[1n, 200, null, 42, 0]]), TypeError);
  assert.throws(() => app.respond([[1n, 200, [['a']], '', 0]]), TypeError);
  assert.throws(() => app.respond([['x', 200, null, '', 0]]), TypeError);
  assert.deepEqual(app.streamWrite([[123456789n, 0, 'x']]), [C.E_NOT_FOUND]);
});

test('streamWrite on a STREAM answer: chunked bytes, then EVENT_WRITTEN', async () => {
  const request = waitFor((ev) => ev[1] === routes.stream && ev[2] !== null);
  const written = request.then(([exchange]) =>
    waitFor((ev) => ev[0] === exchange && ev[2] === null),
  );
  const res = await get(port, '/stream');
  assert.equal(res.status, 200);
  assert.equal(res.headers['transfer-encoding'], 'chunked');
  assert.equal(res.body, 'first,second,third');
  const ev = await written;
  assert.equal(ev[3], C.EVENT_WRITTEN);
  assert.equal(ev[4], 0);
  assert.equal(ev[5], null);
  assert.equal(ev.length, 6);
});

test('a batch of concurrent requests is answered', async () => {
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => get(port, `/items/${i}`)));
  results.forEach((res, i) => {
    assert.equal(res.status, 200);
    assert.equal(res.body, `{"item":${i}}`);
  });
});

test('close is refused while a poller is open; stop resolves and onEvents(null) arrives once', async () => {
  assert.throws(
    () => app.close(),
    (err) => err instanceof native.SpikardError && err.code === C.E_STATE,
  );
  const stopped = app.stop(1000);
  assert.ok(stopped instanceof Promise);
  await stopped;
  await closed;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(closedCalls, 1);
  // The poller freed itself at E_CLOSED: close() is a no-op, app.close() works.
  poller.close();
  app.close();
  assert.throws(
    () => app.respond([]),
    (err) => err.code === C.E_STATE,
  );
});
