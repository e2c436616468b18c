'use strict';
// StreamingResponse and SseEvent: answers whose body a producer yields piece
// by piece. The core does the transport (chunked framing, a bounded queue
// per stream, SSE framing and keep-alive comments); lib/streams.js feeds it.

const { headerPairs } = require('./response');

const NO_BODY = new Set([204, 205, 304]);

function isIterable(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    (typeof value[Symbol.asyncIterator] === 'function' ||
      typeof value[Symbol.iterator] === 'function')
  );
}

/**
 * An answer whose body is sent as `content` yields it: an async iterable (an
 * async generator, a Node Readable) or an iterable of strings (UTF-8),
 * Buffers or Uint8Arrays. Each piece reaches the client as soon as it is
 * produced (chunked, unless `headers` set a content-length). A client that
 * stops reading suspends the producer once the core's queue for the stream
 * is full; a client that leaves ends it (the generator's `return()` runs, so
 * its `finally` does).
 */
class StreamingResponse {
  /**
   * @param content the producer
   * @param init `{ status = 200, headers, contentType }`
   */
  constructor(content, init = {}) {
    if (typeof content === 'string' || content instanceof Uint8Array || !isIterable(content)) {
      throw new TypeError(
        'StreamingResponse: content must be an iterable or async iterable of strings or bytes (a generator or a Readable)',
      );
    }
    const { status = 200, headers, contentType } = init || {};
    if (!Number.isInteger(status) || status < 200 || status > 599 || NO_BODY.has(status)) {
      throw new RangeError(
        `StreamingResponse: status ${String(status)} must be an integer in 200..599 whose answer has a body (not 204, 205 or 304)`,
      );
    }
    this.content = content;
    this.status = status;
    this.headers = headerPairs(headers);
    if (
      contentType !== undefined &&
      !this.headers.some(([name]) => name.toLowerCase() === 'content-type')
    ) {
      this.headers.push(['content-type', String(contentType)]);
    }
  }
}

function lineField(name, value, forbidden) {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new TypeError(`SseEvent: ${name} must be a string`);
  if (forbidden.test(value)) {
    throw new RangeError(
      `SseEvent: ${name} ${JSON.stringify(value)} may not contain a line break${name === 'id' ? ' or NUL' : ''}`,
    );
  }
  return value;
}

/**
 * One server-sent event. `data` is sent as is when it is a string (each line
 * one `data:` line) and as JSON otherwise; `event` names its type, `id` sets
 * the client's Last-Event-ID, `retry` (milliseconds) its reconnection delay.
 */
class SseEvent {
  /** @param init `{ data, event, id, retry }` */
  constructor(init = {}) {
    const { data = null, event, id, retry } = init || {};
    this.data = data;
    this.event = lineField('event', event, /[\r\n]/);
    this.id = lineField('id', id, /[\r\n\0]/);
    if (
      retry !== undefined &&
      retry !== null &&
      (!Number.isInteger(retry) || retry <= 0 || retry >= 2 ** 32)
    ) {
      throw new RangeError(
        `SseEvent: retry ${String(retry)} must be a positive integer of milliseconds`,
      );
    }
    this.retry = retry || 0;
  }
}

/** What an `app.sse` handler's generator becomes: a stream of events. */
class EventStream extends StreamingResponse {}

module.exports = { EventStream, SseEvent, StreamingResponse };
