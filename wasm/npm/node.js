// Node.js (and Bun) entry: the module is compiled synchronously at import, so the rules can be
// called at once.
import { readFileSync } from 'node:fs';
import { initSync, call } from './onboarding_wasm.js';
import { api } from './api.js';
import inputSchema from './schema.js';
import outputSchema from './schema.output.js';

initSync({ module: readFileSync(new URL('./onboarding_wasm_bg.wasm', import.meta.url)) });

/** Already initialized in Node.js; kept so that code shared with browsers can `await init()`. */
export default function init() {
  return Promise.resolve();
}

const checkReady = () => {};

/*EXPORTS*/
