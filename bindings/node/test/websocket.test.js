'use strict';
// WebSockets over real loopback TCP: message handlers, the connection API,
// close codes, subprotocols, origins, back-pressure and broadcast, in process
// and through a real redis-server this file starts. Python's
// tests/test_websockets.py checks the same behaviour.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');

const { ProblemError, Spikard, TestClient, WebSocketDisconnect } = require('..');

const REDIS = '/usr/bin/redis-server';

function newApp(config = {}) {
  return new Spikard({ quiet: true, ...config });
}

function clientOf(t, app) {
  const client = new TestClient(app);
  t.after(() => client.close());
  return client;
}

/** A deferred: a promise and its resolve. */
function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves with the rejection of `promise` (which must reject). */
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

/** The close a receive ends with: `{ code, reason }`. */
async function closeOf(ws) {
  const err = await rejection(ws.receive());
  assert.ok(err instanceof WebSocketDisconnect, `not a WebSocketDisconnect: ${err}`);
  return { code: err.code, reason: err.reason };
}

/** A client frame (FIN, masked). */
function clientFrame(opcode, payload) {
  assert.ok(payload.length < 126);
  const mask = crypto.randomBytes(4);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i & 3];
  return out;
}

/**
 * A WebSocket handshake over a bare socket, for what TestClient does not do
 * (frames it would not send, a client that stops reading): resolves with the
 * socket, paused, and the bytes that came after the 101's head.
 */
function rawSocket(port, target) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.removeListener('data', onData);
      sock.pause();
      const status = head.subarray(0, end).toString('latin1');
      if (!status.startsWith('HTTP/1.1 101')) reject(new Error(status));
      else resolve({ sock, rest: head.subarray(end + 4) });
    };
    sock.on('data', onData);
    sock.on('error', reject);
    sock.write(
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\n\r\n',
    );
  });
}

/** The code of the first server frame, which must be a close, read from `sock` after `rest`. */
function serverClose(sock, rest) {
  return new Promise((resolve, reject) => {
    let buf = rest;
    const check = () => {
      if (buf.length < 4) return;
      sock.removeListener('data', onData);
      if (buf[0] !== 0x88)
        reject(new Error(`not a close frame: ${buf.subarray(0, 8).toString('hex')}`));
      else resolve(buf.readUInt16BE(2));
    };
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      check();
    };
    sock.on('data', onData);
    sock.resume();
    check();
  });
}

test('message handlers: JSON in, the returned value out as JSON; null sends nothing', async (t) => {
  const app = newApp();
  app.websocket('/ws', (message) => ({ echo: message }));
  app.websocket('/quiet', (message) => (message.quiet ? null : { got: message.n }));
  app.websocket(
    '/room/{room}',
    (message, ws) => ({ room: ws.params.room, loud: ws.query.loud, text: message.text }),
    { query: { type: 'object', properties: { loud: { type: 'boolean' } } } },
  );
  const client = clientOf(t, app);

  // The brief's WebSocket Testing sample.
  const ws = await client.websocket('/ws');
  await ws.send(JSON.stringify({ message: 'hello' }));
  const response = JSON.parse(await ws.receive());
  assert.equal(response.echo.message, 'hello');
  await ws.send(Buffer.from('{"in":"binary"}')); // JSON in a binary message is JSON too
  assert.deepEqual(await ws.receiveJson(), { echo: { in: 'binary' } });
  await ws.close();
  assert.equal(ws.closeCode, 1000);

  const quiet = await client.websocket('/quiet');
  await quiet.sendJson({ quiet: true });
  await quiet.sendJson({ n: 2 });
  assert.deepEqual(await quiet.receiveJson(), { got: 2 }, 'the null reply sent nothing');
  await quiet.close();

  const room = await client.websocket('/room/lobby', { query: { loud: 'true' } });
  await room.sendJson({ text: 'hi' });
  assert.deepEqual(await room.receiveJson(), { room: 'lobby', loud: true, text: 'hi' });
  await room.close();
  // Parameters are validated before the handshake is answered.
  const refused = await rejection(client.websocket('/room/lobby', { query: { loud: 'maybe' } }));
  assert.equal(refused.response.status, 422);
  assert.equal(refused.response.headers['content-type'], 'application/problem+json');
  assert.deepEqual(refused.response.json().errors[0].loc, ['query', 'loud']);
});

