'use strict';
// Graceful shutdown of a real app process, as Python's
// tests/test_graceful_shutdown.py: SIGTERM or SIGINT stops accepting,
// finishes in-flight requests, uploads and streams, closes WebSockets with
// 1001, waits for background tasks and exits 0 — with one process and with
// `workers: 2`. Synchronised on what the app prints (its listening line, a
// line per handler reached), the first stream chunk and the listener's
// refusal; the handlers wait on a gate file the test creates once the signal
// is sent and the listener is gone.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const PKG = path.join(__dirname, '..');
const WAIT_MS = 15000; // any single wait; far above what a loaded machine needs

const APP = `
'use strict';
const fs = require('node:fs');
const { Spikard, StreamingResponse } = require(${JSON.stringify(PKG)});
const GATE = process.env.GATE;
const app = new Spikard({ workers: Number(process.env.WORKERS), port: 0, shutdownTimeout: ${WAIT_MS / 1000} });
const say = (what) => process.stdout.write(what + ' ' + process.pid + '\\n');
// Polls a condition the test sets.
const gate = () => new Promise((resolve) => {
  const check = () => (fs.existsSync(GATE) ? resolve() : setTimeout(check, 10));
  check();
});
app.get('/ping', () => ({ pong: true }));
app.get('/slow', async () => {
  say('slow started');
  await gate();
  return { slow: 'done' };
});
app.post('/upload', { body: { type: 'object', properties: { name: { type: 'string' } } } },
  (req) => ({ got: req.body.name }));
app.get('/stream', () => new StreamingResponse((async function* () {
  yield 'first;';
  await gate();
  yield 'last;';
})()));
app.post('/bg', (req) => {
  req.background(async () => {
    say('bg started');
    await gate();
    say('bg done');
  });
  return { queued: true };
});
app.websocket('/ws', (text) => text, { message: 'text' });
app.listen({ host: '127.0.0.1', signals: true });
`;

