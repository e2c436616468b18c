'use strict';
// Open streams: feeding a StreamingResponse's pieces to the core.
//
// A stream is opened with SPIKARD_RESPONSE_STREAM (and SPIKARD_RESPONSE_SSE
// for an EventStream), then each piece is written with streamWrite, which
// never blocks: when the core's queue for the stream is full (E_AGAIN) the
// pump waits for the exchange's STREAM_CREDIT, so a client that stops
// reading suspends the producer. The exchange's DISCONNECT (client gone,
// stop, stall) or E_NOT_FOUND on a write ends the pump and the producer's
// return() runs (a generator's finally; a Readable is destroyed). A piece
// the stream cannot carry, or a producer that throws, aborts the stream
// (SPIKARD_CHUNK_ABORT): the client must not take a cut-off body for a
// whole one.

const native = require('./native');
const { encodeJson } = require('./json');
const { EventStream, SseEvent } = require('./streaming');

const C = native.constants;

function rawChunk(exchange, piece) {
  if (typeof piece === 'string' || piece instanceof Uint8Array) {
    return [exchange, 0, piece, '', '', 0];
  }
  throw new TypeError(
    `a StreamingResponse piece must be a string, a Buffer or a Uint8Array, got ${piece === null ? 'null' : typeof piece}`,
  );
}

function eventData(data) {
  return typeof data === 'string' ? data : encodeJson(data);
}

function sseChunk(exchange, item) {
  if (item instanceof SseEvent) {
    return [exchange, 0, eventData(item.data), item.event, item.id, item.retry];
  }
  return [exchange, 0, eventData(item), '', '', 0];
}

class Streams {
  /** @param app a function returning the native App, or null once it is closed */
  constructor(app) {
    this._app = app;
    this._open = new Map(); // exchange -> { credit, gone }
  }

  /** Open `response` on `exchange` and pump it; `owner` names the handler in logs. */
  start(exchange, owner, response) {
    const state = { credit: null, gone: false };
    this._open.set(exchange, state);
    this._pump(exchange, owner, response, state).catch((err) => {
      console.error(`spikard: the stream of ${owner} failed:`, err);
    });
  }

  /** Whether `exchange` is an open stream. */
  has(exchange) {
    return this._open.has(exchange);
  }

  /** An exchange's STREAM_CREDIT or terminal event (DISCONNECT, WRITTEN). */
  event(exchange, kind) {
    const state = this._open.get(exchange);
    if (state === undefined) return;
    if (kind !== C.EVENT_STREAM_CREDIT) {
      // The end: after WRITTEN the pump is done; after DISCONNECT the
      // client is gone and the producer must stop.
      this._open.delete(exchange);
      if (kind !== C.EVENT_DISCONNECT) return;
      state.gone = true;
    }
    const credit = state.credit;
    state.credit = null;
    if (credit !== null) credit();
  }

  async _pump(exchange, owner, response, state) {
    const content = response.content;
    const iterator =
      typeof content[Symbol.asyncIterator] === 'function'
        ? content[Symbol.asyncIterator]()
        : content[Symbol.iterator]();
    const toChunk = response instanceof EventStream ? sseChunk : rawChunk;
    let finished = false;
    try {
      if (!this._openStream(exchange, response)) return;
      for (;;) {
        const step = await iterator.next();
        if (state.gone) return;
        if (step.done) break;
        if (!(await this._write(toChunk(exchange, step.value), state))) return;
      }
      finished = true;
      await this._write([exchange, C.CHUNK_END, '', '', '', 0], state);
    } catch (err) {
      if (!state.gone) {
        console.error(`spikard: the stream of ${owner} failed; it is aborted:`, err);
        this._abort(exchange);
      }
    } finally {
      if (this._open.get(exchange) === state) this._open.delete(exchange);
      if (!finished && typeof iterator.return === 'function') {
        try {
          await iterator.return();
        } catch (err) {
          console.error(`spikard: closing the stream of ${owner} failed:`, err);
        }
      }
    }
  }

  _openStream(exchange, response) {
    const app = this._app();
    if (app === null) return false;
    const flags =
      response instanceof EventStream ? C.RESPONSE_STREAM | C.RESPONSE_SSE : C.RESPONSE_STREAM;
    const headers = response.headers.length > 0 ? response.headers : null;
    return app.respond([[exchange, response.status, headers, '', flags]]);
  }

  /** Queue one chunk, waiting for credit while the stream is full; false once it is over. */
  async _write(chunk, state) {
    for (;;) {
      const app = this._app();
      if (app === null) return false;
      const code = app.streamWrite([chunk])[0];
      if (code === C.OK) return true;
      if (code === C.E_NOT_FOUND) return false;
      if (code !== C.E_AGAIN) throw new Error(`the core refused a chunk (code ${code})`);
      await new Promise((resolve) => {
        state.credit = resolve;
      });
      if (state.gone) return false;
    }
  }

  _abort(exchange) {
    const app = this._app();
    if (app !== null) app.streamWrite([[exchange, C.CHUNK_ABORT, '', '', '', 0]]);
  }
}

module.exports = { Streams };
