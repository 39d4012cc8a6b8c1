// The React example (examples/react: Vite + React, with React Hook Form or TanStack Form taking
// the package's Standard Schema), with the package installed from `npm pack` of pkg/, built,
// served on its own origin, and driven in Chromium against the real server (development mode,
// SQLite) on another origin that allows it through CORS_ALLOWED_ORIGINS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, packPkg, startDevServer } from './helpers.mjs';
import { launch, serve } from './browser.mjs';

const example = path.join(root, 'examples/react');
const artifacts = path.join(root, 'artifacts');
mkdirSync(artifacts, { recursive: true });

let site;
let server;
let base;
let browser;
let work;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'react-example-'));
  if (!existsSync(path.join(example, 'node_modules/@tanstack/react-form'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: example, stdio: 'pipe' });
  }
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', packPkg(work)], { cwd: example, stdio: 'pipe' });
  execFileSync(path.join(example, 'node_modules/.bin/vite'), ['build', '--logLevel', 'error', '--outDir', path.join(work, 'dist')], { cwd: example, stdio: 'pipe' });
  site = await serve(path.join(work, 'dist'));

  ({ server, base } = await startDevServer(`${work}/api.db`, { CORS_ALLOWED_ORIGINS: site.url }));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.kill();
  await site?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function serverReport(token, step, input) {
  const res = await fetch(`${base}/api/onboarding/validate?step=${step}&locale=es`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(input),
  });
  return res.json();
}

for (const [form, email] of [['react-hook-form', 'react@example.com'], ['tanstack', 'tanstack@example.com']]) {
  test(`the React example (${form}) checks keystrokes with the package and saves with If-Match across origins`, () => walk(form, email));
}

async function walk(form, email) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const toServer = [];
  page.on('request', (r) => r.url().startsWith(base) && toServer.push(`${r.method()} ${new URL(r.url()).pathname}`));
  await page.goto(`${site.url}/?api=${encodeURIComponent(base)}&email=${email}&form=${form}`);
  await page.waitForSelector('#step-welcome');
  assert.deepEqual(errors, []);

  // A too-short name: the inline error comes from the package, with no request to the server,
  // and says exactly what the server says for the same input.
  const before = toServer.length;
  await page.fill('#f-full_name', 'A');
  await page.waitForFunction(() => document.querySelector('#err-full_name')?.textContent !== '');
  const inline = await page.textContent('#err-full_name');
  assert.equal(toServer.length, before, `requests while typing: ${toServer.slice(before)}`);
  const token = (await (await fetch(`${base}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) })).json()).token;
  const report = await serverReport(token, 'welcome', { full_name: 'A' });
  assert.equal(inline, report.issues.find((i) => i.path === 'welcome.full_name').message);
  await page.screenshot({ path: path.join(artifacts, `react-${form}-inline-error.png`) });

  // A valid welcome step saves (If-Match), then the company step.
  await page.fill('#f-full_name', 'Lucía Pérez');
  await page.fill('#f-job_title', 'Directora de operaciones');
  await page.selectOption('#f-experience_with_okr', 'beginner');
  await page.fill('#f-primary_goal', 'Alinear a todo el equipo con objetivos trimestrales claros.');
  await page.selectOption('#f-urgency_level', 'high');
  await page.click('#save');
  await page.waitForSelector('#step-company');
  await page.fill('#f-company_name', 'Café Niño & Co.');
  await page.selectOption('#f-industry', 'retail');
  await page.selectOption('#f-company_size', 'small');
  await page.fill('#f-employee_count', '25');
  await page.selectOption('#f-country', 'MX');
  await page.fill('#f-website', 'CafeNino.mx');
  await page.fill('#f-description', 'Tostadores de café de especialidad con tres cafeterías en la Ciudad de México.');
  assert.equal(await page.getAttribute('#f-company_name', 'maxlength'), '120');
  await page.click('#save');
  await page.waitForSelector('#done');
  assert.ok(toServer.includes('PUT /api/onboarding/steps/welcome') && toServer.includes('PUT /api/onboarding/steps/company'), toServer.join(', '));

  const status = await (await fetch(`${base}/api/onboarding/status`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.deepEqual(status.completed_steps, ['welcome', 'company']);
  assert.equal(status.draft.company.website, 'https://cafenino.mx');
  assert.equal(status.version, 3);
  assert.deepEqual(errors, []);
}
