'use strict';
// Logging: the listening and stopped lines, and the core's access lines
// (accessLog: true) handed to the logger's info(), one call per line.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Spikard } = require('..');

// The core's format (include/spikard.h, SPIKARD_EVENT_LOG).
const LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ "(\S+) (\S+) HTTP\/1\.1" (\d{3}) (\d+\.\d{3})ms (\S+)$/;

function recorder() {
  const lines = [];
  return { lines, logger: { info: (message) => lines.push(message) } };
}

function newApp(config) {
  const app = new Spikard(config);
  app.get(
    '/items/{id}',
    { params: { type: 'object', properties: { id: { type: 'integer' } } } },
    (req) => ({
      id: req.params.id,
    }),
  );
  app.get('/slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return 'slow';
  });
  return app;
}

test('access lines reach the logger, the last ones before close() resolves', async () => {
  const { lines, logger } = recorder();
  const app = newApp({ accessLog: true, logger });
  const { url, port } = await app.listen({ host: '127.0.0.1', port: 0 });
  const replies = [
    await fetch(`${url}/items/7?x=1`, { headers: { 'x-request-id': 'req-7' } }),
    await fetch(`${url}/slow`),
    await fetch(`${url}/items/nope`),
    await fetch(`${url}/missing`),
  ];
  assert.deepEqual(
    replies.map((r) => r.status),
    [200, 200, 422, 404],
  );
  // Each line names the request's id: the client's own, or the core's, sent back.
  const ids = replies.map((r) => r.headers.get('x-request-id'));
  assert.equal(ids[0], 'req-7');
  for (const id of ids.slice(1))
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  await app.close();
  assert.equal(lines[0], `Spikard listening on http://127.0.0.1:${port}`);
  assert.equal(lines.at(-1), `Spikard stopped (http://127.0.0.1:${port})`);
  const access = lines.slice(1, -1).map((line) => LINE.exec(line));
  assert.ok(
    access.every((m) => m !== null),
    lines.join('\n'),
  );
  assert.deepEqual(
    access.map((m) => [m[1], m[2], m[3], m[5]]),
    [
      ['GET', '/items/7?x=1', '200', 'req-7'],
      ['GET', '/slow', '200', ids[1]],
      ['GET', '/items/nope', '422', ids[2]],
      ['GET', '/missing', '404', ids[3]],
    ],
  );
  assert.ok(Number(access[1][4]) >= 20, `the slow request took ${access[1][4]}ms`);
});

test('the access log is off by default; quiet has no listening line', async () => {
  const { lines, logger } = recorder();
  const app = newApp({ logger, quiet: true });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  assert.equal((await fetch(`${url}/items/1`)).status, 200);
  await app.close();
  assert.deepEqual(lines, []);
});

test('many requests lose no line', async () => {
  const { lines, logger } = recorder();
  const app = newApp({ accessLog: true, logger, quiet: true });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  const n = 200;
  await Promise.all(
    Array.from({ length: n }, (_, i) => fetch(`${url}/items/${i}`).then((r) => r.text())),
  );
  await app.close();
  const paths = lines.map((line) => LINE.exec(line)[2]).sort();
  assert.deepEqual(paths, Array.from({ length: n }, (_, i) => `/items/${i}`).sort());
});

test('logger is checked at construction', () => {
  assert.throws(
    () => new Spikard({ logger: { log() {} } }),
    (err) => err instanceof TypeError && /ServerConfig\.logger=.*info\(message\)/.test(err.message),
  );
  assert.doesNotThrow(() => new Spikard({ logger: false, accessLog: true }));
  assert.doesNotThrow(() => new Spikard({ logger: console }));
});

test('logger false: nothing, even with the access log on', async () => {
  const app = newApp({ logger: false, accessLog: true });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  assert.equal((await fetch(`${url}/items/1`)).status, 200);
  await app.close(); // nothing to see; it must not throw
});
