// Builds of the package side by side, in one Node.js process (issue 34's size/speed curve):
// `node tests/js/bench-builds.mjs DIR...` with each DIR a `make pkg` output (tools/build-pkg.sh
// with PKG_OPT_LEVEL / PKG_WASM_OPT for the other points). For each build: what a page pays
// (gzip -9 of the module, the browser entry and the Spanish metadata) and the median time of
// each call, in rounds that alternate the builds (and zod 4's peer of the same wizard,
// ../shared/bench/zod, when it is installed), so that the machine's drift falls on all alike.
import { readFileSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs = process.argv.slice(2).map((d) => path.resolve(d));
if (dirs.length === 0) {
  console.error('usage: node tests/js/bench-builds.mjs PKG_DIR...');
  process.exit(2);
}
const wizard = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/valid_wizard.json'), 'utf8'));
const invalid = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/invalid_wizard.json'), 'utf8'));
const ctx = { today: '2026-11-27' };

const builds = [];
for (const dir of dirs) {
  const rules = await import(pathToFileURL(path.join(dir, 'node.js')).href);
  const gz = (f) => gzipSync(readFileSync(path.join(dir, f)), { level: 9 }).length;
  const company = rules.stepSchema('company', ctx)['~standard'];
  builds.push({
    name: path.basename(dir),
    size: gz('onboarding_wasm_bg.wasm') + gz('index.js') + gz('steps.es.js'),
    calls: {
      'one step valid': () => rules.validateStep('company', wizard.company, ctx),
      'wizard valid': () => rules.validateWizard(wizard, ctx),
      'wizard invalid': () => rules.validateWizard(invalid, ctx),
      'Standard Schema validate, one step': () => company.validate(wizard.company),
    },
  });
}
// The peer imports 'zod': a copy of it under tests/js/node_modules resolves ours (zod 4).
const zodPeer = path.join(root, '../shared/bench/zod/wizard.mjs');
if (existsSync(zodPeer)) {
  const copy = path.join(root, 'tests/js/node_modules/.zod-peer/wizard.mjs');
  mkdirSync(path.dirname(copy), { recursive: true });
  copyFileSync(zodPeer, copy);
  const { wizard: zWizard, steps } = await import(pathToFileURL(copy).href);
  const valid = { ...wizard, company: { ...wizard.company, country: 'MX', website: 'https://cafenino.mx' } };
  const checked = zWizard.safeParse(valid);
  if (!checked.success) console.error(`zod's peer refuses the valid wizard: ${JSON.stringify(checked.error.issues)}`);
  if (zWizard.safeParse(invalid).success) console.error("zod's peer accepts the invalid wizard");
  builds.push({
    name: 'zod 4 (shared/bench/zod)',
    size: null,
    calls: {
      'one step valid': () => steps.company.safeParse(valid.company),
      'wizard valid': () => zWizard.safeParse(valid),
      'wizard invalid': () => zWizard.safeParse(invalid),
      'Standard Schema validate, one step': () => steps.company['~standard'].validate(valid.company),
    },
  });
}

/** The median time of one call of `fn` over a batch, in µs. */
function batch(fn, n = 2000) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t) / 1000 / n;
}
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const results = builds.map(() => ({}));
for (const b of builds) for (const fn of Object.values(b.calls)) batch(fn, 3000); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? builds.map((_, i) => i) : builds.map((_, i) => builds.length - 1 - i);
  for (const i of order) {
    for (const [call, fn] of Object.entries(builds[i].calls)) (results[i][call] ??= []).push(batch(fn));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const calls = Object.keys(builds[0].calls);
console.log(`| build | a page pays, gzip -9 | ${calls.join(' | ')} |`);
console.log(`|---|---|${calls.map(() => '---').join('|')}|`);
builds.forEach((b, i) => {
  const size = b.size === null ? '—' : `${b.size.toLocaleString('en')} B`;
  console.log(`| ${b.name} | ${size} | ${calls.map((c) => `${median(results[i][c]).toFixed(2)} µs`).join(' | ')} |`);
});
console.log(`\n(medians of ${ROUNDS} alternated rounds of 2,000 calls each; node ${process.version})`);
