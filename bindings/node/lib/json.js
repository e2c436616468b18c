'use strict';
// The JSON encoder of response bodies, held to the output rules of
// docs/bindings.md section 11. JSON.stringify already writes no whitespace,
// escapes strings as the rules say, writes numbers as the shortest
// round-trip decimal with the rules' notation and keeps insertion order
// (except integer-like keys, which JavaScript puts first). What it does
// differently is refused here: NaN and Infinity (written as null) and lone
// surrogates (written as \udxxx escapes) make the answer a handler error, as
// do BigInts (a TypeError of JSON.stringify). The refusals are checked only
// when the output could contain one, so the common case pays one scan.

const SUSPECT_NULL = 'null';
// A lone surrogate is written as \udxxx; String#includes is a native search,
// several times cheaper than the regular expression, which runs only on a hit
// (the regex alone was 1.6% of the server's CPU on json-medium).
const SURROGATE_ESCAPE = '\\ud';
const SUSPECT_SURROGATE = /\\ud[89a-f]/;

function refuse(key, value) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`cannot encode ${value} as JSON`);
  }
  if (typeof value === 'string' && !value.isWellFormed()) {
    throw new TypeError('cannot encode a string with a lone surrogate as JSON');
  }
  if (typeof key === 'string' && !key.isWellFormed()) {
    throw new TypeError('cannot encode a key with a lone surrogate as JSON');
  }
  return value;
}

/** `value` as JSON text by the output rules; throws a TypeError on what they refuse. */
function encodeJson(value) {
  const text = JSON.stringify(value);
  if (text === undefined) {
    if (value === undefined) return 'null';
    throw new TypeError(`cannot encode a ${typeof value} as JSON`);
  }
  if (
    text.includes(SUSPECT_NULL) ||
    (text.includes(SURROGATE_ESCAPE) && SUSPECT_SURROGATE.test(text))
  ) {
    JSON.stringify(value, refuse);
  }
  return text;
}

module.exports = { encodeJson };
