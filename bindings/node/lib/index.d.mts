// Types of @spikard/node as an ES module (index.mjs): the CommonJS types
// (index.d.ts) re-exported, plus the default export, which is the whole module.

export * from './index.js';
import * as spikard from './index.js';
export default spikard;