test('message handlers: text, binary, JSON Schema and Zod-checked messages; what does not fit closes 1007', async (t) => {
  // A Zod-like schema: the core checks its JSON Schema export; what the
  // handler sees is its safeParse's data, which may refuse more (here a
  // refinement no JSON Schema carries).
  const Note = {
    _zod: {},
    toJSONSchema: () => ({
      type: 'object',
      properties: { text: { type: 'string' }, stars: { type: 'integer' } },
      required: ['text'],
    }),
    safeParse(value) {
      if (value.text !== 'forbidden') {
        return { success: true, data: { text: value.text, stars: value.stars || 0 } };
      }
      return { success: false, error: { issues: [{ path: ['text'], message: 'Forbidden' }] } };
    },
  };
  const app = newApp();
  app.websocket('/note', (note) => ({ ...note, stars: note.stars + 1 }), { message: Note });
  app.websocket('/schema', (value) => ({ n: value.n * 2 }), {
    message: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  });
  app.websocket('/bytes', (data) => Buffer.from(data).reverse(), { message: 'binary' });
  app.websocket('/text', (text) => (text === 'quiet' ? undefined : `${text}!`), {
    message: 'text',
  });
  app.websocket('/json', (value) => value);
  const client = clientOf(t, app);

  const note = await client.websocket('/note');
  await note.sendJson({ text: 'hi', stars: 2 });
  assert.deepEqual(await note.receiveJson(), { text: 'hi', stars: 3 });
  await note.sendJson({ stars: 1 }); // no text: the core's check of the schema
  assert.deepEqual(await closeOf(note), { code: 1007, reason: 'message.text: Field required' });
  const refined = await client.websocket('/note');
  await refined.sendJson({ text: 'forbidden' }); // fits the schema, not the refinement
  assert.deepEqual(await closeOf(refined), {
    code: 1007,
    reason: 'the message does not fit the handler: text: Forbidden',
  });

  const schema = await client.websocket('/schema');
  await schema.sendJson({ n: 21 });
  assert.deepEqual(await schema.receiveJson(), { n: 42 });
  await schema.sendJson({ n: 'x' });
  const bad = await closeOf(schema);
  assert.equal(bad.code, 1007);
  assert.match(bad.reason, /^message\.n: Input should be a valid integer/);

  const bytes = await client.websocket('/bytes');
  await bytes.send(Buffer.from([0, 1, 2]));
  assert.deepEqual(await bytes.receive(), Buffer.from([2, 1, 0]));
  await bytes.send('ab'); // text as its UTF-8
  assert.deepEqual(await bytes.receive(), Buffer.from('ba'));
  await bytes.close();

  const text = await client.websocket('/text');
  await text.send('quiet');
  await text.send('loud');
  assert.equal(await text.receive(), 'loud!', 'undefined sent nothing');
  await text.send(Buffer.from([0xff])); // binary that is not UTF-8 is no text
  assert.equal((await closeOf(text)).code, 1007);

  const json = await client.websocket('/json');
  await json.send('not json');
  const { code, reason } = await closeOf(json);
  assert.equal(code, 1007);
  assert.match(reason, /^message: /); // the core's: not JSON
  assert.ok(Buffer.byteLength(reason) <= 123);
});

