// Fastify's side of the Node benchmark: WORKLOADS.md with Fastify's own path.
//
// JSON Schemas for params, querystring and body, validated (and, for params,
// query and forms, coerced) by Fastify's ajv; response schemas, so answers are
// written by its fast-json-stringify serializer. @fastify/formbody parses
// url-encoded bodies, @fastify/multipart the upload, read to its end. A bad
// value is Fastify's 400. Logger off.
//
//   node bench/peers/fastify/app.mjs --port 8000 [--workers 2]
//
// --workers N above 1 runs N node:cluster workers sharing the port (the
// unpinned run), the usual way to put a Node server on several cores.

import cluster from 'node:cluster';
import { parseArgs } from 'node:util';

import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';

const str = { type: 'string' };
const int = { type: 'integer' };
const num = { type: 'number' };
const bool = { type: 'boolean' };

/** An object schema with every property required. */
function object(properties) {
  return { type: 'object', properties, required: Object.keys(properties) };
}

const Small = object({
  name: str,
  description: str,
  price: num,
  tax: { type: ['number', 'null'] },
});
const Address = object({ street: str, city: str, zip: str, country: str });
const Customer = object({ name: str, email: str, address: Address });
const Item = object({
  id: int,
  sku: str,
  name: str,
  price: num,
  quantity: int,
  tags: { type: 'array', items: str },
  in_stock: bool,
});
const Order = object({
  order_id: str,
  customer: Customer,
  items: { type: 'array', items: Item },
  notes: str,
  priority: str,
});
const SimpleForm = object({ username: str, password: str, remember: str, csrf_token: str });
const ComplexForm = object({
  first_name: str,
  last_name: str,
  email: str,
  age: int,
  street: str,
  city: str,
  zip: str,
  country: str,
  phone: str,
  newsletter: bool,
  plan: str,
  referrer: str,
});
const mediumProps = {
  page: int,
  limit: int,
  sort: str,
  order: str,
  q: str,
  active: bool,
  min_price: num,
  category: str,
};
const QueryFew = object({ page: int, limit: int, sort: str });
const QueryMedium = object(mediumProps);
const QueryMany = object({
  ...mediumProps,
  max_price: num,
  brand: str,
  color: str,
  size: str,
  tag: { type: 'array', items: str },
  in_stock: bool,
  rating: int,
});
const Uploaded = object({ filename: str, size: int });

/** A route's schema: the request parts given, and the 200 answer's. */
function schema(parts, response) {
  return { schema: { ...parts, response: { 200: response } } };
}

function buildApp() {
  const app = Fastify({ logger: false });
  app.register(formbody);
  app.register(multipart);

  app.post('/json/small', schema({ body: Small }, Small), async (req) => req.body);
  for (const size of ['medium', 'large', 'very-large']) {
    app.post(`/json/${size}`, schema({ body: Order }, Order), async (req) => req.body);
  }

  const simple = object({ id: str });
  app.get('/path/simple/:id', schema({ params: simple }, simple), async (req) => ({
    id: req.params.id,
  }));
  const multiple = object({ user_id: str, post_id: str });
  app.get(
    '/path/multiple/:user_id/:post_id',
    schema({ params: multiple }, multiple),
    async (req) => ({ user_id: req.params.user_id, post_id: req.params.post_id }),
  );
  const deep = object({ org: str, team: str, project: str, resource: str, id: str });
  app.get(
    '/path/deep/:org/:team/:project/:resource/:id',
    schema({ params: deep }, deep),
    async (req) => {
      const { org, team, project, resource, id } = req.params;
      return { org, team, project, resource, id };
    },
  );
  const value = object({ value: int });
  app.get('/path/int/:value', schema({ params: value }, value), async (req) => ({
    value: req.params.value,
  }));
  app.get(
    '/path/uuid/:id',
    schema({ params: object({ id: { type: 'string', format: 'uuid' } }) }, object({ id: str })),
    async (req) => ({ id: req.params.id }),
  );
  app.get(
    '/path/date/:date',
    schema({ params: object({ date: { type: 'string', format: 'date' } }) }, object({ date: str })),
    async (req) => ({ date: req.params.date }),
  );

  app.get('/query/few', schema({ querystring: QueryFew }, QueryFew), async (req) => {
    const { page, limit, sort } = req.query;
    return { page, limit, sort };
  });
  app.get('/query/medium', schema({ querystring: QueryMedium }, QueryMedium), async (req) => {
    const { page, limit, sort, order, q, active, min_price, category } = req.query;
    return { page, limit, sort, order, q, active, min_price, category };
  });
  app.get('/query/many', schema({ querystring: QueryMany }, QueryMany), async (req) => {
    const q = req.query;
    return {
      page: q.page,
      limit: q.limit,
      sort: q.sort,
      order: q.order,
      q: q.q,
      active: q.active,
      min_price: q.min_price,
      category: q.category,
      max_price: q.max_price,
      brand: q.brand,
      color: q.color,
      size: q.size,
      tag: q.tag,
      in_stock: q.in_stock,
      rating: q.rating,
    };
  });

  app.post('/urlencoded/simple', schema({ body: SimpleForm }, SimpleForm), async (req) => req.body);
  app.post(
    '/urlencoded/complex',
    schema({ body: ComplexForm }, ComplexForm),
    async (req) => req.body,
  );

  for (const size of ['small', 'medium', 'large']) {
    app.post(`/multipart/${size}`, schema({}, Uploaded), async (req, reply) => {
      const part = await req.file();
      if (part === undefined || part.fieldname !== 'file') {
        return reply.code(422).send({ error: 'the multipart field "file" is required' });
      }
      let bytes = 0;
      for await (const chunk of part.file) bytes += chunk.length;
      return { filename: part.filename, size: bytes };
    });
  }
  return app;
}

/**
 * The cluster primary: forks the workers, and on SIGTERM or SIGINT passes it
 * on and exits once every worker has, so that whoever stops this process
 * knows the workers are gone when it is.
 */
function supervise(workers) {
  let alive = workers;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', () => {
    alive -= 1;
    if (alive === 0) process.exit(0);
  });
  const stop = (signal) => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill(signal);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      workers: { type: 'string', default: '1' },
    },
  });
  if (values.port === undefined) {
    console.error('usage: node bench/peers/fastify/app.mjs --port N [--workers N]');
    process.exit(2);
  }
  const workers = Number(values.workers);
  if (workers > 1 && cluster.isPrimary) {
    supervise(workers);
    return;
  }
  const app = buildApp();
  await app.listen({ host: values.host, port: Number(values.port) });
}

await main();
