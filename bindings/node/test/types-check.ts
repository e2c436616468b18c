// Compiled by tsc (tsconfig.json), never run: the public types as an
// application sees them, through the package's own name and its exports map.

import {
  ProblemError,
  Response,
  Spikard,
  SseEvent,
  StreamingResponse,
  TestClient,
} from '@spikard/node';
import type { Listening, Request, RouteSchemas, TestResponse } from '@spikard/node';

const schemas: RouteSchemas = {
  params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
  response: { type: 'object', properties: { id: { type: 'integer' } } },
};

const app = new Spikard({ port: 0, quiet: true });

app.get('/users/{id}', schemas, async (req: Request<{ id: number }>) => {
  const id: number = req.params.id;
  if (id === 0) throw new ProblemError(404, 'no user 0', { title: 'Not Found' });
  return new Response({ id }, { status: 200, headers: { 'x-user': String(id) } });
});

app.post('/echo', async (req) => req.body);

app.get('/lines', () => {
  async function* lines(): AsyncGenerator<string> {
    yield 'a\n';
    yield 'b\n';
  }
  return new StreamingResponse(lines(), { contentType: 'text/plain', status: 200 });
});

app.sse('/events', async function* events(req) {
  yield { last: req.headers['last-event-id'] };
  yield new SseEvent({ data: { n: 1 }, event: 'tick', id: '1', retry: 1000 });
});

async function main(): Promise<void> {
  const where: Listening = await app.listen({ port: 0 });
  const port: number = where.port;
  const url: string = where.url;
  console.log(port, url, app.port, app.url);
  const problem = new ProblemError(422, 'bad', {
    errors: [{ type: 'int_parsing', loc: ['path', 'id'], msg: 'not an integer' }],
  });
  const status: number = problem.status;
  console.log(status, problem.toDescription());
  await app.close();
}

async function withClient(): Promise<void> {
  const client = new TestClient(app);
  const got: TestResponse = await client.get('/users/1', {
    query: { verbose: true },
    cookies: { s: 'x' },
  });
  const status: number = got.status;
  const id: unknown = got.json().id;
  const made = await client.post('/echo', { json: { a: 1 }, headers: { 'x-trace': '1' } });
  const up = await client.post('/echo', {
    form: { note: 'n' },
    files: { file: { data: Buffer.from('x'), filename: 'x.bin' } },
  });
  console.log(status, id, made.text(), up.body.length, await client.url());
  await client.close();
}

void main();
void withClient();