test('the connection API: accept with a subprotocol and headers, receive and send each kind', async (t) => {
  const app = newApp();
  const seen = [];
  const ended = deferred();
  app.websocket(
    '/chat/{room}',
    async (ws) => {
      seen.push(ws.params.room, ws.query.v, ws.headers['x-user'], ws.cookies.session, ws.path);
      seen.push(ws.subprotocols);
      await ws.accept({ subprotocol: ws.subprotocols.at(-1), headers: { 'x-room': '1' } });
      await ws.sendText('welcome');
      seen.push(await ws.receiveText());
      seen.push(await ws.receiveBytes());
      seen.push(await ws.receiveJson());
      await ws.sendJson({ n: 1 });
      await ws.sendBytes(Buffer.from([0xff]));
      await ws.send(new Uint8Array([1, 2]));
      await ws.send({ as: 'json' });
      try {
        for (;;) seen.push(await ws.receive());
      } catch (err) {
        ended.resolve(err);
      }
    },
    { connection: true, subprotocols: ['chat.v2', 'chat.v1'] },
  );
  const client = clientOf(t, app);
  const ws = await client.websocket('/chat/lobby', {
    query: { v: '3' },
    headers: { 'x-user': 'ada' },
    cookies: { session: 'abc' },
    subprotocols: ['chat.v2', 'chat.v1'],
  });
  assert.equal(ws.subprotocol, 'chat.v1');
  assert.equal(ws.response.status, 101);
  assert.equal(ws.response.headers['x-room'], '1');
  assert.equal(await ws.receive(), 'welcome');
  await ws.send('text');
  await ws.send(Buffer.from('bytes'));
  await ws.send('{"a": [1]}');
  assert.deepEqual(await ws.receiveJson(), { n: 1 });
  assert.deepEqual(await ws.receive(), Buffer.from([0xff]));
  assert.deepEqual(await ws.receive(), Buffer.from([1, 2]));
  assert.deepEqual(await ws.receiveJson(), { as: 'json' });
  await ws.send('last');
  await ws.close(4001, 'done');
  const err = await ended.promise;
  assert.ok(err instanceof WebSocketDisconnect);
  assert.equal(err.code, 4001);
  assert.equal(err.reason, 'done');
  assert.deepEqual(seen, [
    'lobby',
    '3',
    'ada',
    'abc',
    '/chat/lobby',
    ['chat.v2', 'chat.v1'],
    'text',
    Buffer.from('bytes'),
    { a: [1] },
    'last',
  ]);
});

test('subprotocols: the core picks the route’s first the client offers unless the handler chooses', async (t) => {
  const app = newApp();
  app.websocket('/pick', (m) => m, { subprotocols: ['chat.v2', 'chat.v1'] });
  app.websocket(
    '/bad',
    async (ws) => {
      await ws.accept({ subprotocol: 'never.offered' });
    },
    { connection: true },
  );
  const logged = [];
  t.mock.method(console, 'error', (...args) => logged.push(args.map(String).join(' ')));
  const client = clientOf(t, app);
  const both = await client.websocket('/pick', { subprotocols: ['chat.v1', 'chat.v2'] });
  assert.equal(both.subprotocol, 'chat.v2');
  await both.close();
  const one = await client.websocket('/pick', { subprotocols: ['other', 'chat.v1'] });
  assert.equal(one.subprotocol, 'chat.v1');
  await one.close();
  const none = await client.websocket('/pick');
  assert.equal(none.subprotocol, null);
  await none.close();
  // A subprotocol the client did not offer: the core refuses the accept (500).
  const refused = await rejection(client.websocket('/bad', { subprotocols: ['chat.v1'] }));
  assert.equal(refused.response.status, 500);
  assert.ok(
    logged.some((line) => line.includes('WebSocket handler for /bad failed')),
    logged.join('\n'),
  );
});

