// The package as a frontend developer gets it: `npm pack`, installed into fresh projects —
// Node.js `import`, TypeScript, a Vite build in Chromium, and a plain <script type="module"> page
// (the other runtimes: runtimes.test.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, pkgDir, packPkg, projectWith } from './helpers.mjs';
import { launch, serve, resultOf } from './browser.mjs';

const jsDir = path.join(root, 'tests/js');
const artifacts = path.join(root, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const work = mkdtempSync(path.join(tmpdir(), 'onboarding-pkg-'));
const tarball = packPkg(work);
const project = (name) => projectWith(work, tarball, name);

test('the tarball is a proper package', () => {
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(files, ['README.md', 'index.d.ts', 'index.js', 'inline.js', 'node.js', 'onboarding_wasm_bg.wasm', 'onboarding_wasm_bg.wasm.d.ts', 'package.json', 'schema.d.ts', 'schema.js', 'schema.json', 'steps.en.d.ts', 'steps.en.js', 'steps.en.json', 'steps.es.d.ts', 'steps.es.js', 'steps.es.json', 'workerd.js'].map((f) => `package/${f}`));
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const cargo = readFileSync(path.join(root, 'Cargo.toml'), 'utf8').match(/^version = "(.+)"$/m)[1];
  assert.equal(pkg.version, cargo);
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.exports['.'].types, './index.d.ts');
});

test('Node.js imports it by name', () => {
  const dir = project('node-app');
  writeFileSync(path.join(dir, 'main.js'), `
    import init, { validateWizard, rulesVersion } from 'onboarding-rules';
    await init();
    const r = validateWizard({}, { today: '2026-11-27', locale: 'en' });
    console.log(JSON.stringify({ valid: r.valid, first: r.issues[0].message, version: rulesVersion() }));
  `);
  const out = JSON.parse(execFileSync(process.execPath, ['main.js'], { cwd: dir, encoding: 'utf8' }));
  assert.deepEqual(out.valid, false);
  assert.equal(out.first, 'This field is required.');
});

test('TypeScript: typed results, and wrong uses are compile errors', () => {
  const dir = project('ts-app');
  cpSync(path.join(jsDir, 'fixtures/vite-app'), dir, { recursive: true });
  // The schemas must satisfy Standard Schema's own published types, not only our copy.
  cpSync(path.join(jsDir, 'node_modules/@standard-schema'), path.join(dir, 'node_modules/@standard-schema'), { recursive: true });
  try {
    execFileSync(path.join(jsDir, 'node_modules/.bin/tsc'), ['-p', dir], { stdio: 'pipe' });
  } catch (e) {
    assert.fail(`tsc --strict: ${e.stdout}`);
  }
});

test('a Vite build and a plain <script type="module"> page run it in Chromium', async () => {
  const dir = project('vite-app');
  cpSync(path.join(jsDir, 'fixtures/vite-app'), dir, { recursive: true });
  execFileSync(path.join(jsDir, 'node_modules/.bin/vite'), ['build', '--logLevel', 'error'], { cwd: dir, stdio: 'pipe' });
  const browser = await launch();
  try {
    const viteSite = await serve(path.join(dir, 'dist'));
    const vite = await resultOf(browser, viteSite.url, path.join(artifacts, 'pkg-vite.png'));
    await viteSite.close();
    assert.deepEqual(vite.valid, false);
    assert.equal(vite.first, 'Debe tener al menos 2 caracteres.');
    assert.equal(vite.code, 'too_short');
    assert.equal(vite.title, 'Welcome');
    assert.equal(vite.slug, 'cafe-nino-co');

    const plain = await serve(path.join(jsDir, 'fixtures/plain-page'), { '/pkg/': pkgDir });
    const page = await resultOf(browser, `${plain.url}/`, path.join(artifacts, 'pkg-plain.png'));
    await plain.close();
    assert.equal(page.valid, false);
    assert.equal(page.first.path, 'welcome.full_name');
    assert.equal(page.first.message, 'This field is required.');
  } finally {
    await browser.close();
  }
});
