'use strict';
// `workers: N` over real HTTP: a supervisor process (node on a small script)
// serving from two worker processes, stopped by SIGTERM; a worker that fails
// before it listens; and the addon's Supervisor on its own.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

const native = require('../lib/native');

const PKG = path.join(__dirname, '..');
const START_MS = 30000; // the supervisor's "listening" line, or its exit
const EXIT_MS = 20000; // shutdown_timeout is 2 s below; SIGKILL follows 5 s later
const LISTENING = /spikard: listening on http:\/\/([^\s:]+):(\d+) \((\d+) workers\)/;

/** A temp dir with `script` (its body, after a require of this package) as app.js. */
function writeScript(body) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikard-workers-'));
  const file = path.join(dir, 'app.js');
  fs.writeFileSync(
    file,
    `'use strict';\nconst { Spikard } = require(${JSON.stringify(PKG)});\n` +
      `const native = require(${JSON.stringify(path.join(PKG, 'lib', 'native'))});\n${body}\n`,
  );
  return { dir, file };
}

/** Spawn node on file; collects stderr, and resolves `exited` with the exit code (or signal). */
function run(file) {
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const proc = { child, stderr: '', onStderr: () => {} };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    proc.stderr += chunk;
    proc.onStderr();
  });
  proc.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return proc;
}

/** The port of the supervisor's "listening" line; rejects if it exits first or after START_MS. */
function listening(proc) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line in ${START_MS} ms:\n${proc.stderr}`)),
      START_MS,
    );
    const check = () => {
      const m = LISTENING.exec(proc.stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[2]), workers: Number(m[3]) });
      }
    };
    proc.onStderr = check;
    proc.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`the supervisor exited (${code ?? signal}) before listening:\n${proc.stderr}`),
      );
    });
    check();
  });
}

/** Resolves with the exit { code, signal }, or rejects after ms (killing the process). */
async function exitWithin(proc, ms) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(resolve, ms, null);
  });
  const how = await Promise.race([proc.exited, late]);
  clearTimeout(timer);
  if (how === null) {
    proc.child.kill('SIGKILL');
    throw new Error(`the supervisor did not exit within ${ms} ms:\n${proc.stderr}`);
  }
  return how;
}

/** GET on a fresh connection (no keep-alive): the body as text. */
function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code !== 'ESRCH';
  }
}

/** Poll until none of pids is alive, for up to ms; returns the ones still alive. */
async function gone(pids, ms) {
  const deadline = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(alive);
  }
  return left;
}

test('two workers answer on one port; SIGTERM stops them all and exits 0', async () => {
  const { dir, file } = writeScript(`
const app = new Spikard({ workers: 2, port: 0, shutdownTimeout: 2 });
app.get('/pid', () => ({ pid: process.pid, worker: native.workerIndex() }));
app.listen();
`);
  const proc = run(file);
  try {
    const { port, workers } = await listening(proc);
    assert.equal(workers, 2);
    assert.ok(port > 0);
    const pids = new Map(); // pid -> worker index
    for (let i = 0; i < 200 && pids.size < 2; i++) {
      const res = await get(port, '/pid');
      assert.equal(res.status, 200, res.body);
      const { pid, worker } = JSON.parse(res.body);
      pids.set(pid, worker);
    }
    assert.equal(pids.size, 2, 'two different worker pids answered');
    assert.deepEqual([...pids.values()].sort(), [0, 1]);
    assert.ok(!pids.has(proc.child.pid), 'the supervisor itself never serves');

    proc.child.kill('SIGTERM');
    const { code, signal } = await exitWithin(proc, EXIT_MS);
    assert.equal(signal, null, proc.stderr);
    assert.equal(code, 0, proc.stderr);
    assert.deepEqual(await gone([...pids.keys()], 10000), [], 'no worker process is left');
  } finally {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker that fails before it listens: the supervisor exits non-zero and says why', async () => {
  const { dir, file } = writeScript(`
