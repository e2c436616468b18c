'use strict';
// Compression, static files and FileResponse: the core's, reached through
// the Spikard config and handler results, over real HTTP (node:http, which
// never decodes a body itself).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const { FileResponse, Spikard, StreamingResponse } = require('..');

async function serve(t, app) {
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return url;
}

/** GET (or method) with headers; the raw body bytes. */
function get(url, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const BIG = {
  items: Array.from({ length: 100 }, () => ({ name: 'widget', price: 12.5, tags: ['a', 'b'] })),
};

function compressingApp(compression) {
  const app = new Spikard({ quiet: true, compression });
  app.get('/big', () => BIG);
  app.get('/small', () => ({ ok: true }));
  app.get('/stream', () => {
    async function* rows() {
      for (let i = 0; i < 50; i++) yield `row ${i},`.repeat(20) + '\n';
    }
    return new StreamingResponse(rows(), { contentType: 'text/csv' });
  });
  return app;
}

test('gzip, brotli and zstd are negotiated and decode', async (t) => {
  const url = await serve(
    t,
    compressingApp({ gzip: true, brotli: true, zstd: true, minSize: 1024, quality: 6 }),
  );
  const plain = await get(`${url}/big`);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.headers.vary, 'Accept-Encoding');
  let r = await get(`${url}/big`, { 'accept-encoding': 'gzip' });
  assert.equal(r.headers['content-encoding'], 'gzip');
  assert.deepEqual(zlib.gunzipSync(r.body), plain.body);
  r = await get(`${url}/big`, { 'accept-encoding': 'gzip, br' });
  assert.equal(r.headers['content-encoding'], 'br');
  assert.deepEqual(zlib.brotliDecompressSync(r.body), plain.body);
  assert.ok(r.body.length < plain.body.length / 4);
  if (typeof zlib.zstdDecompressSync === 'function') {
    r = await get(`${url}/big`, { 'accept-encoding': 'zstd' });
    assert.equal(r.headers['content-encoding'], 'zstd');
    assert.deepEqual(zlib.zstdDecompressSync(r.body), plain.body);
  }
  r = await get(`${url}/big`, { 'accept-encoding': 'br;q=0, gzip;q=0.3' });
  assert.equal(r.headers['content-encoding'], 'gzip');
  r = await get(`${url}/small`, { 'accept-encoding': 'gzip' });
  assert.equal(r.headers['content-encoding'], undefined);
  r = await get(`${url}/big`, { 'accept-encoding': 'gzip' }, 'HEAD');
  assert.equal(r.headers['content-encoding'], undefined);
});

test('a stream compresses as it goes', async (t) => {
  const url = await serve(t, compressingApp({}));
  const r = await get(`${url}/stream`, { 'accept-encoding': 'br' });
  assert.equal(r.headers['content-encoding'], 'br');
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  const want = Array.from({ length: 50 }, (_, i) => `row ${i},`.repeat(20) + '\n').join('');
  assert.equal(zlib.brotliDecompressSync(r.body).toString(), want);
});

test('compression and staticFiles are checked naming the field', () => {
  assert.throws(() => new Spikard({ compression: { quality: 12 } }), {
    name: 'RangeError',
    message: 'ServerConfig.compression.quality=12: must be an integer in 0..11',
  });
  assert.throws(() => new Spikard({ compression: { gzip: 'yes' } }), {
    name: 'TypeError',
    message: 'ServerConfig.compression.gzip="yes": must be true or false',
  });
  assert.throws(
    () => new Spikard({ compression: { level: 3 } }),
    /ServerConfig.compression: unknown field "level"/,
  );
  assert.throws(
    () => new Spikard({ staticFiles: [{ directory: '/nonexistent-dir', routePrefix: '/s' }] }),
    {
      name: 'RangeError',
      message:
        /^ServerConfig.staticFiles\[0\].directory="\/nonexistent-dir": "\/nonexistent-dir" is not a directory/,
    },
  );
  assert.throws(
    () => new Spikard({ staticFiles: [{ directory: os.tmpdir(), routePrefix: 's' }] }),
    {
      name: 'RangeError',
      message:
        /^ServerConfig.staticFiles\[0\].routePrefix="s": "s" must be a path starting with "\/"/,
    },
  );
  assert.throws(() => new Spikard({ staticFiles: [{ routePrefix: '/s' }] }), {
    message: 'ServerConfig.staticFiles[0].directory: required',
  });
  assert.throws(() => new Spikard({ staticFiles: 'public' }), TypeError);
});

