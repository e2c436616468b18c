'use strict';
// The addon (src/NATIVE.md), loaded once and checked against the ABI this
// package was written for: major 2, at least 2.1, whose WebSockets and
// broadcast channels lib/ calls (docs/bindings.md, section 1).

const native = require('../build/Release/spikard.node');

/** The ABI version this JS layer is written against (spikard.h SPIKARD_ABI_VERSION). */
const ABI_VERSION = 20001;
const major = (v) => Math.floor(v / 10000);

if (major(native.abiVersion) !== major(ABI_VERSION) || native.abiVersion < ABI_VERSION) {
  throw new Error(
    `@spikard/node: libspikard ABI ${native.abiVersion} cannot serve this package ` +
      `(built for ${ABI_VERSION}: same major, at least that minor)`,
  );
}

module.exports = native;
module.exports.ABI_VERSION = ABI_VERSION;