test('endings: return closes 1000, close(code, reason), refusals, and a throw closes 1011 with its stack logged', async (t) => {
  const app = newApp();
  const logged = [];
  t.mock.method(console, 'error', (...args) => logged.push(args));
  const connection = { connection: true };
  app.websocket(
    '/done',
    async (ws) => {
      await ws.accept();
      await ws.sendText('bye');
    },
    connection,
  );
  app.websocket(
    '/goodbye',
    async (ws) => {
      await ws.accept();
      await ws.close(1000, 'see you');
    },
    connection,
  );
  app.websocket('/refuse', async (ws) => ws.close(), connection);
  app.websocket(
    '/forbid',
    async () => {
      throw new ProblemError(401, 'log in first');
    },
    connection,
  );
  app.websocket(
    '/crash-early',
    async () => {
      throw new Error('before accept');
    },
    connection,
  );
  app.websocket(
    '/crash',
    async (ws) => {
      await ws.accept();
      throw new Error('boom');
    },
    connection,
  );
  app.websocket('/crash-per-message', () => {
    throw new Error('message boom');
  });
  app.websocket(
    '/iterate',
    async (ws) => {
      await ws.accept();
      let count = 0;
      for await (const message of ws) {
        count += 1;
        await ws.sendText(`${count}:${message}`);
      }
    },
    connection,
  );
  const client = clientOf(t, app);

  const done = await client.websocket('/done');
  assert.equal(await done.receive(), 'bye');
  assert.deepEqual(await closeOf(done), { code: 1000, reason: '' });
  const goodbye = await client.websocket('/goodbye');
  assert.deepEqual(await closeOf(goodbye), { code: 1000, reason: 'see you' });

  for (const [where, status, detail] of [
    ['/refuse', 403, 'The WebSocket handler closed the connection before accepting it'],
    ['/forbid', 401, 'log in first'],
    ['/crash-early', 500, undefined],
  ]) {
    const refused = await rejection(client.websocket(where));
    assert.equal(refused.response.status, status, where);
    assert.equal(refused.response.headers['content-type'], 'application/problem+json', where);
    if (detail !== undefined) assert.equal(refused.response.json().detail, detail, where);
  }

  const crash = await client.websocket('/crash');
  assert.deepEqual(await closeOf(crash), { code: 1011, reason: '' });
  const perMessage = await client.websocket('/crash-per-message');
  await perMessage.sendJson(1);
  assert.equal((await closeOf(perMessage)).code, 1011);
  for (const [where, message] of [
    ['/crash', 'boom'],
    ['/crash-early', 'before accept'],
    ['/crash-per-message', 'message boom'],
  ]) {
    const entry = logged.find((args) =>
      args.some((a) => a instanceof Error && a.message === message),
    );
    assert.ok(entry, `the error of ${where} was logged`);
    assert.equal(entry[0], `spikard: WebSocket handler for ${where} failed:`);
    assert.match(entry[1].stack, /at .*websocket\.test\.js/);
  }

  const iterate = await client.websocket('/iterate');
  await iterate.send('a');
  await iterate.send('b');
  assert.deepEqual([await iterate.receive(), await iterate.receive()], ['1:a', '2:b']);
  await iterate.close();
});

test('the core’s limits: 1009 past wsMaxMessageSize, 1007 for text that is not UTF-8, 426 for plain GET', async (t) => {
  const app = newApp({ wsMaxMessageSize: 1024 });
  app.websocket('/echo', (message) => message, { message: 'text' });
  const client = clientOf(t, app);
  const port = new URL(await client.url()).port;

  const ws = await client.websocket('/echo');
  await ws.send('x'.repeat(1024));
  assert.equal((await ws.receive()).length, 1024, 'a message of exactly the limit passes');
  await ws.send('x'.repeat(1025));
  assert.equal((await closeOf(ws)).code, 1009);

  const { sock, rest } = await rawSocket(port, '/echo');
  t.after(() => sock.destroy());
  sock.write(clientFrame(0x1, Buffer.from([0x68, 0xff, 0xfe]))); // "h" and two bytes no UTF-8 has
  assert.equal(await serverClose(sock, rest), 1007);
  sock.destroy(); // no close answer: the core would wait for one at the stop

  const plain = await client.get('/echo');
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.upgrade, 'websocket');
  assert.equal(plain.headers['content-type'], 'application/problem+json');
});

test('origins: a page of another site is refused with a 403 problem; wsOrigins allows listed ones', async (t) => {
  const own = newApp();
  own.websocket('/ws', (m) => ({ m }));
  const listed = newApp({ wsOrigins: ['https://app.example'] });
  listed.websocket('/ws', (m) => ({ m }));
  const ownClient = clientOf(t, own);
  const listedClient = clientOf(t, listed);

  const refused = await rejection(
    ownClient.websocket('/ws', { headers: { origin: 'https://evil.example' } }),
  );
  assert.equal(refused.response.status, 403);
  assert.equal(refused.response.headers['content-type'], 'application/problem+json');
  const noOrigin = await ownClient.websocket('/ws'); // not a browser: always passes
  await noOrigin.close();

  const allowed = await listedClient.websocket('/ws', {
    headers: { origin: 'https://app.example' },
  });
  await allowed.sendJson('hi');
  assert.deepEqual(await allowed.receiveJson(), { m: 'hi' });
  await allowed.close();
  const other = await rejection(
    listedClient.websocket('/ws', { headers: { origin: 'https://evil.example' } }),
  );
  assert.equal(other.response.status, 403);
});

