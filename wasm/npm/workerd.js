// Cloudflare Workers (workerd) entry: the module imported as a module — wrangler's bundler and
// workerd compile it before the Worker runs (a Worker may not compile WebAssembly from bytes) —
// and instantiated at import, so the rules can be called at once.
import wasm from './onboarding_wasm_bg.wasm';
import { initSync, call } from './onboarding_wasm.js';
import { api } from './api.js';
import inputSchema from './schema.js';
import outputSchema from './schema.output.js';

initSync({ module: wasm });

/** Already initialized; kept so that code shared with browsers can `await init()`. */
export default function init() {
  return Promise.resolve();
}

const checkReady = () => {};

/*EXPORTS*/
