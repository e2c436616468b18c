// Hono's side of the Node benchmark: WORKLOADS.md on @hono/node-server, every
// input validated into typed values by @hono/zod-validator with zod schemas
// (path and query strings coerced: z.coerce.number().int(), z.stringbool(),
// z.uuid(), z.iso.date()); url-encoded forms and the multipart upload through
// the 'form' target, which reads them with c.req.parseBody(). A bad value is
// zod-validator's 400.
//
//   node bench/peers/hono/app.mjs --port 8000 [--workers 2]
//
// --workers N above 1 runs N node:cluster workers sharing the port (the
// unpinned run), the usual way to put a Node server on several cores.

import cluster from 'node:cluster';
import { parseArgs } from 'node:util';

import { serve } from '@hono/node-server';
import { zValidator } from '@hono/zod-validator';
import { Hono } from 'hono';
import { z } from 'zod';

const int = z.coerce.number().int(); // from a path, query or form string
const num = z.coerce.number();
const bool = z.stringbool({ truthy: ['true'], falsy: ['false'] });
/** A repeated query key arrives as an array, a single one as a string. */
const strings = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string()));

const Small = z.object({
  name: z.string(),
  description: z.string(),
  price: z.number(),
  tax: z.number().nullable(),
});
const Address = z.object({
  street: z.string(),
  city: z.string(),
  zip: z.string(),
  country: z.string(),
});
const Customer = z.object({ name: z.string(), email: z.string(), address: Address });
const Item = z.object({
  id: z.number().int(),
  sku: z.string(),
  name: z.string(),
  price: z.number(),
  quantity: z.number().int(),
  tags: z.array(z.string()),
  in_stock: z.boolean(),
});
const Order = z.object({
  order_id: z.string(),
  customer: Customer,
  items: z.array(Item),
  notes: z.string(),
  priority: z.string(),
});
const SimpleForm = z.object({
  username: z.string(),
  password: z.string(),
  remember: z.string(),
  csrf_token: z.string(),
});
const ComplexForm = z.object({
  first_name: z.string(),
  last_name: z.string(),
  email: z.string(),
  age: int,
  street: z.string(),
  city: z.string(),
  zip: z.string(),
  country: z.string(),
  phone: z.string(),
  newsletter: bool,
  plan: z.string(),
  referrer: z.string(),
});
const Upload = z.object({ file: z.instanceof(File) });
const QueryFew = z.object({ page: int, limit: int, sort: z.string() });
const QueryMedium = z.object({
  page: int,
  limit: int,
  sort: z.string(),
  order: z.string(),
  q: z.string(),
  active: bool,
  min_price: num,
  category: z.string(),
});
const QueryMany = QueryMedium.extend({
  max_price: num,
  brand: z.string(),
  color: z.string(),
  size: z.string(),
  tag: strings,
  in_stock: bool,
  rating: int,
});

function buildApp() {
  const app = new Hono();

  app.post('/json/small', zValidator('json', Small), async (c) => c.json(c.req.valid('json')));
  for (const size of ['medium', 'large', 'very-large']) {
    app.post(`/json/${size}`, zValidator('json', Order), async (c) => c.json(c.req.valid('json')));
  }

  app.get('/path/simple/:id', zValidator('param', z.object({ id: z.string() })), async (c) =>
    c.json({ id: c.req.valid('param').id }),
  );
  app.get(
    '/path/multiple/:user_id/:post_id',
    zValidator('param', z.object({ user_id: z.string(), post_id: z.string() })),
    async (c) => {
      const { user_id, post_id } = c.req.valid('param');
      return c.json({ user_id, post_id });
    },
  );
  const Deep = z.object({
    org: z.string(),
    team: z.string(),
    project: z.string(),
    resource: z.string(),
    id: z.string(),
  });
  app.get('/path/deep/:org/:team/:project/:resource/:id', zValidator('param', Deep), async (c) => {
    const { org, team, project, resource, id } = c.req.valid('param');
    return c.json({ org, team, project, resource, id });
  });
  app.get('/path/int/:value', zValidator('param', z.object({ value: int })), async (c) =>
    c.json({ value: c.req.valid('param').value }),
  );
  app.get('/path/uuid/:id', zValidator('param', z.object({ id: z.uuid() })), async (c) =>
    c.json({ id: c.req.valid('param').id }),
  );
  app.get('/path/date/:date', zValidator('param', z.object({ date: z.iso.date() })), async (c) =>
    c.json({ date: c.req.valid('param').date }),
  );

  app.get('/query/few', zValidator('query', QueryFew), async (c) => {
    const { page, limit, sort } = c.req.valid('query');
    return c.json({ page, limit, sort });
  });
  app.get('/query/medium', zValidator('query', QueryMedium), async (c) => {
    const { page, limit, sort, order, q, active, min_price, category } = c.req.valid('query');
    return c.json({ page, limit, sort, order, q, active, min_price, category });
  });
  app.get('/query/many', zValidator('query', QueryMany), async (c) => {
    const q = c.req.valid('query');
    return c.json({
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
    });
  });

  app.post('/urlencoded/simple', zValidator('form', SimpleForm), async (c) =>
    c.json(c.req.valid('form')),
  );
  app.post('/urlencoded/complex', zValidator('form', ComplexForm), async (c) =>
    c.json(c.req.valid('form')),
  );

  for (const size of ['small', 'medium', 'large']) {
    app.post(`/multipart/${size}`, zValidator('form', Upload), async (c) => {
      const { file } = c.req.valid('form');
      const bytes = (await file.arrayBuffer()).byteLength; // read to its end
      return c.json({ filename: file.name, size: bytes });
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

function main() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      workers: { type: 'string', default: '1' },
    },
  });
  if (values.port === undefined) {
    console.error('usage: node bench/peers/hono/app.mjs --port N [--workers N]');
    process.exit(2);
  }
  const workers = Number(values.workers);
  if (workers > 1 && cluster.isPrimary) {
    supervise(workers);
    return;
  }
  serve({ fetch: buildApp().fetch, hostname: values.host, port: Number(values.port) });
}

main();
