// Express's side of the Node benchmark: WORKLOADS.md on Express 5, every input
// validated into typed values by ajv 8 validators compiled once at start
// (ajv-formats for uuid and date): path and query parameters and url-encoded
// forms with type coercion (their values arrive as strings), JSON bodies
// strictly. express.json and express.urlencoded read the bodies, multer (memory
// storage) the upload. A bad value answers 422 with ajv's errors.
//
//   node bench/peers/express/app.mjs --port 8000 [--workers 2]
//
// --workers N above 1 runs N node:cluster workers sharing the port (the
// unpinned run), the usual way to put a Node server on several cores.

import cluster from 'node:cluster';
import { parseArgs } from 'node:util';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import express from 'express';
import multer from 'multer';

const strict = addFormats(new Ajv()); // JSON bodies: typed as sent
const coercing = addFormats(new Ajv({ coerceTypes: 'array' })); // strings from URLs and forms

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

/**
 * Middleware validating `req[part]` with a compiled validator into
 * `req.valid[part]`, a copy (Express 5's req.query is a getter, parsed anew
 * on each read), coerced in place by a coercing validator; 422 when invalid.
 */
function validate(part, schema, ajv = coercing) {
  const check = ajv.compile(schema);
  return (req, res, next) => {
    const data = { ...req[part] };
    if (!check(data)) {
      res.status(422).json({ detail: check.errors });
      return;
    }
    if (req.valid === undefined) req.valid = {};
    req.valid[part] = data;
    next();
  };
}

/** A JSON body: validated as sent (no coercion), the object itself kept. */
function validateJson(schema) {
  const check = strict.compile(schema);
  return (req, res, next) => {
    if (!check(req.body)) {
      res.status(422).json({ detail: check.errors });
      return;
    }
    req.valid = { body: req.body };
    next();
  };
}

function buildApp() {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const json = express.json({ limit: '1mb' });
  const form = express.urlencoded({ extended: false, limit: '1mb' });
  const upload = multer({ storage: multer.memoryStorage() }).single('file');

  app.post('/json/small', json, validateJson(Small), async (req, res) => {
    res.json(req.valid.body);
  });
  for (const size of ['medium', 'large', 'very-large']) {
    app.post(`/json/${size}`, json, validateJson(Order), async (req, res) => {
      res.json(req.valid.body);
    });
  }

  app.get('/path/simple/:id', validate('params', object({ id: str })), async (req, res) => {
    res.json({ id: req.valid.params.id });
  });
  app.get(
    '/path/multiple/:user_id/:post_id',
    validate('params', object({ user_id: str, post_id: str })),
    async (req, res) => {
      const { user_id, post_id } = req.valid.params;
      res.json({ user_id, post_id });
    },
  );
  app.get(
    '/path/deep/:org/:team/:project/:resource/:id',
    validate('params', object({ org: str, team: str, project: str, resource: str, id: str })),
    async (req, res) => {
      const { org, team, project, resource, id } = req.valid.params;
      res.json({ org, team, project, resource, id });
    },
  );
  app.get('/path/int/:value', validate('params', object({ value: int })), async (req, res) => {
    res.json({ value: req.valid.params.value });
  });
  app.get(
    '/path/uuid/:id',
    validate('params', object({ id: { type: 'string', format: 'uuid' } })),
    async (req, res) => {
      res.json({ id: req.valid.params.id });
    },
  );
  app.get(
    '/path/date/:date',
    validate('params', object({ date: { type: 'string', format: 'date' } })),
    async (req, res) => {
      res.json({ date: req.valid.params.date });
    },
  );

  app.get('/query/few', validate('query', QueryFew), async (req, res) => {
    const { page, limit, sort } = req.valid.query;
    res.json({ page, limit, sort });
  });
  app.get('/query/medium', validate('query', QueryMedium), async (req, res) => {
    const { page, limit, sort, order, q, active, min_price, category } = req.valid.query;
    res.json({ page, limit, sort, order, q, active, min_price, category });
  });
  app.get('/query/many', validate('query', QueryMany), async (req, res) => {
    const q = req.valid.query;
    res.json({
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

  app.post('/urlencoded/simple', form, validate('body', SimpleForm), async (req, res) => {
    res.json(req.valid.body);
  });
  app.post('/urlencoded/complex', form, validate('body', ComplexForm), async (req, res) => {
    res.json(req.valid.body);
  });

  for (const size of ['small', 'medium', 'large']) {
    app.post(`/multipart/${size}`, upload, async (req, res) => {
      if (req.file === undefined) {
        res.status(422).json({ detail: 'the multipart field "file" is required' });
        return;
      }
      res.json({ filename: req.file.originalname, size: req.file.size });
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
    console.error('usage: node bench/peers/express/app.mjs --port N [--workers N]');
    process.exit(2);
  }
  const workers = Number(values.workers);
  if (workers > 1 && cluster.isPrimary) {
    supervise(workers);
    return;
  }
  buildApp().listen(Number(values.port), values.host);
}

main();