/** The app process: its port, and its stdout lines as they come. */
async function startApp(dir, workers) {
  const file = path.join(dir, 'app.js');
  fs.writeFileSync(file, APP);
  const gatePath = path.join(dir, 'gate');
  const child = spawn(process.execPath, [file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GATE: gatePath, WORKERS: String(workers) },
  });
  const app = { child, gatePath, stderr: '', lines: [], waiters: [] };
  app.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    out += chunk;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      app.lines.push(out.slice(0, i));
      out = out.slice(i + 1);
    }
    for (const w of app.waiters.splice(0)) w();
  });
  child.stderr.setEncoding('utf8');
  const listening =
    workers > 1 ? /:(\d+) \(2 workers\)/ : /listening on http:\/\/127\.0\.0\.1:(\d+)/;
  app.port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${app.stderr}`)), WAIT_MS);
    child.stderr.on('data', (chunk) => {
      app.stderr += chunk;
      const m = listening.exec(app.stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    app.exited.then(() => reject(new Error(`exited before listening: ${app.stderr}`)));
  });
  return app;
}

/** Resolves once the app has printed a line starting with prefix. */
function expectLine(app, prefix) {
  return within(
    new Promise((resolve) => {
      const check = () => {
        const i = app.lines.findIndex((l) => l.startsWith(prefix));
        if (i >= 0) resolve(app.lines.splice(i, 1)[0]);
        else app.waiters.push(check);
      };
      check();
    }),
    `the line ${JSON.stringify(prefix)}`,
  );
}

function within(promise, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A raw connection: bytes in `data`, `until(pred)` waits for pred(data) or the close. */
function connect(port, sockets) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sockets.push(sock);
    const conn = { sock, data: Buffer.alloc(0), ended: false, waiters: [] };
    const wake = () => {
      for (const w of conn.waiters.splice(0)) w();
    };
    sock.on('data', (chunk) => {
      conn.data = Buffer.concat([conn.data, chunk]);
      wake();
    });
    sock.on('close', () => {
      conn.ended = true;
      wake();
    });
    sock.on('error', (err) => {
      conn.error = err;
    });
    conn.until = (pred, what) =>
      within(
        new Promise((res) => {
          const check = () =>
            pred(conn.data) || conn.ended ? res(conn.data) : conn.waiters.push(check);
          check();
        }),
        what,
      );
    conn.closed = (what) => conn.until(() => false, what);
    sock.once('connect', () => resolve(conn));
    sock.once('error', reject);
  });
}

/** Status line and lower-cased fields of the answer at the start of data. */
function headOf(data) {
  const end = data.indexOf('\r\n\r\n');
  assert.ok(end >= 0, `no answer head in ${JSON.stringify(data.toString())}`);
  const [status, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const fields = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    fields[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, fields, body: data.subarray(end + 4) };
}

const hasHead = (d) => d.indexOf('\r\n\r\n') >= 0;

/** Whether connecting is refused (a reset, from a socket closing as the connection came, says nothing yet). */
function refused(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function wsFrame(opcode, payload) {
  const mask = crypto.randomBytes(4);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i % 4];
  return out;
}

/** The first whole server frame in data after offset: { opcode, payload, next }, or null. */
function frameAt(data, offset) {
  if (data.length < offset + 2) return null;
  const n = data[offset + 1] & 0x7f;
  assert.ok(n < 126);
  if (data.length < offset + 2 + n) return null;
  return {
    opcode: data[offset] & 0x0f,
    payload: data.subarray(offset + 2, offset + 2 + n),
    next: offset + 2 + n,
  };
}

const UPLOAD = Buffer.from('{"name":"half-sent","email":"probe@example.com"}');

for (const workers of [1, 2]) {
  for (const sig of ['SIGTERM', 'SIGINT']) {
    test(`${sig} with ${workers === 1 ? 'one process' : 'workers: 2'}: drains and exits 0`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikard-graceful-'));
      const sockets = [];
      const app = await startApp(dir, workers);
      try {
        // An idle keep-alive connection, one request answered on it.
        const idle = await connect(app.port, sockets);
        idle.sock.write('GET /ping HTTP/1.1\r\nHost: t\r\n\r\n');
        const ping = headOf(await idle.until(hasHead, 'the ping answer'));
        assert.equal(ping.status, 'HTTP/1.1 200 OK');
        assert.notEqual(ping.fields.connection, 'close');
        const pingLength = Number(ping.fields['content-length']);
        await idle.until((d) => headOf(d).body.length >= pingLength, 'the ping body');

        // A request inside its handler.
        const slow = await connect(app.port, sockets);
        slow.sock.write('GET /slow HTTP/1.1\r\nHost: t\r\n\r\n');
        await expectLine(app, 'slow started');

        // A stream with its first chunk received.
        const stream = await connect(app.port, sockets);
        stream.sock.write('GET /stream HTTP/1.1\r\nHost: t\r\n\r\n');
        await stream.until((d) => d.includes('first;'), 'the first chunk');
        assert.equal(headOf(stream.data).fields['transfer-encoding'], 'chunked');

        // A background task pending after its answer.
        const bg = await connect(app.port, sockets);
        bg.sock.write('POST /bg HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n');
        assert.equal(headOf(await bg.until(hasHead, 'the bg answer')).status, 'HTTP/1.1 200 OK');
        await expectLine(app, 'bg started');

        // An open WebSocket, echoing.
        const ws = await connect(app.port, sockets);
        const key = crypto.randomBytes(16).toString('base64');
        ws.sock.write(
          'GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        const upgrade = headOf(await ws.until(hasHead, 'the 101'));
        assert.match(upgrade.status, /^HTTP\/1\.1 101/);
        const frames = ws.data.length - upgrade.body.length;
        ws.sock.write(wsFrame(0x1, Buffer.from('hello')));
        await ws.until((d) => frameAt(d, frames) !== null, 'the echo');
        const echo = frameAt(ws.data, frames);
        assert.deepEqual([echo.opcode, echo.payload.toString()], [0x1, 'hello']);

        // An upload with its head and half its body sent.
        const upload = await connect(app.port, sockets);
        const half = UPLOAD.length >> 1;
        upload.sock.write(
          'POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n' +
            `Content-Length: ${UPLOAD.length}\r\n\r\n`,
        );
        upload.sock.write(UPLOAD.subarray(0, half));

        app.child.kill(sig);

        // Accepting stops; the WebSocket closes with 1001; the idle
        // connection closes without an answer.
        const deadline = Date.now() + WAIT_MS;
        while (!(await refused(app.port))) {
          assert.ok(Date.now() < deadline, 'still accepting after the signal');
        }
        await ws.until((d) => frameAt(d, echo.next) !== null, 'the close frame');
        const close = frameAt(ws.data, echo.next);
        assert.equal(close.opcode, 0x8);
        assert.equal(close.payload.readUInt16BE(0), 1001);
        ws.sock.write(wsFrame(0x8, close.payload.subarray(0, 2))); // the client's half of the handshake
        await ws.closed('the WebSocket to close');
        const idleBefore = idle.data.length;
        await idle.closed('the idle connection to close');
        assert.equal(idle.data.length, idleBefore, 'the idle connection got an answer');
        assert.equal(app.child.exitCode, null, 'exited with work in flight');

        // Everything in flight finishes once the gate opens.
        upload.sock.write(UPLOAD.subarray(half));
        fs.writeFileSync(app.gatePath, '');
        const up = headOf(await upload.closed('the upload answer'));
        assert.equal(up.status, 'HTTP/1.1 200 OK');
        assert.equal(up.fields.connection, 'close');
        assert.equal(up.body.toString(), '{"got":"half-sent"}');

        const done = headOf(await slow.closed('the slow answer'));
        assert.equal(done.status, 'HTTP/1.1 200 OK');
        assert.equal(done.fields.connection, 'close');
        assert.equal(done.body.toString(), '{"slow":"done"}');

        const rest = await stream.closed('the stream end');
        assert.ok(rest.toString().endsWith('last;\r\n0\r\n\r\n'), rest.toString());

        await expectLine(app, 'bg done');
        const how = await within(app.exited, 'the exit');
        assert.deepEqual(how, { code: 0, signal: null }, app.stderr);
      } finally {
        for (const s of sockets) s.destroy();
        if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
        await app.exited;
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
