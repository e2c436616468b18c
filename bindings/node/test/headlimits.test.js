'use strict';
// The request-head limits of ServerConfig (maxUriLength, maxHeaderSize,
// maxHeaderCount, headerTimeout): checked by the core where the user writes
// them, and enforced by the core on the wire, over a raw socket.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');

const { Spikard } = require('..');

/** Write `raw` on a fresh connection; resolve with all the server sent
 *  before it closed. */
function exchange(port, raw) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(raw));
    const chunks = [];
    sock.setTimeout(5000, () => sock.destroy(new Error('the server still holds the connection')));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

test('head limits are judged by the core, naming the field', () => {
  for (const [field, value, reason] of [
    ['maxUriLength', -1, 'must be an integer in 0..2147483647'],
    ['maxHeaderSize', 1.5, 'must be an integer in 0..2147483647'],
    ['maxHeaderCount', 1e10, 'must be an integer in 0..2147483647'],
    ['headerTimeout', -1, 'must be a non-negative number of seconds'],
  ]) {
    assert.throws(
      () => new Spikard({ [field]: value }),
      (err) =>
        err instanceof RangeError && err.message === `ServerConfig.${field}=${value}: ${reason}`,
    );
  }
  assert.throws(() => new Spikard({ maxHeaderCount: '100' }), TypeError);
  assert.doesNotThrow(
    () => new Spikard({ maxUriLength: 0, maxHeaderSize: 0, maxHeaderCount: 0, headerTimeout: 0 }),
  );
});

test('past a head limit the core answers its problem and closes', async (t) => {
  const app = new Spikard({ quiet: true, maxUriLength: 32, maxHeaderCount: 3, headerTimeout: 0.3 });
  app.get('/items', () => 'ok');
  const { port } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());

  const ok = await exchange(port, 'GET /items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(ok, /^HTTP\/1\.1 200 /);
  const long = await exchange(port, `GET /items?q=${'a'.repeat(30)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(long, /^HTTP\/1\.1 414 /);
  assert.match(long, /Connection: close/);
  assert.ok(long.includes('"detail":"Request target exceeds max_uri_length (32 bytes)"'), long);
  const many = await exchange(
    port,
    `GET /items HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(3)}\r\n`,
  );
  assert.match(many, /^HTTP\/1\.1 431 /);
  assert.ok(many.includes('"detail":"Request header fields exceed max_header_count (3)"'), many);
  const started = Date.now();
  const slow = await exchange(port, 'GET /items HTTP/1.1\r\nHost: x\r\n');
  assert.match(slow, /^HTTP\/1\.1 408 /);
  assert.ok(slow.includes('header_timeout (0.3 s)'), slow);
  assert.ok(Date.now() - started >= 250);
});
