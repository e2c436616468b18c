'use strict';
// StreamingResponse and server-sent events over real HTTP: the answer is read
// as it arrives, so "sent as produced", back-pressure and a leaving client are
// observed, not assumed.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { Readable } = require('node:stream');
const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');

const { Spikard, SseEvent, StreamingResponse } = require('..');

async function serve(t, app) {
  const { port } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return port;
}

function newApp(config = {}) {
  return new Spikard({ quiet: true, ...config });
}

/** GET path; resolves with the response once its head has arrived. */
function open(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers }, resolve);
    req.on('error', reject);
  });
}

/** The next `data` chunk of a response, as a string. */
async function nextChunk(res) {
  const [chunk] = await once(res, 'data');
  return chunk.toString();
}

async function readAll(res) {
  let body = '';
  for await (const chunk of res) body += chunk;
  return body;
}

/** A deferred: a promise and its resolve. */
function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

test('an async generator: each piece reaches the client as it is produced', async (t) => {
  const app = newApp();
  const release = deferred();
  app.get('/stream', async () => {
    async function* produce() {
      yield 'first\n';
      await release.promise; // held until the client has the first piece
      yield Buffer.from('second\n');
    }
    return new StreamingResponse(produce(), {
      contentType: 'text/plain',
      headers: { 'x-kind': 'lines' },
    });
  });
  const port = await serve(t, app);
  const res = await open(port, '/stream');
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['transfer-encoding'], 'chunked');
  assert.equal(res.headers['content-type'], 'text/plain');
  assert.equal(res.headers['x-kind'], 'lines');
  assert.equal(await nextChunk(res), 'first\n');
  release.resolve();
  assert.equal(await readAll(res), 'second\n');
});

test('sync iterables and Node Readables are producers too', async (t) => {
  const app = newApp();
  app.get('/array', () => new StreamingResponse(['a', 'b', 'c'], { status: 207 }));
  app.get('/readable', () => new StreamingResponse(Readable.from(['x', 'y', 'z'])));
  const port = await serve(t, app);
  const array = await open(port, '/array');
  assert.equal(array.statusCode, 207);
  assert.equal(array.headers['content-type'], undefined);
  assert.equal(await readAll(array), 'abc');
  assert.equal(await readAll(await open(port, '/readable')), 'xyz');
});

test('a client that leaves ends the generator (its finally runs)', async (t) => {
  const app = newApp();
  const closed = deferred();
  app.get('/forever', () => {
    async function* forever() {
      try {
        for (;;) {
          yield 'tick\n';
          await sleep(10);
        }
      } finally {
        closed.resolve();
      }
    }
    return new StreamingResponse(forever());
  });
  const port = await serve(t, app);
  const res = await open(port, '/forever');
  assert.equal(await nextChunk(res), 'tick\n');
  res.destroy();
  await closed.promise;
});

test('a stalled client suspends the producer, then reads the rest at full speed', async (t) => {
  const app = newApp({ streamQueueBytes: 1 << 20 });
  const piece = Buffer.alloc(64 << 10, 'x');
  const total = 1 << 30; // 1 GiB the producer could yield
  let produced = 0;
  app.get('/big', () => {
    function* gigabyte() {
      for (let i = 0; i < total / piece.length; i++) {
        produced += piece.length;
        yield piece;
      }
    }
    return new StreamingResponse(gigabyte(), { headers: { 'content-length': String(total) } });
  });
  const port = await serve(t, app);
  const before = process.memoryUsage.rss();
  const sock = net.connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  sock.pause(); // reads nothing until told
  sock.write('GET /big HTTP/1.1\r\nHost: t\r\n\r\n');
  await sleep(5000); // the behaviour under test: a client that reads nothing for 5 s
  const stalledAt = produced;
  const grownMiB = (process.memoryUsage.rss() - before) / (1 << 20);
  assert.ok(stalledAt < 16 << 20, `${stalledAt >> 20} MiB produced while the client read nothing`);
  assert.ok(grownMiB < 32, `RSS grew ${grownMiB.toFixed(1)} MiB`);
  let got = 0;
  let head = null;
  sock.resume();
  for await (const chunk of sock) {
    if (head === null) {
      const text = chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      head = text.slice(0, end);
      got += chunk.length - end - 4;
    } else {
      got += chunk.length;
    }
    if (got >= total) break;
  }
  sock.destroy();
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.equal(got, total);
  assert.equal(produced, total);
});

