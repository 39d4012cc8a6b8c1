// Browser (and bundler) entry: `await init()` once, then call the rules synchronously.
import initWasm, { call } from './onboarding_wasm.js';
import { api } from './api.js';
import inputSchema from './schema.js';
import outputSchema from './schema.output.js';

let ready = null;
let initialized = false;

/**
 * Loads the WebAssembly module (once; later calls return the same promise). By default it is
 * fetched from next to this file; pass a URL, Response, bytes or a WebAssembly.Module to override.
 */
export default function init(moduleOrPath) {
  if (!ready) {
    const arg = moduleOrPath === undefined ? undefined : { module_or_path: moduleOrPath };
    ready = initWasm(arg).then(() => {
      initialized = true;
    });
  }
  return ready;
}

function checkReady() {
  if (!initialized) {
    throw new Error('onboarding-rules: call `await init()` before using the rules');
  }
}

/*EXPORTS*/
