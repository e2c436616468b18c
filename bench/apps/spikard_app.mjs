// Spikard's side of the Node benchmark: the WORKLOADS.md handlers written with
// @spikard/node as a user writes them.
//
// Every route declares JSON Schemas and the core validates and coerces before
// a handler runs: integer, number, boolean, uuid and date path and query
// parameters, `tag` as an array of strings, JSON bodies with every field
// required and typed, url-encoded forms into a typed object (`age` an
// integer, `newsletter` a boolean), the multipart `file` part as an
// UploadFile. A bad value is the core's 422 problem document. Handlers are
// async. bench/run.py starts it pinned to one core:
//
//   node bench/apps/spikard_app.mjs --port 8000 [--workers 2] [--hooks]
//
// The package is loaded from bindings/node (built by `make setup-node`), as
// examples/node/quickstart.mjs does: no npm install step.

import { parseArgs } from 'node:util';

import { Spikard } from '../../bindings/node/lib/index.mjs';

const str = { type: 'string' };
const int = { type: 'integer' };
const num = { type: 'number' };
const bool = { type: 'boolean' };

/** An object schema with every property required. */
function object(properties) {
  return { type: 'object', properties, required: Object.keys(properties) };
}

// The JSON models of WORKLOADS.md (bench/models/msgspec_models.py).
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
const Upload = object({ file: { type: 'string', format: 'binary' } });

const QueryFew = object({ page: int, limit: int, sort: str });
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

function buildApp(config = {}) {
  const app = new Spikard(config);

  app.post('/json/small', { body: Small, response: Small }, async (req) => req.body);
  for (const size of ['medium', 'large', 'very-large']) {
    app.post(`/json/${size}`, { body: Order, response: Order }, async (req) => req.body);
  }

  app.get('/path/simple/{id}', { params: object({ id: str }) }, async (req) => ({
    id: req.params.id,
  }));
  app.get(
    '/path/multiple/{user_id}/{post_id}',
    { params: object({ user_id: str, post_id: str }) },
    async (req) => ({ user_id: req.params.user_id, post_id: req.params.post_id }),
  );
  app.get(
    '/path/deep/{org}/{team}/{project}/{resource}/{id}',
    { params: object({ org: str, team: str, project: str, resource: str, id: str }) },
    async (req) => {
      const { org, team, project, resource, id } = req.params;
      return { org, team, project, resource, id };
    },
  );
  app.get('/path/int/{value}', { params: object({ value: int }) }, async (req) => ({
    value: req.params.value,
  }));
  app.get(
    '/path/uuid/{id}',
    { params: object({ id: { type: 'string', format: 'uuid' } }) },
    async (req) => ({ id: req.params.id }),
  );
  app.get(
    '/path/date/{date}',
    { params: object({ date: { type: 'string', format: 'date' } }) },
    async (req) => ({ date: req.params.date }),
  );

  app.get('/query/few', { query: QueryFew }, async (req) => {
    const { page, limit, sort } = req.query;
    return { page, limit, sort };
  });
  app.get('/query/medium', { query: QueryMedium }, async (req) => {
    const { page, limit, sort, order, q, active, min_price, category } = req.query;
    return { page, limit, sort, order, q, active, min_price, category };
  });
  app.get('/query/many', { query: QueryMany }, async (req) => {
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

  app.post('/urlencoded/simple', { body: SimpleForm }, async (req) => req.body);
  app.post('/urlencoded/complex', { body: ComplexForm }, async (req) => req.body);

  for (const size of ['small', 'medium', 'large']) {
    app.post(`/multipart/${size}`, { body: Upload }, async (req) => ({
      filename: req.body.file.filename,
      size: req.body.file.size,
    }));
  }
  return app;
}

function main() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      workers: { type: 'string', default: '1' },
      hooks: { type: 'boolean', default: false }, // one no-op lifecycle hook in each phase
    },
  });
  if (values.port === undefined) {
    console.error(
      'usage: node bench/apps/spikard_app.mjs --port N [--workers N] [--host H] [--hooks]',
    );
    process.exit(2);
  }
  const app = buildApp({
    host: values.host,
    port: Number(values.port),
    workers: Number(values.workers),
  });
  if (values.hooks) {
    // What hooks cost (issue 17's figure): each phase passes its value on.
    const pass = async (value) => value;
    app.onRequest(pass);
    app.preValidation(pass);
    app.preHandler(pass);
    app.onResponse(pass);
    app.onError(pass);
  }
  // SIGTERM (the harness stopping a run) closes gracefully.
  return app.listen({ signals: true });
}

await main();
