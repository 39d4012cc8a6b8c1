export * from './onboarding_wasm.js';
/**
 * Loads the WebAssembly module; call and await it once before the other functions (in Node.js
 * the module is ready at import and this resolves at once).
 */
export default function init(
  moduleOrPath?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module,
): Promise<void>;
