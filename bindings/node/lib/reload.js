'use strict';
// `app.listen({ reload })`: the development server. Watching files and
// restarting workers is the core supervisor's reload mode (the same one
// `spikard run --reload` uses for Python); what is here is only the
// listen() option turned into its "reload" document.

const path = require('node:path');

/** What a reload watches when the option names no patterns. */
const DEFAULT_PATTERNS = Object.freeze([
  '*.js',
  '*.cjs',
  '*.mjs',
  '*.ts',
  '*.cts',
  '*.mts',
  '*.json',
]);

/**
 * The spikard_supervise "reload" document for a `reload` listen option:
 * `true` watches the current directory for DEFAULT_PATTERNS; an object may
 * give `paths` (files or directories, relative to the current directory)
 * and `patterns` (base-name globs). Throws a TypeError naming what is wrong.
 */
function reloadOptions(option) {
  if (option === true) return { paths: [process.cwd()], patterns: [...DEFAULT_PATTERNS] };
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw new TypeError('listen: "reload" must be true or an object { paths?, patterns? }');
  }
  for (const key of Object.keys(option)) {
    if (key !== 'paths' && key !== 'patterns') {
      throw new TypeError(`listen: "reload" has an unknown key "${key}" (known: paths, patterns)`);
    }
  }
  const list = (key, fallback) => {
    const value = option[key];
    if (value === undefined) return fallback;
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      value.some((s) => typeof s !== 'string' || s === '')
    ) {
      throw new TypeError(`listen: "reload.${key}" must be a non-empty array of non-empty strings`);
    }
    return value;
  };
  return {
    paths: list('paths', [process.cwd()]).map((p) => path.resolve(p)),
    patterns: [...list('patterns', DEFAULT_PATTERNS)],
  };
}

module.exports = { DEFAULT_PATTERNS, reloadOptions };