function tree(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikard-static-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pub = path.join(dir, 'public');
  fs.mkdirSync(path.join(pub, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(pub, 'hello.txt'), 'hello, static world\n');
  fs.writeFileSync(path.join(pub, 'docs', 'index.html'), '<h1>docs</h1>');
  fs.writeFileSync(path.join(pub, 'app.js'), 'console.log(1);\n'.repeat(10));
  fs.writeFileSync(
    path.join(pub, 'app.js.br'),
    zlib.brotliCompressSync('console.log(1);\n'.repeat(10)),
  );
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'TOP SECRET');
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(pub, 'leak.txt'));
  return { dir, pub };
}

test('static files: validators, 304, ranges, siblings, index, refusals', async (t) => {
  const { pub } = tree(t);
  const app = new Spikard({
    quiet: true,
    staticFiles: [{ directory: pub, routePrefix: '/static', cacheControl: 'public, max-age=60' }],
  });
  app.get('/static/api', () => ({ route: true }));
  const url = await serve(t, app);
  let r = await get(`${url}/static/hello.txt`);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'hello, static world\n');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.equal(r.headers['cache-control'], 'public, max-age=60');
  assert.equal(
    (await get(`${url}/static/hello.txt`, { 'if-none-match': r.headers.etag })).status,
    304,
  );
  assert.equal(
    (await get(`${url}/static/hello.txt`, { 'if-modified-since': r.headers['last-modified'] }))
      .status,
    304,
  );
  r = await get(`${url}/static/hello.txt`, { range: 'bytes=7-12' });
  assert.equal(r.status, 206);
  assert.equal(r.body.toString(), 'static');
  assert.equal(r.headers['content-range'], 'bytes 7-12/20');
  r = await get(`${url}/static/hello.txt`, { range: 'bytes=30-' });
  assert.equal(r.status, 416);
  assert.equal(r.headers['content-range'], 'bytes */20');
  r = await get(`${url}/static/app.js`, { 'accept-encoding': 'gzip, br' });
  assert.equal(r.headers['content-encoding'], 'br');
  assert.equal(r.headers.vary, 'Accept-Encoding');
  assert.equal(zlib.brotliDecompressSync(r.body).toString(), 'console.log(1);\n'.repeat(10));
  assert.equal((await get(`${url}/static/docs/`)).body.toString(), '<h1>docs</h1>');
  assert.deepEqual(JSON.parse((await get(`${url}/static/api`)).body), { route: true });
  for (const p of [
    '/static/%2e%2e/secret.txt',
    '/static/..%2fsecret.txt',
    '/static/leak.txt',
    '/static/nope',
  ]) {
    r = await get(url + p);
    assert.equal(r.status, 404, p);
    assert.ok(!r.body.toString().includes('SECRET'), p);
    assert.equal(JSON.parse(r.body).status, 404);
  }
  r = await get(`${url}/static/hello.txt`, {}, 'DELETE');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, HEAD');
});

test('FileResponse: type, validators, range, download name, missing file', async (t) => {
  const { dir } = tree(t);
  const report = path.join(dir, 'report.csv');
  fs.writeFileSync(report, 'a,b\n1,2\n');
  const app = new Spikard({ quiet: true });
  app.get('/report', () => new FileResponse(report));
  app.get(
    '/download',
    () => new FileResponse(report, { filename: 'Résumé 2024.csv', headers: { 'x-a': 'b' } }),
  );
  app.get('/typed', () => new FileResponse(report, { status: 201, contentType: 'text/plain' }));
  app.get('/missing', () => new FileResponse(path.join(dir, 'nope.csv')));
  const url = await serve(t, app);
  let r = await get(`${url}/report`);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'a,b\n1,2\n');
  assert.equal(r.headers['content-type'], 'text/csv');
  assert.equal((await get(`${url}/report`, { 'if-none-match': r.headers.etag })).status, 304);
  assert.equal((await get(`${url}/report`, { range: 'bytes=4-' })).body.toString(), '1,2\n');
  r = await get(`${url}/download`);
  assert.equal(
    r.headers['content-disposition'],
    `attachment; filename="R_sum_ 2024.csv"; filename*=UTF-8''R%C3%A9sum%C3%A9%202024.csv`,
  );
  assert.equal(r.headers['x-a'], 'b');
  r = await get(`${url}/typed`);
  assert.equal(r.status, 201);
  assert.equal(r.headers['content-type'], 'text/plain');
  r = await get(`${url}/missing`);
  assert.equal(r.status, 500);
  assert.equal(JSON.parse(r.body).status, 500);
  assert.throws(() => new FileResponse(''), TypeError);
  assert.throws(() => new FileResponse('a', { status: 304 }), RangeError);
  assert.throws(() => new FileResponse('a', { filename: 'a\0b' }), TypeError);
});
