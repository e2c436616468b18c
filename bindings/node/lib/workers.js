'use strict';
// Worker processes: `new Spikard({ workers: N })` serves one app from N
// processes (docs/bindings.md, sections 9 and 10).
//
// The Go runtime inside libspikard does not survive fork(), so workers are
// started the way they would be by hand: libspikard's supervisor runs this
// program again (same node, options and arguments) once per worker, and each
// worker's listen() just serves: its core binds the supervisor's address
// with SO_REUSEPORT and reports when it listens. Readiness, restarts and the
// "listening" line are the core's. What is left here is the command line and
// the signals, which are this process's: SIGINT and SIGTERM are passed on to
// the supervisor, and the JS thread waits for the end in 100 ms slices on a
// libuv worker thread, so it stays free to run the handlers.

const os = require('node:os');
const native = require('./native');

const WAIT_MS = 100;
const STOPS = ['SIGINT', 'SIGTERM'];

/** This worker's index, or null in a process no supervisor started. */
function workerIndex() {
  return native.workerIndex();
}

/** The command line that runs this program again. */
function rerunArgv() {
  return [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
}

/**
 * Supervise `options.workers` workers (spikard_supervise options: workers,
 * host, port, shutdown_timeout, quiet) until SIGINT or SIGTERM, then exit
 * this process with the status the supervisor reports. If it gave up on a
 * worker, its message goes to stderr and the process exits with that
 * worker's status. Never resolves; rejects if the workers cannot be spawned.
 */
async function supervise(options) {
  let sup = null;
  const early = []; // signals that came before the supervisor existed
  const handlers = STOPS.map((name) => {
    const signo = os.constants.signals[name];
    const handler = () => {
      if (sup === null) early.push(signo);
      else sup.signal(signo);
    };
    process.on(name, handler);
    native.signalOnstack(signo); // libuv installs its handler without SA_ONSTACK
    return [name, handler];
  });
  let status = null;
  let failure = null;
  try {
    sup = new native.Supervisor(rerunArgv(), JSON.stringify(options), null);
    for (const signo of early) sup.signal(signo);
    while (status === null) status = await sup.wait(WAIT_MS);
  } catch (err) {
    if (!(err instanceof native.SpikardError && err.code === native.constants.E_WORKER)) {
      release(handlers, sup);
      throw err;
    }
    failure = err;
  }
  release(handlers, sup);
  if (failure !== null) {
    process.stderr.write(`${failure.message}\n`);
    process.exit(typeof failure.status === 'number' && failure.status !== 0 ? failure.status : 1);
  }
  process.exit(status);
}

/** Restore the signals, then free the supervisor (killing workers still running after an error). */
function release(handlers, sup) {
  for (const [name, handler] of handlers) process.removeListener(name, handler);
  if (sup !== null) sup.close();
}

module.exports = { STOPS, supervise, workerIndex };
