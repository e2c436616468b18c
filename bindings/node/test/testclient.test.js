'use strict';
// TestClient over a real loopback server: it starts the app on first use,
// encodes every kind of body, and closes only what it started.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Response, Spikard, TestClient } = require('..');

const USER = {
  type: 'object',
  properties: { name: { type: 'string' }, email: { type: 'string' } },
  required: ['name', 'email'],
};

function quickStart() {
  const app = new Spikard({ quiet: true });
  app.get(
    '/users/{id}',
    { params: { type: 'object', properties: { id: { type: 'integer' } } } },
    async (req) => ({ id: req.params.id, name: 'Alice' }),
  );
  app.post(
    '/users',
    { body: USER },
    async (req) => new Response({ id: 1, ...req.body }, { status: 201 }),
  );
  return app;
}

test("the brief's tests: a typed path param and a 201 from a validated body", async (t) => {
  const client = new TestClient(quickStart());
  t.after(() => client.close());

  const got = await client.get('/users/123');
  assert.equal(got.status, 200);
  assert.equal(got.json().id, 123);

  const made = await client.post('/users', { json: { name: 'Alice', email: 'alice@example.com' } });
  assert.equal(made.status, 201);
  assert.deepEqual(made.json(), { id: 1, name: 'Alice', email: 'alice@example.com' });

  const bad = await client.post('/users', { json: { name: 'Alice' } });
  assert.equal(bad.status, 422);
  assert.equal(bad.headers['content-type'], 'application/problem+json');
  assert.deepEqual(bad.json().errors[0].loc, ['body', 'email']);
});

test('the client serves the app on a loopback port from its first request and closes it', async () => {
  const app = quickStart();
  const client = new TestClient(app);
  assert.equal(app.url, undefined, 'nothing listens before the first request');
  const url = await client.url();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(app.url, url);
  assert.equal((await client.get('/users/5')).status, 200);
  await client.close();
  assert.equal(app.url, undefined, 'the app the client started is closed with it');
  await assert.rejects(client.get('/users/5'), /closed/);
});

test('an app that already listens is used as it is and left listening', async (t) => {
  const app = quickStart();
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  // `await using` (Node 22+) calls this method at the end of the block.
  const client = new TestClient(app);
  try {
    assert.equal(await client.url(), url);
    assert.equal((await client.get('/users/9')).json().id, 9);
  } finally {
    await client[Symbol.asyncDispose]();
  }
  const direct = await fetch(`${url}/users/10`);
  assert.equal(direct.status, 200, 'the app still serves after the client is disposed');
});

test('query, headers and cookies reach the handler as the core parsed them', async (t) => {
  const app = new Spikard({ quiet: true });
  app.get(
    '/echo',
    {
      query: {
        type: 'object',
        properties: {
          page: { type: 'integer' },
          tag: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    async (req) => ({
      page: req.query.page,
      tag: req.query.tag,
      agent: req.headers['x-agent'],
      session: req.cookies.session,
    }),
  );
  const client = new TestClient(app);
  t.after(() => client.close());
  const got = await client.get('/echo', {
    query: { page: 2, tag: ['a', 'b c'] },
    headers: { 'X-Agent': 'probe' },
    cookies: { session: 'abc.123' },
  });
  assert.deepEqual(got.json(), { page: 2, tag: ['a', 'b c'], agent: 'probe', session: 'abc.123' });
});

test('url-encoded and multipart bodies, uploads included', async (t) => {
  const app = new Spikard({ quiet: true });
  const FORM = {
    type: 'object',
    properties: { age: { type: 'integer' }, newsletter: { type: 'boolean' } },
    required: ['age', 'newsletter'],
  };
  app.post('/form', { body: FORM }, async (req) => req.body);
  app.post(
    '/upload',
    {
      body: {
        type: 'object',
        properties: { note: { type: 'string' }, file: { type: 'string', format: 'binary' } },
        required: ['file'],
      },
    },
    async (req) => ({
      note: req.body.note,
      filename: req.body.file.filename,
      type: req.body.file.contentType,
      text: req.body.file.text(),
    }),
  );
  const client = new TestClient(app);
  t.after(() => client.close());

  const form = await client.post('/form', { form: { age: '41', newsletter: 'true' } });
  assert.deepEqual(form.json(), { age: 41, newsletter: true });

  const upload = await client.post('/upload', {
    form: { note: 'hi' },
    files: { file: { data: 'file body', filename: 'a.txt', contentType: 'text/plain' } },
  });
  assert.equal(upload.status, 200, upload.text());
  assert.deepEqual(upload.json(), {
    note: 'hi',
    filename: 'a.txt',
    type: 'text/plain',
    text: 'file body',
  });
});

test('raw bodies, other methods, HEAD, and text answers', async (t) => {
  const app = new Spikard({ quiet: true });
  app.put(
    '/raw',
    async (req) => new Response(req.body, { headers: { 'content-type': 'application/x-raw' } }),
  );
  app.delete(
    '/things/{id}',
    async (req) => new Response(null, { status: 204, headers: { 'x-gone': req.params.id } }),
  );
  app.get('/hello', async () => 'hello');
  const client = new TestClient(app);
  t.after(() => client.close());

  const raw = await client.put('/raw', { body: Buffer.from([0, 1, 2, 255]) });
  assert.deepEqual([...raw.body], [0, 1, 2, 255]);
  assert.equal(raw.headers['content-type'], 'application/x-raw');

  const gone = await client.delete('/things/7');
  assert.equal(gone.status, 204);
  assert.equal(gone.headers['x-gone'], '7');
  assert.equal(gone.body.length, 0);

  const head = await client.head('/hello');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal((await client.get('/hello')).text(), 'hello');
  assert.throws(() => head.json(), /the 200 answer is not JSON/);
});

test('bad arguments are TypeErrors that say what is wrong', async (t) => {
  assert.throws(() => new TestClient({}), /app must be a Spikard app/);
  const client = new TestClient(quickStart());
  t.after(() => client.close());
  await assert.rejects(client.get('users'), /path must start with "\/"/);
  await assert.rejects(
    client.post('/users', { json: {}, body: 'x' }),
    /give one body option, not json and body/,
  );
  await assert.rejects(
    client.post('/users', { body: 12 }),
    /body must be a string, a Buffer or a Uint8Array/,
  );
});

test('client.sse(): events in order, fields, and closing ends the producer', async (t) => {
  const { SseEvent } = require('..');
  const app = new Spikard({ quiet: true });
  let closed;
  const ended = new Promise((resolve) => (closed = resolve));
  app.sse('/events', async function* events() {
    yield { n: 0 };
    yield new SseEvent({ data: 'two\nlines', event: 'tick', id: '1', retry: 500 });
    try {
      for (let n = 2; ; n++) {
        yield { n };
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      closed();
    }
  });
  const client = new TestClient(app);
  t.after(() => client.close());
  const stream = await client.sse('/events');
  assert.equal(stream.status, 200);
  assert.equal(stream.headers['content-type'], 'text/event-stream');
  const got = [];
  for await (const event of stream) {
    got.push(event);
    if (got.length === 3) break;
  }
  stream.close();
  assert.deepEqual(got[0].json(), { n: 0 });
  assert.deepEqual(
    [got[1].data, got[1].event, got[1].id, got[1].retry],
    ['two\nlines', 'tick', '1', 500],
  );
  assert.deepEqual(got[2].json(), { n: 2 });
  await ended; // the client left: the generator's finally ran
});
