// The Quick Start of the Spikard brief, in Node: run it and curl it.
//
//   node examples/node/quickstart.mjs
//   curl -s localhost:8000/users/7
//   curl -s -X POST localhost:8000/users -H 'content-type: application/json' \
//        -d '{"id":1,"name":"A","email":"a@x.io"}'
//
// The schemas are plain JSON Schema; a Zod 4 schema (z.object({...})) works
// the same way. The core validates and coerces: /users/x answers its 422.

import { Response, Spikard } from '../../bindings/node/lib/index.mjs';

const User = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    email: { type: 'string' },
  },
  required: ['id', 'name', 'email'],
};

const app = new Spikard();

app.get(
  '/users/{id}',
  {
    params: { type: 'object', properties: { id: { type: 'integer' } } },
    response: User,
  },
  async (req) => ({
    id: req.params.id,
    name: 'Alice',
    email: 'alice@example.com',
  }),
);

app.post(
  '/users',
  { body: User, response: User },
  async (req) => new Response(req.body, { status: 201 }),
);

// signals: Ctrl-C or SIGTERM closes gracefully, letting in-flight requests finish.
const { url } = await app.listen({ port: 8000, signals: true });
console.log(`serving the Quick Start on ${url}`);
