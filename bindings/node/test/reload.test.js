'use strict';
// `listen({ reload })` over real HTTP, as a developer uses it: node on an app
// file in a temp directory; an edit restarts the worker, a syntax error
// leaves the supervisor waiting (saying where the error is), the next good
// edit serves again, and SIGTERM ends it with status 0.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { reloadOptions, DEFAULT_PATTERNS } = require('../lib/reload');

const PKG = path.join(__dirname, '..');
const LINE_MS = 30000;

function appSource(version, extra = '') {
  return (
    `'use strict';\nconst { Spikard } = require(${JSON.stringify(PKG)});\n` +
    `const app = new Spikard({ port: 0 });\n` +
    `app.get('/v', () => ({ v: ${version} }));\n` +
    `app.listen({ reload: { paths: [__dirname] } });\n${extra}`
  );
}

/** node on file; `waitFor(re)` resolves with the first match in stderr after the last one consumed. */
function run(file) {
  const child = spawn(process.execPath, [file], {
    cwd: path.dirname(file),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const proc = { child, stderr: '', consumed: 0, waiters: [] };
  child.stderr.setEncoding('utf8');
  const wake = () => {
    for (const w of proc.waiters.splice(0)) w();
  };
  child.stderr.on('data', (chunk) => {
    proc.stderr += chunk;
    wake();
  });
  proc.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  proc.exited.then(wake);
  let ended = false;
  proc.exited.then(() => {
    ended = true;
  });
  proc.waitFor = (re) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${re} in ${LINE_MS} ms:\n${proc.stderr}`)),
        LINE_MS,
      );
      const check = () => {
        const rest = proc.stderr.slice(proc.consumed);
        const m = re.exec(rest);
        if (m) {
          proc.consumed += m.index + m[0].length;
          clearTimeout(timer);
          resolve(m);
        } else if (ended) {
          clearTimeout(timer);
          reject(new Error(`exited before a line matching ${re}:\n${proc.stderr}`));
        } else {
          proc.waiters.push(check);
        }
      };
      check();
    });
  return proc;
}

function getV(port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/v' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

test('an edit restarts the worker; a syntax error leaves the supervisor waiting', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikard-reload-'));
  const file = path.join(dir, 'app.js');
  fs.writeFileSync(file, appSource(1));
  const proc = run(file);
  try {
    const m = await proc.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+) \(1 worker\)/);
    const port = Number(m[1]);
    assert.deepEqual(await getV(port), { v: 1 });

    fs.writeFileSync(file, appSource(2));
    await proc.waitFor(/app\.js changed; restarting the workers/);
    await proc.waitFor(/worker 0 listening again/);
    assert.deepEqual(await getV(port), { v: 2 });

    const broken = appSource(3, 'const = 3;\n');
    fs.writeFileSync(file, broken);
    await proc.waitFor(/changed; restarting the workers/);
    // Node names the file and line of a syntax error itself.
    const line = broken.split('\n').indexOf('const = 3;') + 1;
    await proc.waitFor(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}`));
    await proc.waitFor(/SyntaxError/);
    await proc.waitFor(/worker 0 exited with status 1 before it listened; waiting for a change/);
    assert.equal(proc.child.exitCode, null, 'the supervisor ended on a broken worker');

    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not watched');
    fs.writeFileSync(file, appSource(4));
    const changed = await proc.waitFor(/(\S+) changed; restarting the workers/);
    assert.doesNotMatch(changed[0], /notes\.txt/);
    await proc.waitFor(/worker 0 listening again/);
    assert.deepEqual(await getV(port), { v: 4 });

    proc.child.kill('SIGTERM');
    assert.deepEqual(await proc.exited, { code: 0, signal: null });
  } finally {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('reload options are checked and resolved', () => {
  assert.deepEqual(reloadOptions(true), {
    paths: [process.cwd()],
    patterns: [...DEFAULT_PATTERNS],
  });
  assert.deepEqual(reloadOptions({ paths: ['src'], patterns: ['*.js'] }), {
    paths: [path.resolve('src')],
    patterns: ['*.js'],
  });
  assert.throws(() => reloadOptions({ path: ['src'] }), /unknown key "path"/);
  assert.throws(() => reloadOptions({ paths: [] }), /"reload\.paths" must be a non-empty array/);
  assert.throws(() => reloadOptions('yes'), /must be true or an object/);
});
