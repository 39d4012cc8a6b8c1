// `make pkg`: minifies the package's JavaScript in place (oxc's minifier, through the pinned
// rolldown): `node tests/js/minify.mjs pkg/index.js …`. The readable sources are wasm/npm/*.js and
// wasm-bindgen's output; a frontend's bundler would minify them anyway, so the package ships
// what it would ship (decision 66). Any error from the minifier fails the build.
import { minifySync } from 'rolldown/utils';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

for (const file of process.argv.slice(2)) {
  const source = readFileSync(file, 'utf8');
  const { code, errors } = minifySync(path.basename(file), source, { module: true, compress: true, mangle: true });
  if (errors.length > 0) {
    console.error(`${file}: the minifier failed:`, errors);
    process.exit(1);
  }
  writeFileSync(file, code);
}
