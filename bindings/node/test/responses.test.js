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