const app = new Spikard({ workers: 2, port: 0, quiet: true });
if (native.workerIndex() !== null) throw new Error('broken worker ' + native.workerIndex());
app.get('/', () => 'never');
app.listen();
`);
  const proc = run(file);
  try {
    const { code, signal } = await exitWithin(proc, EXIT_MS);
    assert.equal(signal, null, proc.stderr);
    assert.notEqual(code, 0, proc.stderr);
    assert.match(proc.stderr, /broken worker \d/);
    assert.match(proc.stderr, /spikard: worker \d+ exited with status \d+ before it listened/);
  } finally {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('native Supervisor: wait rejects E_WORKER with the status; close refuses during a wait', async () => {
  const C = native.constants;
  assert.throws(
    () => new native.Supervisor([process.execPath], JSON.stringify({ wrokers: 1 })),
    (err) =>
      err instanceof native.SpikardError && err.code === C.E_INVALID && /wrokers/.test(err.message),
  );
  assert.throws(() => new native.Supervisor('node', '{}'), TypeError);

  const sup = new native.Supervisor(
    [process.execPath, '-e', 'process.exit(3)'],
    JSON.stringify({ workers: 1, port: 0 }),
    null,
  );
  assert.ok(sup.port > 0);
  let err = null;
  const deadline = Date.now() + START_MS;
  while (err === null && Date.now() < deadline) {
    const pending = sup.wait(100);
    assert.throws(
      () => sup.close(),
      (e) => e.code === C.E_STATE,
    );
    assert.throws(
      () => sup.wait(0),
      (e) => e.code === C.E_STATE,
    );
    try {
      assert.equal(
        await pending,
        null,
        'a worker that never listens cannot end supervision cleanly',
      );
    } catch (e) {
      err = e;
    }
  }
  assert.ok(err instanceof native.SpikardError, String(err));
  assert.equal(err.code, C.E_WORKER);
  assert.equal(err.status, 3);
  assert.match(err.message, /worker 0 exited with status 3 before it listened/);
  await assert.rejects(sup.wait(0), (e) => e.code === C.E_WORKER && e.status === 3); // later calls report the same
  assert.doesNotThrow(() => sup.signal(os.constants.signals.SIGTERM)); // harmless after the end
  assert.throws(
    () => sup.signal(os.constants.signals.SIGHUP),
    (e) => e.code === C.E_UNSUPPORTED,
  );
  sup.close();
  sup.close();
  assert.throws(
    () => sup.port,
    (e) => e.code === C.E_STATE,
  );
});

test('config: workers is an integer in 1..1024', () => {
  const { Spikard } = require('..');
  assert.equal(new Spikard({ workers: 4 }).config.workers, 4);
  assert.throws(() => new Spikard({ workers: 0 }), RangeError);
  assert.throws(() => new Spikard({ workers: 1.5 }), RangeError);
  assert.throws(() => new Spikard({ workers: 2000 }), RangeError);
  assert.throws(() => new Spikard({ workers: '2' }), TypeError);
  assert.throws(() => new Spikard({ workers: null }), TypeError);
});

test('each worker logs its own listening, access and stopped lines', async () => {
  const { dir, file } = writeScript(`
const app = new Spikard({ workers: 2, port: 0, shutdownTimeout: 2, accessLog: true });
app.get('/pid', () => ({ pid: process.pid }));
app.listen();
`);
  const proc = run(file);
  try {
    const { port } = await listening(proc);
    const served = new Map(); // pid -> requests it answered
    const n = 12;
    for (let i = 0; i < n; i++) {
      const { pid } = JSON.parse((await get(port, '/pid')).body);
      served.set(pid, (served.get(pid) || 0) + 1);
    }
    proc.child.kill('SIGTERM');
    const { code } = await exitWithin(proc, EXIT_MS);
    assert.equal(code, 0, proc.stderr);
    const lines = proc.stderr.split('\n');
    for (const worker of [0, 1]) {
      const mine = new RegExp(
        `^Spikard listening on http://127\\.0\\.0\\.1:${port} \\(worker ${worker}, pid (\\d+)\\)$`,
      );
      const seen = lines.map((line) => mine.exec(line)).find((m) => m !== null);
      assert.ok(seen, proc.stderr);
      const pid = Number(seen[1]);
      assert.ok(
        lines.includes(`Spikard stopped (http://127.0.0.1:${port}) (worker ${worker}, pid ${pid})`),
        proc.stderr,
      );
    }
    const access = lines.filter((line) =>
      / "GET \/pid HTTP\/1\.1" 200 \d+\.\d{3}ms [0-9a-f-]{36}$/.test(line),
    );
    assert.equal(access.length, n, proc.stderr);
  } finally {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
