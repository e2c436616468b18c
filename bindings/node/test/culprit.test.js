'use strict';
// Mistakes a new user makes first: each error names the culprit.

const assert = require('node:assert/strict');
const net = require('node:net');
const { test } = require('node:test');

const { ListenError, Spikard } = require('..');

test('the same route twice names both handlers and where they were registered', () => {
  const app = new Spikard({ quiet: true });
  app.get('/users/{id}', async function first() {
    return {};
  });
  assert.throws(
    () =>
      app.get('/users/{uid}', async function second() {
        return {};
      }),
    (err) => {
      assert.match(
        err.message,
        /^GET \/users\/\{uid\} is registered twice: by first \(.*culprit\.test\.js:\d+\) and by second \(.*culprit\.test\.js:\d+\)$/,
      );
      return true;
    },
  );
  // Another method, or another placeholder type, is another route.
  app.post('/users/{id}', () => ({}));
  app.get('/users/{id:int}/x', () => ({}));
  app.get('/users/{id:uuid}/x', () => ({}));
});

test('a port in use is a ListenError with host and port', async () => {
  const taken = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => taken.on('listening', resolve));
  const { port } = taken.address();
  const app = new Spikard({ quiet: true });
  app.get('/', () => ({}));
  try {
    await assert.rejects(app.listen({ host: '127.0.0.1', port }), (err) => {
      assert.ok(err instanceof ListenError);
      assert.equal(err.name, 'ListenError');
      assert.equal(err.host, '127.0.0.1');
      assert.equal(err.port, port);
      assert.equal(err.message, `cannot listen on 127.0.0.1:${port}: bind: address already in use`);
      return true;
    });
  } finally {
    taken.close();
  }
});

test('returning nothing for a response schema that null does not fit is a 500 and a log line', async () => {
  const { TestClient } = require('..');
  const app = new Spikard({ quiet: true });
  const User = { type: 'object', properties: { id: { type: 'integer' } } };
  app.get('/user', { response: User }, async () => {});
  app.get('/maybe', { response: { anyOf: [User, { type: 'null' }] } }, () => undefined);
  app.get('/free', () => undefined);
  const logged = [];
  const error = console.error;
  console.error = (...args) => logged.push(args.map(String).join(' '));
  const client = new TestClient(app);
  try {
    const res = await client.get('/user');
    assert.equal(res.status, 500);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    assert.equal(logged.length, 1);
    assert.match(
      logged[0],
      /the handler for GET \/user returned undefined, but its response schema does not admit null/,
    );
    // A schema that admits null, or none at all: null is the answer.
    for (const path of ['/maybe', '/free']) {
      const ok = await client.get(path);
      assert.equal(ok.status, 200);
      assert.equal(ok.text(), 'null');
    }
    assert.equal(logged.length, 1);
  } finally {
    console.error = error;
    await client.close();
  }
});
