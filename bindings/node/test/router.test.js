'use strict';
// Router({ prefix, tags }) and app.includeRouter over real HTTP.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Router, Spikard } = require('..');

test('routers prefix, nest and tag their routes', async (t) => {
  const app = new Spikard({ quiet: true });
  const users = new Router({ prefix: '/users', tags: ['users'] });
  const admin = new Router({ prefix: '/admin', tags: ['admin'] });
  users.get(
    '/{id}',
    { params: { type: 'object', properties: { id: { type: 'integer' } } } },
    (req) => ({ id: req.params.id }),
  );
  admin.delete('/{id}', () => ({ deleted: true }));
  users.includeRouter(admin);
  app.includeRouter(users, { prefix: '/v1', tags: ['v1'] });
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());

  let got = await fetch(`${url}/v1/users/7`);
  assert.deepEqual([got.status, await got.json()], [200, { id: 7 }]);
  got = await fetch(`${url}/v1/users/x`);
  assert.equal(got.status, 422);
  got = await fetch(`${url}/v1/users/admin/3`, { method: 'DELETE' });
  assert.deepEqual([got.status, await got.json()], [200, { deleted: true }]);
  assert.equal((await fetch(`${url}/users/7`)).status, 404);
  assert.deepEqual(app.routeTags.get('GET /v1/users/{id}'), ['v1', 'users']);
  assert.deepEqual(app.routeTags.get('DELETE /v1/users/admin/{id}'), ['v1', 'users', 'admin']);
});

test('router prefixes are checked', () => {
  assert.throws(() => new Router({ prefix: 'users' }), /prefix/);
  assert.throws(() => new Router({ prefix: '/users/' }), /prefix/);
  assert.throws(() => new Router().get('x', () => 1), /must start with/);
});
