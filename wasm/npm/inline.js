// Deno and edge runtimes' entry (Vercel's edge-runtime): the module's bytes are part of this file
// and compiled at import — no file read (Deno asks no permission) and no fetch of a relative URL
// (which edge runtimes cannot resolve) — so the rules can be called at once.
import { initSync, call } from './onboarding_wasm.js';
import { api } from './api.js';
import inputSchema from './schema.js';
import outputSchema from './schema.output.js';
import { WASM_BASE64 } from './wasm_base64.js';

initSync({ module: Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)) });

/** Already initialized; kept so that code shared with browsers can `await init()`. */
export default function init() {
  return Promise.resolve();
}

const checkReady = () => {};

/*EXPORTS*/
