// `make pkg`: each entry of the package (`index.js` for browsers and bundlers, `node.js` for
// Node.js and Bun, `workerd.js`, `inline.js` for Deno and edge runtimes) bundled into one
// self-contained, minified file by the pinned rolldown (oxc's minifier):
// `node tests/js/bundle.mjs pkg/index.js pkg/node.js …`. An entry imports the public API
// (`wasm/npm/api.js`) and wasm-bindgen's glue (`onboarding_wasm.js`); a page then loads one
// script instead of three, which also gzips smaller (decisions 66 and 96). The readable sources
// are wasm/npm/*.js and wasm-bindgen's output. Any error or warning fails the build.
import { build } from 'rolldown';
import { writeFileSync } from 'node:fs';

for (const file of process.argv.slice(2)) {
  const warnings = [];
  const { output } = await build({
    input: file,
    platform: file.endsWith('node.js') ? 'node' : 'browser',
    // Files of the package that stay files: the steps' modules (imported on demand) and the
    // .wasm that the workerd entry imports as a module.
    external: [/^\.\/steps\.(es|en)\.js$/, './onboarding_wasm_bg.wasm'],
    write: false,
    onLog: (level, log) => warnings.push(`${level}: ${log.message}`),
    output: { format: 'esm', minify: true },
  });
  if (warnings.length > 0 || output.length !== 1) {
    console.error(`${file}: the bundler complained:\n${warnings.join('\n')}`);
    process.exit(1);
  }
  writeFileSync(file, output[0].code);
}
