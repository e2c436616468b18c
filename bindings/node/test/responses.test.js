'use strict';
// Response.html/text/redirect and cookies over real HTTP.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const { Response, Spikard } = require('..');

function getRaw(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      })
      .on('error', reject);
  });
}

test('html, text, redirect and cookies', async (t) => {
  const app = new Spikard({ quiet: true });
  app.get('/html', () => Response.html('<h1>hi</h1>'));
  app.get('/text', () => Response.text('plain', { status: 202 }));
  app.get('/go', () => Response.redirect('/html'));
  app.get('/login', () =>
    new Response({ ok: true })
      .setCookie('sid', 'abc', {
        maxAge: 60,
        expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
        domain: 'example.com',
        secure: true,
        httpOnly: true,
        sameSite: 'strict',
      })
      .setCookie('theme', 'dark', { path: null, sameSite: null })
      .deleteCookie('old'),
  );
  app.get('/bad', () => new Response('x').setCookie('sid', 'has space'));
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());

  let got = await fetch(`${url}/html`);
  assert.equal(got.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(await got.text(), '<h1>hi</h1>');
  got = await fetch(`${url}/text`);
  assert.equal(got.status, 202);
  assert.equal(got.headers.get('content-type'), 'text/plain; charset=utf-8');
  got = await fetch(`${url}/go`, { redirect: 'manual' });
  assert.equal(got.status, 307);
  assert.equal(got.headers.get('location'), '/html');
  const res = await getRaw(`${url}/login`);
  assert.deepEqual(res.headers['set-cookie'], [
    'sid=abc; Max-Age=60; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Strict',
    'theme=dark',
    'old=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=Lax',
  ]);
  assert.equal((await fetch(`${url}/bad`)).status, 500);
  assert.throws(() => Response.redirect('/x', 200), /not a redirect/);
});

test('string bodies cross as UTF-8 at every size around the one-pass bound', async (t) => {
  // The addon encodes a string in one pass when 3 bytes per UTF-16 unit fit
  // its 64 KiB block (21845 units), in two passes above: both sides of the
  // bound, with 1-, 2-, 3- and 4-byte characters and a lone surrogate
  // (its replacement, U+FFFD).
  const app = new Spikard({ quiet: true });
  const bodies = new Map();
  for (const [name, unit] of [
    ['ascii', 'a'],
    ['latin', 'é'],
    ['cjk', '語'],
    ['emoji', '😀'],
  ]) {
    for (const units of [1, 21844, 21845, 21846, 30000]) {
      const text = unit
        .repeat(Math.ceil(units / unit.length))
        .slice(0, units - (units % unit.length));
      bodies.set(`${name}-${units}`, text);
    }
  }
  bodies.set('lone', `x${'\ud800'}y`);
  app.get(
    '/s/{name}',
    { params: { type: 'object', properties: { name: { type: 'string' } } } },
    (req) => Response.text(bodies.get(req.params.name)),
  );
  app.get('/json', () => ({ s: 'é語😀', n: [1, 2.5] }));
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());

  for (const [name, text] of bodies) {
    const got = Buffer.from(await (await fetch(`${url}/s/${name}`)).arrayBuffer());
    assert.deepEqual(got, Buffer.from(text, 'utf8'), name);
  }
  assert.equal(await (await fetch(`${url}/json`)).text(), '{"s":"é語😀","n":[1,2.5]}');
});
