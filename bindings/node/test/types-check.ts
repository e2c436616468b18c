// Compiled by tsc (tsconfig.json), never run: the public types as an
// application sees them, through the package's own name and its exports map.

import {
  DependencyError,
  ErrorResponse,
  FileResponse,
  HttpException,
  ProblemError,
  Provide,
  Response,
  Spikard,
  SseEvent,
  StreamingResponse,
  TestClient,
  WebSocket,
  WebSocketDisconnect,
} from '@spikard/node';
import type {
  CorsConfig,
  Listening,
  Logger,
  MessageSchema,
  OpenApiConfig,
  Request,
  RouteSchemas,
  TestResponse,
  TestWebSocket,
  TestWebSocketRefusal,
} from '@spikard/node';

const schemas: RouteSchemas = {
  params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
  response: { type: 'object', properties: { id: { type: 'integer' } } },
  summary: 'Read a user',
  tags: ['users'],
  operationId: 'read_user',
};

const openapi: OpenApiConfig = { title: 'My API', version: '1.0.0', redocPath: null };
const app = new Spikard({ port: 0, quiet: true, openapi });

// The access log and where the app's lines go: console, any info(message) sink, or none.
const lines: string[] = [];
const sink: Logger = { info: (message: string) => void lines.push(message) };
export const logged = [
  new Spikard({ accessLog: true, logger: console }),
  new Spikard({ accessLog: true, logger: sink }),
  new Spikard({ logger: false }),
];

app.get('/users/{id}', schemas, async (req: Request<{ id: number }>) => {
  const id: number = req.params.id;
  if (id === 0) throw new ProblemError(404, 'no user 0', { title: 'Not Found' });
  return new Response({ id }, { status: 200, headers: { 'x-user': String(id) } });
});

app.post('/echo', async (req) => req.body);

const cors: CorsConfig = {
  allowOrigins: ['https://app.example', /https:\/\/.*\.example/],
  maxAge: null,
};
const corsApp = new Spikard({ requestId: true, cors });
corsApp.get('/id', { cors: false }, (req) => {
  const id: string | undefined = req.requestId;
  return { id };
});
corsApp.registerRoute('GET', '/raw', { cors }, () => 'raw');

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

// WebSockets: the brief's message handler, typed messages, a connection handler, broadcast.
app.websocket('/ws', (message) => ({ echo: message }));
app.websocket('/upper', (text: string) => text.toUpperCase(), { message: 'text' });
app.websocket('/reverse', (bytes: Buffer) => Buffer.from(bytes).reverse(), { message: 'binary' });
const note: MessageSchema<{ text: string }> = {
  safeParse: (value) =>
    typeof value === 'object' && value !== null && 'text' in value
      ? { success: true, data: { text: String(value.text) } }
      : { success: false, error: { issues: [{ path: ['text'], message: 'Required' }] } },
};
app.websocket('/note', (n, ws: WebSocket) => ({ text: n.text, room: ws.params.room }), {
  message: note,
  subprotocols: ['notes.v1'],
});
app.websocket(
  '/chat/{room}',
  async (ws: WebSocket<{ room: string }>) => {
    await ws.accept({ subprotocol: ws.subprotocols[0], headers: { 'x-room': ws.params.room } });
    ws.subscribe(ws.params.room);
    await ws.sendText('welcome');
    try {
      for await (const message of ws) {
        if (typeof message === 'string') await ws.publish(ws.params.room, { said: message });
        else await ws.sendBytes(message);
      }
    } catch (err) {
      if (!(err instanceof WebSocketDisconnect)) throw err;
      const code: number = err.code;
      console.log(code, err.reason);
    }
    const json: unknown = await ws.receiveJson().catch(() => null);
    console.log(json, ws.closeCode);
    await ws.close(1000, 'bye');
  },
  { connection: true, params: { type: 'object', properties: { room: { type: 'string' } } } },
);
app.broadcast('lobby', { news: true });

async function withSockets(): Promise<void> {
  const client = new TestClient(app);
  const ws: TestWebSocket = await client.websocket('/chat/lobby', {
    subprotocols: ['chat.v1'],
    headers: { origin: 'http://127.0.0.1' },
  });
  const chosen: string | null = ws.subprotocol;
  await ws.send('hello');
  await ws.sendJson({ n: 1 });
  const got: string | Buffer = await ws.receive();
  console.log(chosen, got, await ws.receiveJson(), ws.response.status);
  await ws.close(4000, 'done');
  const code: number | null = ws.closeCode;
  try {
    await client.websocket('/nope');
  } catch (err) {
    console.log(code, (err as TestWebSocketRefusal).response.status);
  }
  await client.close();
}

void main();
void withClient();
void withSockets();

// Compression, static files and file answers (ABI 2.3).
const served = new Spikard({
  compression: { gzip: true, brotli: true, zstd: false, minSize: 1024, quality: 6 },
  staticFiles: [
    {
      directory: './public',
      routePrefix: '/static',
      indexFile: true,
      cacheControl: 'public, max-age=3600',
    },
  ],
});
served.get(
  '/report',
  () => new FileResponse('./report.csv', { filename: 'report.csv', contentType: 'text/csv' }),
);
const fileAnswer: Response = new FileResponse('./a.txt', { status: 200, headers: { 'x-a': 'b' } });
void fileAnswer;

// Lifecycle hooks and application errors.
function withHooks(): void {
  const app = new Spikard();
  app
    .onRequest((req) => {
      req.headers['x-user'] = 'ada';
      return req;
    })
    .preValidation(async (req) =>
      req.headers.authorization ? req : new Response(null, { status: 401 }),
    )
    .preHandler((req) => req)
    .onResponse((res) => res.setHeader('x-frame-options', 'DENY'))
    .onError(async (res: ErrorResponse) => {
      console.log(res.exception, res.json(), res.getHeader('content-type'));
      return res.deleteHeader('x-powered-by');
    })
    .onStartup(async () => undefined)
    .onShutdown(() => undefined);
  app.get('/gone', () => {
    throw new HttpException(410, 'gone', { 'retry-after': '5' });
  });
}
void withHooks;

// Dependency injection by name and by class.
function withDependencies(): void {
  class Db {
    constructor(readonly url: string) {}
  }
  const app = new Spikard({}, { strictDependencies: true });
  app
    .provide('config', { url: 'pg://x' })
    .provide(Db, new Provide(({ config }) => new Db(String(config)), { dependsOn: ['config'] }))
    .overrideDependency(Db, new Db('pg://test'));
  app.get('/db', { dependencyOverrides: new Map([[Db, new Db('pg://route')]]) }, async (req) => {
    const db: Db = await req.dep(Db);
    const config = await req.dep<{ url: string }>('config');
    return { url: db.url, config: config.url };
  });
  app.get('/n', { dependencyOverrides: { config: {} } }, () => 'n');
  app.listen().catch((err: unknown) => {
    if (err instanceof DependencyError) console.log(err.kind, err.key, err.expected, err.cycle);
  });
}
void withDependencies;
