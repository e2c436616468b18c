'use strict';
// req.background(): tasks start once the answer is out, are never lost when
// the client leaves, and close() waits for them.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');

const { Spikard } = require('..');

function newApp(config = {}) {
  return new Spikard({ quiet: true, ...config });
}

async function serve(t, app) {
  const { port, url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return { port, url };
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

function raw(port, request) {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.write(request);
  return sock;
}

test('a task runs after the response, with what the handler gave it', async (t) => {
  const app = newApp();
  const ran = deferred();
  app.post('/process', { body: { type: 'object' } }, async (req) => {
    req.background(async () => ran.resolve(req.body));
    return { status: 'processing' };
  });
  const { url } = await serve(t, app);
  const res = await fetch(`${url}/process`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"job":7}',
  });
  assert.deepEqual(await res.json(), { status: 'processing' });
  assert.deepEqual(await ran.promise, { job: 7 });
});

test('a task starts only once the client has the whole answer', async (t) => {
  const app = newApp();
  let started = false;
  const ran = deferred();
  const big = Buffer.alloc(32 << 20, 'x'); // more than the socket buffers hold
  app.get('/big', (req) => {
    req.background(() => {
      started = true;
      ran.resolve();
    });
    return big;
  });
  const { port } = await serve(t, app);
  const sock = raw(port, 'GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
  sock.pause();
  await sleep(500);
  assert.equal(started, false, 'the client has read nothing: the answer cannot all be out');
  let got = 0;
  let body = -1;
  sock.resume();
  for await (const chunk of sock) {
    if (body < 0) {
      const end = chunk.indexOf('\r\n\r\n');
      body = chunk.length - end - 4;
      got = body;
    } else {
      got += chunk.length;
    }
    if (got >= big.length) break;
  }
  sock.destroy();
  await ran.promise;
});

test('tasks run in order; a failure is logged and the next one runs', async (t) => {
  const app = newApp();
  const order = [];
  const done = deferred();
  const logged = [];
  const error = console.error;
  console.error = (...args) => logged.push(args.map(String).join(' '));
  t.after(() => {
    console.error = error;
  });
  app.get('/two', (req) => {
    req.background(async function first() {
      order.push('first');
      throw new Error('first failed');
    });
    req.background(() => {
      order.push('second');
      done.resolve();
    });
    return 'ok';
  });
  const { url } = await serve(t, app);
  assert.equal(await (await fetch(`${url}/two`)).text(), 'ok');
  await done.promise;
  assert.deepEqual(order, ['first', 'second']);
  assert.ok(
    logged.some(
      (line) => line.includes('background task first failed') && line.includes('first failed'),
    ),
  );
});

test('a client that leaves before the whole answer does not lose the task', async (t) => {
  const app = newApp();
  const ran = deferred();
  app.get('/big', (req) => {
    req.background(() => ran.resolve());
    return Buffer.alloc(32 << 20, 'y');
  });
  const { port } = await serve(t, app);
  const sock = raw(port, 'GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
  await once(sock, 'data'); // the answer has begun
  sock.destroy();
  await ran.promise;
});

test('a handler that throws runs none of its tasks; misuse is a clear error', async (t) => {
  const app = newApp();
  let ran = false;
  let late;
  app.get('/boom', (req) => {
    req.background(() => {
      ran = true;
    });
    throw new Error('boom');
  });
  app.get('/late', (req) => {
    assert.throws(() => req.background('nope'), /task must be a function/);
    late = req;
    return 'ok';
  });
  const error = console.error;
  console.error = () => {};
  t.after(() => {
    console.error = error;
  });
  const { url } = await serve(t, app);
  assert.equal((await fetch(`${url}/boom`)).status, 500);
  assert.equal((await fetch(`${url}/late`)).status, 200);
  assert.throws(() => late.background(() => {}), /the answer has been sent already/);
  await sleep(50);
  assert.equal(ran, false);
});

test('close() waits for running tasks', async () => {
  const app = newApp({ shutdownTimeout: 5 });
  let finished = false;
  app.get('/start', (req) => {
    req.background(async () => {
      await sleep(300);
      finished = true;
    });
    return 'started';
  });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  assert.equal(
    await (await fetch(`${url}/start`, { headers: { connection: 'close' } })).text(),
    'started',
  );
  await app.close(); // the task starts on WRITTEN, or at the latest in close()
  assert.equal(finished, true, 'close() resolved only after the task had finished');
});
