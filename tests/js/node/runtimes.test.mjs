// The package in the JavaScript runtimes teams deploy to (issue 34): the `npm pack` tarball
// installed into a fresh project per runtime, imported by name through the package's own
// `exports` conditions, and run there — validation, the steps' metadata (with the module's
// time zones), constraints, a Standard Schema check, a Standard JSON Schema and the JSON Schema
// module. Every runtime
// must print exactly what Node.js prints. The runtimes come from the npm registry
// (tests/js/runtimes: Deno, Bun, wrangler + miniflare for workerd, edge-runtime).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, packPkg, projectWith } from './helpers.mjs';

const runtimes = path.join(root, 'tests/js/runtimes');
const modules = path.join(runtimes, 'node_modules');
if (!existsSync(path.join(modules, '.bin/wrangler'))) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: runtimes, stdio: 'inherit' });
}
const bin = (name) => path.join(modules, '.bin', name);
// wrangler and miniflare need Node.js 22 (the npm package `node`).
const node22 = bin('node');

const work = mkdtempSync(path.join(tmpdir(), 'onboarding-runtimes-'));
const tarball = packPkg(work);
const project = (name, files) => projectWith(work, tarball, name, files);

// What each runtime runs: `run()` gives what the package answered there.
const APP = `
import init, { validateWizard, validateStep, loadSteps, constraints, rulesVersion, stepSchema } from 'onboarding-rules';
import schema from 'onboarding-rules/schema.js';

export async function run() {
  await init();
  const ctx = { today: '2026-11-27', locale: 'en' };
  const wizard = validateWizard({}, ctx);
  const company = validateStep('company', { company_name: 'x', website: 'nope' }, ctx);
  const steps = await loadSteps('es');
  const zones = steps.flatMap((s) => s.fields).find((f) => f.kind === 'timezone').options;
  const checked = await stepSchema('company', ctx)['~standard'].validate({ company_name: 'x' });
  return {
    valid: wizard.valid,
    first: wizard.issues[0].message,
    company: company.issues.map((i) => [i.path, i.code]),
    title: steps[1].title,
    zones: [zones.length, zones[0].value],
    constraints: constraints('company', ctx).company_name,
    standard: checked.issues.map((i) => i.path.join('.')),
    schema: [schema.$schema, Object.keys(schema.properties ?? {}).length > 0],
    openapi: Object.keys(stepSchema('company')['~standard'].jsonSchema.output({ target: 'openapi-3.0' }).properties),
    version: rulesVersion(),
  };
}
`;
const PRINT = `${APP}\nconsole.log(JSON.stringify(await run()));\n`;

const answer = (out) => JSON.parse(out.trim().split('\n').pop());
const run = (cmd, args, cwd, env = {}) =>
  answer(execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));

const expected = run(process.execPath, ['main.js'], project('node', { 'main.js': PRINT }));

test('Node.js answers as the rules do', () => {
  assert.equal(expected.valid, false);
  assert.equal(expected.first, 'This field is required.');
  assert.ok(expected.zones[0] > 400, `${expected.zones[0]} time zones`);
  assert.ok(expected.company.length > 0 && expected.standard.length > 0);
  assert.equal(expected.schema[1], true);
});

test('Deno, with no permission at all, answers as Node.js does', () => {
  const dir = project('deno', { 'main.js': PRINT });
  // --no-prompt: a permission it lacked would fail instead of waiting for an answer.
  const out = run(bin('deno'), ['run', '--no-prompt', 'main.js'], dir, { DENO_DIR: path.join(work, 'deno-dir'), NO_COLOR: '1' });
  assert.deepEqual(out, expected);
});

test('Bun answers as Node.js does', () => {
  const dir = project('bun', { 'main.js': PRINT });
  assert.deepEqual(run(bin('bun'), ['main.js'], dir), expected);
});

test("Cloudflare's workerd (wrangler's bundle, run by miniflare) answers as Node.js does", () => {
  const dir = project('workerd', {
    'worker.js': `${APP}\nexport default { async fetch() { return Response.json(await run()); } };\n`,
    'wrangler.toml': 'name = "onboarding-rules-test"\nmain = "worker.js"\ncompatibility_date = "2026-04-01"\n',
    'serve.mjs': `
      import { Miniflare } from ${JSON.stringify(pathToFileURL(path.join(modules, 'miniflare/dist/src/index.js')).href)};
      const mf = new Miniflare({
        modules: true,
        scriptPath: 'dist/worker.js',
        modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
        compatibilityDate: '2026-04-01',
      });
      const res = await mf.dispatchFetch('http://localhost/');
      if (!res.ok) throw new Error(\`the Worker answered \${res.status}: \${await res.text()}\`);
      console.log(await res.text());
      await mf.dispose();
    `,
  });
  const env = { WRANGLER_SEND_METRICS: 'false', CI: '1', XDG_CONFIG_HOME: path.join(work, 'wrangler-config') };
  execFileSync(node22, [path.join(modules, 'wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', 'dist'], {
    cwd: dir,
    stdio: 'pipe',
    env: { ...process.env, ...env },
  });
  assert.deepEqual(run(node22, ['serve.mjs'], dir, env), expected);
});

test("Vercel's edge-runtime (the edge-light entry, bundled as Next.js does) answers as Node.js does", async () => {
  const dir = project('edge', { 'app.js': APP });
  const esbuild = await import(pathToFileURL(path.join(modules, 'esbuild/lib/main.js')).href);
  const { outputFiles } = await esbuild.build({
    entryPoints: [path.join(dir, 'app.js')],
    absWorkingDir: dir,
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'app',
    platform: 'neutral',
    conditions: ['edge-light', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  const { EdgeRuntime } = await import(pathToFileURL(path.join(modules, 'edge-runtime/dist/index.js')).href);
  const runtime = new EdgeRuntime({ initialCode: outputFiles[0].text });
  const out = await runtime.evaluate('app.run().then((r) => JSON.stringify(r))');
  assert.deepEqual(JSON.parse(out), expected);
});