test('a producer that throws, or yields what a stream cannot carry, aborts the stream', async (t) => {
  const app = newApp();
  const seen = deferred();
  const logged = [];
  const error = console.error;
  console.error = (...args) => logged.push(args.map(String).join(' '));
  t.after(() => {
    console.error = error;
  });
  app.get('/broken', () => {
    async function* broken() {
      yield 'partial';
      await seen.promise;
      throw new Error('producer broke');
    }
    return new StreamingResponse(broken());
  });
  app.get('/wrong', () => new StreamingResponse([42]));
  const port = await serve(t, app);
  const res = await open(port, '/broken');
  assert.equal(await nextChunk(res), 'partial');
  seen.resolve();
  await assert.rejects(readAll(res), /aborted|ECONNRESET/); // no last chunk: visibly cut off
  // Aborted before its first byte left: the connection just closes.
  await assert.rejects(open(port, '/wrong').then(readAll), /aborted|ECONNRESET|socket hang up/);
  assert.ok(
    logged.some((line) => line.includes('producer broke')),
    logged.join('\n'),
  );
  assert.ok(
    logged.some((line) => line.includes('must be a string, a Buffer or a Uint8Array, got number')),
    logged.join('\n'),
  );
});

test('bad producers and events are refused where they are made', () => {
  assert.throws(() => new StreamingResponse('text'), /must be an iterable or async iterable/);
  assert.throws(() => new StreamingResponse(5), TypeError);
  assert.throws(() => new StreamingResponse([], { status: 204 }), /status 204 must be/);
  assert.throws(() => new SseEvent({ event: 'a\nb' }), /may not contain a line break/);
  assert.throws(() => new SseEvent({ retry: -1 }), /retry -1 must be a positive integer/);
  assert.throws(() => newApp().sse('/x', 'nope'), /must be a generator function/);
});

/** Parse `count` events (comments skipped) from an SSE response. */
async function readEvents(lines, count) {
  const events = [];
  let fields = {};
  while (events.length < count) {
    const line = await lines.next();
    if (line === '') {
      if (Object.keys(fields).length > 0) {
        events.push(fields);
        fields = {};
      }
      continue;
    }
    if (line.startsWith(':')) continue;
    const at = line.indexOf(': ');
    const name = line.slice(0, at);
    const value = line.slice(at + 2);
    fields[name] = name in fields ? `${fields[name]}\n${value}` : value;
  }
  return events;
}

/** Lines of a response, one at a time (`next()` waits for the next). */
function lineReader(res) {
  let buffered = '';
  const waiting = [];
  const lines = [];
  const ended = once(res, 'end');
  res.setEncoding('utf8');
  res.on('data', (text) => {
    buffered += text;
    let at;
    while ((at = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, at));
      buffered = buffered.slice(at + 1);
    }
    while (waiting.length > 0 && lines.length > 0) waiting.shift()(lines.shift());
  });
  return {
    ended,
    next: () =>
      lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((r) => waiting.push(r)),
  };
}

test('SSE: the core frames each event; Last-Event-ID reaches the producer', async (t) => {
  const app = newApp();
  app.sse('/events', async function* events(req) {
    yield { count: 1, resumedAfter: req.headers['last-event-id'] };
    yield new SseEvent({ data: { count: 2 }, event: 'tick', id: '2', retry: 1500 });
    yield 'two\nlines';
    yield new SseEvent({ data: 'plain', id: '3' });
  });
  const port = await serve(t, app);
  const res = await open(port, '/events', { 'last-event-id': '41' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/event-stream');
  assert.equal(res.headers['cache-control'], 'no-cache');
  const lines = lineReader(res);
  assert.deepEqual(await readEvents(lines, 4), [
    { data: '{"count":1,"resumedAfter":"41"}' },
    { event: 'tick', id: '2', retry: '1500', data: '{"count":2}' },
    { data: 'two\nlines' },
    { id: '3', data: 'plain' },
  ]);
  await lines.ended; // the generator is done: so is the stream
});

test('SSE: keep-alive comments while the producer is quiet; sync generators too', async (t) => {
  const app = newApp({ sseKeepalive: 0.1 });
  const release = deferred();
  app.sse('/quiet', async function* quiet() {
    yield { n: 1 };
    await release.promise;
    yield { n: 2 };
  });
  app.sse('/numbers', function* numbers() {
    for (let i = 0; i < 3; i++) yield { i };
  });
  const port = await serve(t, app);
  const res = await open(port, '/quiet');
  const lines = lineReader(res);
  assert.deepEqual(await readEvents(lines, 1), [{ data: '{"n":1}' }]);
  assert.ok((await lines.next()).startsWith(':'), 'a keep-alive comment while nothing is produced');
  release.resolve();
  assert.deepEqual(await readEvents(lines, 1), [{ data: '{"n":2}' }]);
  res.destroy();
  const numbers = await readAll(await open(port, '/numbers'));
  assert.equal(numbers, 'data: {"i":0}\n\ndata: {"i":1}\n\ndata: {"i":2}\n\n');
});

test('closing the app ends an SSE stream and its generator', async () => {
  const app = newApp();
  const closed = deferred();
  app.sse('/live', async function* live() {
    try {
      for (;;) {
        yield { alive: true };
        await sleep(50);
      }
    } finally {
      closed.resolve();
    }
  });
  const { port } = await app.listen({ host: '127.0.0.1', port: 0 });
  const res = await open(port, '/live');
  assert.deepEqual(await readEvents(lineReader(res), 1), [{ data: '{"alive":true}' }]);
  await app.close();
  await closed.promise;
  res.destroy();
});