test('app.close() closes open WebSockets with 1001; the handler’s receive ends with it', async () => {
  const app = newApp();
  const ended = deferred();
  app.websocket(
    '/wait',
    async (ws) => {
      await ws.accept();
      await ws.sendText('ready');
      try {
        await ws.receive();
      } catch (err) {
        ended.resolve(err.code);
      }
    },
    { connection: true },
  );
  const client = new TestClient(app);
  const ws = await client.websocket('/wait');
  assert.equal(await ws.receive(), 'ready');
  await app.close();
  assert.equal(await ended.promise, 1001);
  assert.deepEqual(await closeOf(ws), { code: 1001, reason: 'server shutting down' });
  await client.close();
});

test('a client that leaves before the accept aborts the signal; accept then rejects with 1006', async (t) => {
  const app = newApp();
  const started = deferred();
  const outcome = deferred();
  app.websocket(
    '/slow',
    async (ws) => {
      started.resolve();
      await once(ws.signal, 'abort');
      const err = await rejection(ws.accept());
      outcome.resolve({ signal: ws.signal.reason.code, accept: err.code, type: err.name });
    },
    { connection: true },
  );
  const client = clientOf(t, app);
  const port = new URL(await client.url()).port;
  const sock = net.connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  sock.write(
    'GET /slow HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await started.promise;
  sock.destroy();
  assert.deepEqual(await outcome.promise, {
    signal: 1006,
    accept: 1006,
    type: 'WebSocketDisconnect',
  });
});

test('back-pressure: a client that stops reading parks its sender; memory stays bounded', async (t) => {
  const piece = Buffer.alloc(65535, 'x'); // the largest message with a 4-byte frame head
  const total = piece.length * 2048; // 128 MiB the handler would send
  const app = newApp({ streamQueueBytes: 1 << 20 });
  const parked = deferred();
  const finished = deferred();
  let sent = 0;
  app.websocket(
    '/flood',
    async (ws) => {
      await ws.accept();
      while (sent < total) {
        let written = false;
        const write = ws.sendBytes(piece).then(() => {
          written = true;
        });
        // A write the core took settles within this turn's microtasks; one
        // still pending after a macrotask turn waits for STREAM_CREDIT.
        await new Promise(setImmediate);
        if (!written) parked.resolve(sent);
        await write;
        sent += piece.length;
      }
      finished.resolve('finished');
    },
    { connection: true },
  );
  const client = clientOf(t, app);
  const port = new URL(await client.url()).port;
  const before = process.memoryUsage.rss();
  const { sock, rest } = await rawSocket(port, '/flood'); // paused: reads nothing until told
  t.after(() => sock.destroy());
  const first = await Promise.race([parked.promise, finished.promise]);
  assert.notEqual(first, 'finished', 'the handler sent everything to a client that read nothing');
  const grownMiB = (process.memoryUsage.rss() - before) / (1 << 20);
  assert.ok(first < 32 << 20, `${first >> 20} MiB sent before the sender was parked`);
  assert.ok(grownMiB < 64, `RSS grew ${grownMiB.toFixed(1)} MiB`);
  t.diagnostic(
    `parked after ${(first / (1 << 20)).toFixed(1)} MiB; RSS +${grownMiB.toFixed(1)} MiB`,
  );
  // Reading again, the client gets every byte: 4-byte frame heads, the
  // data, and (when it came in the same read) the 4-byte close frame.
  let got = rest.length;
  const framed = total + (total / piece.length) * 4;
  sock.resume();
  for await (const chunk of sock) {
    got += chunk.length;
    if (got >= framed) break;
  }
  sock.destroy();
  assert.ok(got === framed || got === framed + 4, `${got} bytes, not ${framed}`);
  assert.equal(await finished.promise, 'finished');
});

test('broadcast in process: subscribers of a channel get what anyone publishes', async () => {
  const app = newApp();
  app.websocket(
    '/room/{name}',
    async (ws) => {
      await ws.accept();
      ws.subscribe(ws.params.name);
      await ws.sendText('joined');
      for await (const message of ws) {
        if (message === 'leave') {
          ws.unsubscribe(ws.params.name);
          await ws.sendText('left');
        } else if (message === 'ping') {
          await ws.sendText('pong');
        } else {
          await ws.publish(ws.params.name, { said: message });
        }
      }
    },
    { connection: true },
  );
  const client = new TestClient(app);
  const one = await client.websocket('/room/a');
  const two = await client.websocket('/room/a');
  const other = await client.websocket('/room/b');
  for (const ws of [one, two, other]) assert.equal(await ws.receive(), 'joined');
  await one.send('hello');
  for (const ws of [one, two]) assert.deepEqual(await ws.receiveJson(), { said: 'hello' });
  app.broadcast('b', Buffer.from([1]));
  assert.deepEqual(await other.receive(), Buffer.from([1]));
  app.broadcast('a', 'from the app');
  assert.equal(await two.receive(), 'from the app');
  assert.equal(await one.receive(), 'from the app');
  await two.send('leave');
  assert.equal(await two.receive(), 'left');
  app.broadcast('a', 'after the leave'); // queued on each subscriber before it returns
  assert.equal(await one.receive(), 'after the leave');
  await two.send('ping');
  assert.equal(await two.receive(), 'pong', 'nothing published after the leave came first');
  await client.close();
  assert.throws(() => app.broadcast('a', 'nobody listens'), /not listening/);
});

/** A redis-server on a free loopback port until the test ends: its URL. */
async function startRedis(t) {
  assert.ok(
    fs.existsSync(REDIS),
    `${REDIS} is missing: run make setup (apt-get install redis-server)`,
  );
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikard-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--daemonize', 'no', '--protected-mode', 'no', '--dir', dir);
  const proc = spawn(REDIS, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGKILL');
      await once(proc, 'exit');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  proc.stdout.setEncoding('utf8');
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10000);
    proc.stdout.on('data', (text) => {
      out += text;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
  });
  proc.stdout.resume();
  return `redis://127.0.0.1:${port}/0`;
}

/**
 * The /feed route of the Redis tests: subscribe to "news", say which process
 * serves the connection, publish what the client says. Also run, as its
 * source, by the worker processes of the workers test.
 */
function feed(app) {
  app.websocket(
    '/feed',
    async (ws) => {
      await ws.accept();
      ws.subscribe('news');
      await ws.sendJson({ subscribed: process.pid });
      for await (const message of ws) await ws.publish('news', message);
    },
    { connection: true },
  );
}

/**
 * Join the feed at `client` and make sure the subscription reached Redis: a
 * publish of a server waits for that server's own subscriptions, so once the
 * client hears its own "ready" (after anything published before it) its
 * subscription is in place. Resolves with the WebSocket and the pid of the
 * process serving it.
 */
async function joinFeed(client, name) {
  const ws = await client.websocket('/feed');
  const { subscribed } = await ws.receiveJson();
  await ws.send(`${name} ready`);
  while ((await ws.receive()) !== `${name} ready`);
  return { ws, pid: subscribed };
}

test('broadcast through Redis reaches the subscribers of every server on it', async (t) => {
  const url = await startRedis(t);
  function make() {
    const app = newApp({ broadcast: { redis: url, prefix: 'nodetest:' } });
    feed(app);
    return app;
  }
  // Two servers of the same app, as two workers are: what one publishes,
  // the other's subscribers get too.
  const first = make();
  const second = make();
  const c1 = clientOf(t, first);
  const c2 = clientOf(t, second);
  const { ws: a } = await joinFeed(c1, 'a');
  const { ws: b } = await joinFeed(c2, 'b');
  assert.equal(await a.receive(), 'b ready', 'the first server hears the second one');
  await a.send('from the first');
  assert.equal(await a.receive(), 'from the first');
  assert.equal(await b.receive(), 'from the first');
  second.broadcast('news', { from: 'second' });
  assert.deepEqual(await a.receiveJson(), { from: 'second' });
  assert.deepEqual(await b.receiveJson(), { from: 'second' });
  // Another prefix is another set of channels.
  const apart = newApp({ broadcast: { redis: url, prefix: 'elsewhere:' } });
  feed(apart);
  const c3 = clientOf(t, apart);
  const { ws: c } = await joinFeed(c3, 'c');
  second.broadcast('news', 'only the nodetest prefix');
  assert.equal(await a.receive(), 'only the nodetest prefix');
  await c.send('c again');
  assert.equal(await c.receive(), 'c again', 'nothing of the other prefix came first');
});

test('broadcast through Redis with workers: 2 reaches connections on both workers', async (t) => {
  const url = await startRedis(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikard-ws-workers-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'app.js');
  fs.writeFileSync(
    file,
    `'use strict';\nconst { Spikard } = require(${JSON.stringify(path.join(__dirname, '..'))});\n` +
      `const app = new Spikard({ workers: 2, port: 0, shutdownTimeout: 2, broadcast: { redis: ${JSON.stringify(url)}, prefix: 'nodeworkers:' } });\n` +
      `(${feed.toString()})(app);\napp.listen();\n`,
  );
  const proc = spawn(process.execPath, [file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  const exited = new Promise((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line:\n${stderr}`)), 30000);
    proc.stderr.on('data', (text) => {
      stderr += text;
      const m = /listening on http:\/\/[^\s:]+:(\d+) \(2 workers\)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then((how) => reject(new Error(`the supervisor exited (${how}):\n${stderr}`)));
  });
  // The app listens in the workers: this TestClient only connects to their port.
  const remote = { url: `http://127.0.0.1:${port}`, listen() {}, close() {} };
  const client = new TestClient(remote);
  t.after(() => client.close());
  // Connections until the kernel has given one to each worker.
  const byPid = new Map();
  const spare = [];
  for (let i = 0; i < 64 && byPid.size < 2; i++) {
    const joined = await joinFeed(client, `w${i}`);
    if (byPid.has(joined.pid)) spare.push(joined.ws);
    else byPid.set(joined.pid, joined.ws);
  }
  assert.equal(byPid.size, 2, 'connections reached both workers');
  const [x, y] = [...byPid.values()];
  for (const ws of spare) await ws.close();
  // Drain what the other joins published to these two, then a last message from each.
  await x.send('x last');
  await y.send('y last');
  const heard = async (ws) => {
    const got = new Set();
    while (!got.has('x last') || !got.has('y last')) got.add(await ws.receive());
    return got;
  };
  await Promise.all([heard(x), heard(y)]);
  await x.send('to every worker');
  const next = async (ws) => {
    for (;;) {
      const message = await ws.receive();
      if (message === 'to every worker') return message;
    }
  };
  assert.deepEqual(await Promise.all([next(x), next(y)]), ['to every worker', 'to every worker']);
  await x.close();
  await y.close();
  proc.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});

test('configuration and registration errors name what is wrong', () => {
  assert.throws(
    () => newApp({ wsOrigins: ['app.example'] }),
    (err) =>
      err instanceof RangeError &&
      /^ServerConfig\.wsOrigins=\["app\.example"\]: .*not an origin/.test(err.message),
  );
  assert.throws(() => newApp({ wsOrigins: 'https://a.example' }), TypeError);
  assert.throws(
    () => newApp({ broadcast: { redis: 'http://nope' } }),
    /^RangeError: ServerConfig\.broadcast=\{"redis":"http:\/\/nope"\}: "redis": .*not a Redis URL/,
  );
  assert.throws(() => newApp({ wsInboundBytes: 0 }), /^RangeError: ServerConfig\.wsInboundBytes=0/);
  assert.throws(() => newApp({ wsPingInterval: -1 }), /ServerConfig\.wsPingInterval=-1/);
  assert.throws(() => newApp({ wsMaxMessageSize: 1.5 }), /ServerConfig\.wsMaxMessageSize=1\.5/);
  const fine = newApp({
    wsOrigins: ['https://app.example'],
    wsPingInterval: 20,
    wsMaxMessageSize: 0,
    broadcast: { redis: 'redis://127.0.0.1:1/0', prefix: 'x:' },
  });
  assert.equal(fine.config.wsPingInterval, 20);

  const app = newApp();
  app.websocket('/ws/{room}', (m) => m, { subprotocols: ['v1'] });
  const { doc } = app.routes[0];
  assert.equal(doc.method, 'GET');
  // Plain JSON messages: the core checks that each is JSON ({} admits any).
  assert.deepEqual(doc.websocket, { subprotocols: ['v1'], message_schema: {} });
  assert.ok(doc.facts.includes('meta'));
  assert.equal(doc.body_schema, undefined);
  assert.equal(doc.parameter_schema.properties.room.source, 'path');
  app.websocket('/plain', (m) => m, { message: 'text' });
  assert.equal(app.routes[1].doc.websocket, true);

  assert.throws(() => app.websocket('/x', 'nope'), /websocket \/x: the handler must be a function/);
  assert.throws(
    () => app.websocket('/x', (m) => m, { subprotocol: ['v1'] }),
    /websocket \/x: unknown option "subprotocol"; expected one of connection, message/,
  );
  assert.throws(
    () => app.websocket('/x', (m) => m, { subprotocols: ['has space'] }),
    /websocket \/x: subprotocols must be an array of tokens/,
  );
  assert.throws(
    () => app.websocket('/x', (m) => m, { connection: 'yes' }),
    /websocket \/x: connection must be a boolean/,
  );
  assert.throws(
    () => app.websocket('/x', (m) => m, { message: 'xml' }),
    /websocket \/x: message must be "json", "text", "binary", a JSON Schema object or a Zod schema, got "xml"/,
  );
  assert.throws(
    () => app.websocket('/x', (ws) => ws, { connection: true, message: 'text' }),
    /websocket \/x: a connection handler receives its messages itself; its message option can only be a JSON Schema object/,
  );
});

test('a connection handler with a JSON Schema message option: the core checks, the handler gets messages as sent', async (t) => {
  const app = newApp();
  app.websocket(
    '/checked',
    async (ws) => {
      await ws.accept();
      for await (const message of ws) await ws.send(message);
    },
    {
      connection: true,
      message: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
    },
  );
  const client = clientOf(t, app);
  const ws = await client.websocket('/checked');
  await ws.send('{"n": 1}');
  assert.equal(await ws.receive(), '{"n": 1}'); // as sent: no decode, no re-encode
  await ws.sendJson({ n: 'one' });
  assert.deepEqual(await closeOf(ws), {
    code: 1007,
    reason: 'message.n: Input should be a valid integer, unable to parse string as an integer',
  });
});

test('a WebSocket refuses what the core would: bad close codes, channels, calls before accept', async (t) => {
  const app = newApp();
  const results = deferred();
  app.websocket(
    '/misuse',
    async (ws) => {
      const out = {};
      out.early = (await rejection(ws.receive())).message;
      out.subscribeEarly = (() => {
        try {
          ws.subscribe('c');
        } catch (err) {
          return err.message;
        }
        return 'no error';
      })();
      await ws.accept();
      out.again = (await rejection(ws.accept())).message;
      out.badCode = (await rejection(ws.close(999))).message;
      out.channel = (() => {
        try {
          ws.subscribe(42);
        } catch (err) {
          return err.message;
        }
        return 'no error';
      })();
      out.empty = (() => {
        try {
          ws.subscribe('');
        } catch (err) {
          return err.message;
        }
        return 'no error';
      })();
      out.text = (await rejection(ws.sendText(5))).message;
      results.resolve(out);
      await ws.close(4000, 'checked');
    },
    { connection: true },
  );
  const client = clientOf(t, app);
  const ws = await client.websocket('/misuse');
  const out = await results.promise;
  assert.deepEqual(await closeOf(ws), { code: 4000, reason: 'checked' });
  assert.equal(out.early, 'WebSocket.receive: accept the connection first');
  assert.equal(out.subscribeEarly, 'WebSocket.subscribe: accept the connection first');
  assert.equal(out.again, 'WebSocket.accept: the connection was already accepted');
  assert.match(out.badCode, /^WebSocket\.close\(999, ""\): the core refused it/);
  assert.equal(out.channel, 'WebSocket.subscribe: channel must be a string or a Buffer');
  assert.match(out.empty, /channel/);
  assert.equal(out.text, 'WebSocket.sendText: text must be a string');
});
