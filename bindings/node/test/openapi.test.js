'use strict';
// The OpenAPI document of a Node app: route options and schemas as the core
// documents them, the config checked field by field, the pages served.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Spikard } = require('..');

async function serve(t, app) {
  const { url } = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return url;
}

const PET = {
  title: 'Pet',
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer', default: 0 } },
  required: ['name'],
};

/** A Zod-like schema (what isZod recognises): its own toJSONSchema(). */
const zodPet = { _zod: {}, toJSONSchema: () => ({ $schema: 'x', ...PET }) };

test('route options and titled schemas make the document', async (t) => {
  const app = new Spikard({ quiet: true, openapi: { title: 'Pets', version: '3.0.0' } });
  app.get(
    '/pets/{pet_id:int}',
    { response: PET, summary: 'Read a pet', description: 'By id.', tags: ['pets'] },
    () => ({ name: 'Rex', age: 1 }),
  );
  app.post(
    '/pets',
    { body: zodPet, response: PET, statusCode: 201, operationId: 'add_pet' },
    (req) => req.body,
  );
  app.registerRoute('POST', '/raw', { bodySchema: { type: 'object' }, tags: ['raw'] }, () => ({}));
  const url = await serve(t, app);
  const res = await fetch(`${url}/openapi.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const doc = await res.json();
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(doc.info, { title: 'Pets', version: '3.0.0' });
  const read = doc.paths['/pets/{pet_id}'].get;
  assert.equal(read.summary, 'Read a pet');
  assert.equal(read.description, 'By id.');
  assert.deepEqual(read.tags, ['pets']);
  assert.equal(read.operationId, 'get_pets_pet_id');
  assert.deepEqual(read.parameters, [
    { in: 'path', name: 'pet_id', required: true, schema: { type: 'integer' } },
  ]);
  const ref = { $ref: '#/components/schemas/Pet' };
  assert.deepEqual(read.responses['200'].content['application/json'].schema, ref);
  const add = doc.paths['/pets'].post;
  assert.equal(add.operationId, 'add_pet');
  assert.deepEqual(add.requestBody.content['application/json'].schema, ref);
  assert.deepEqual(add.responses['201'].content['application/json'].schema, ref);
  assert.deepEqual(doc.paths['/raw'].post.tags, ['raw']);
  assert.ok(doc.components.schemas.ValidationProblem);
  assert.deepEqual(Object.keys(doc.components.schemas).sort(), [
    'Pet',
    'ProblemDetails',
    'ValidationErrorItem',
    'ValidationProblem',
  ]);

  const page = await fetch(`${url}/docs`);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
  assert.doesNotMatch(await page.text(), /https?:/);
  const bundle = await fetch(`${url}/docs/swagger-ui-bundle.js`);
  assert.equal(bundle.status, 200);
  assert.equal(bundle.headers.get('content-type'), 'text/javascript; charset=utf-8');
  await bundle.arrayBuffer();
  const redoc = await fetch(`${url}/redoc`);
  assert.equal(redoc.status, 200);
  await redoc.text();
});

test('the openapi config is refused field by field', () => {
  for (const [openapi, Kind, message] of [
    [{ title: '' }, RangeError, 'ServerConfig.openapi.title="": must be a non-empty string'],
    [
      { swaggerUiPath: 'docs' },
      RangeError,
      'ServerConfig.openapi.swaggerUiPath="docs": must be a path',
    ],
    [{ enabled: 'yes' }, TypeError, 'ServerConfig.openapi.enabled="yes": must be true or false'],
    [{ titel: 'x' }, TypeError, 'ServerConfig.openapi: unknown field "titel"'],
    [{ redocPath: '/docs' }, RangeError, '"swagger_ui_path" and "redoc_path" are both "/docs"'],
    ['on', TypeError, 'ServerConfig.openapi="on": expected an object'],
  ]) {
    assert.throws(
      () => new Spikard({ openapi }),
      (err) => err instanceof Kind && err.message.includes(message),
      JSON.stringify(openapi),
    );
  }
});

test('route options are checked where the route is registered', () => {
  const app = new Spikard({ quiet: true });
  assert.throws(() => app.get('/a', { tags: 'x' }, () => 1), /GET \/a: tags="x": must be an array/);
  assert.throws(
    () => app.get('/b', { statusCode: 99 }, () => 1),
    /statusCode=99: must be an integer in 100..599/,
  );
  assert.throws(
    () => app.get('/c', { operationId: '' }, () => 1),
    /operationId="": must be a non-empty string/,
  );
  assert.throws(() => app.get('/d', { sumary: 'x' }, () => 1), /unknown schema group "sumary"/);
});

test('a redoc page set to null is not served; no config serves nothing', async (t) => {
  const app = new Spikard({ quiet: true, openapi: { redocPath: null } });
  app.get('/health', () => ({ ok: true }));
  const url = await serve(t, app);
  assert.equal((await fetch(`${url}/redoc`)).status, 404);
  assert.equal((await fetch(`${url}/docs`)).status, 200);
  const plain = new Spikard({ quiet: true });
  plain.get('/health', () => ({ ok: true }));
  const other = await serve(t, plain);
  assert.equal((await fetch(`${other}/openapi.json`)).status, 404);
});

// The same app written in each language's own idiom (Python: a msgspec
// Struct, signature defaults, docstrings; Node: JSON Schema groups and route
// options) gets the same document, byte for byte: the core builds it.
const PYTHON_PETS = `
import sys, urllib.request
from msgspec import Struct
from spikard import Query, ServerConfig, Spikard
from spikard.config import OpenApiConfig

class Pet(Struct):
    name: str
    age: int = 0

app = Spikard(config=ServerConfig(openapi=OpenApiConfig(title="Pets", version="1.0.0")))

@app.get("/pets/{pet_id:int}", tags=["pets"])
async def read_pet(pet_id: int, verbose: bool = False) -> Pet:
    """Read a pet."""
    return Pet(name="Rex")

@app.post("/pets", status_code=201)
async def add_pet(pet: Pet) -> Pet:
    """Add a pet."""
    return pet

@app.get("/pets")
async def list_pets(limit: int = Query(default=10, ge=1)) -> list[Pet]:
    """List pets."""
    return []

with app.serve_in_background() as server:
    sys.stdout.write(urllib.request.urlopen(server.url + "/openapi.json").read().decode())
`;

test('the same app in Python and Node has the same document', async (t) => {
  const path = require('node:path');
  const fs = require('node:fs');
  const { execFileSync } = require('node:child_process');
  const python = path.join(__dirname, '..', '..', '..', '.venv', 'bin', 'python');
  assert.ok(fs.existsSync(python), `${python} is missing: make setup builds it`);
  const fromPython = execFileSync(python, ['-c', PYTHON_PETS], { encoding: 'utf8' });

  const PETSCHEMA = {
    title: 'Pet',
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer', default: 0 } },
    required: ['name'],
  };
  const app = new Spikard({ quiet: true, openapi: { title: 'Pets', version: '1.0.0' } });
  app.get(
    '/pets/{pet_id:int}',
    {
      query: { type: 'object', properties: { verbose: { type: 'boolean', default: false } } },
      response: PETSCHEMA,
      summary: 'Read a pet.',
      tags: ['pets'],
    },
    () => ({ name: 'Rex' }),
  );
  app.post(
    '/pets',
    { body: PETSCHEMA, response: PETSCHEMA, statusCode: 201, summary: 'Add a pet.' },
    (req) => req.body,
  );
  app.get(
    '/pets',
    {
      query: {
        type: 'object',
        properties: { limit: { type: 'integer', default: 10, minimum: 1 } },
      },
      response: { type: 'array', items: PETSCHEMA },
      summary: 'List pets.',
    },
    () => [],
  );
  const url = await serve(t, app);
  const fromNode = await (await fetch(`${url}/openapi.json`)).text();
  assert.equal(fromNode, fromPython);
  assert.ok(JSON.parse(fromNode).components.schemas.Pet);
});
