// The API's typed client: examples/react/src/api/schema.d.ts is what openapi-typescript makes of
// the server's OpenAPI document today (regenerate: `npm --prefix tests/js run api-types`), and
// the client that calls every route through openapi-fetch (src/api/client.ts) compiles against it
// under `tsc --strict`; the React example's test drives that client in Chromium.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './helpers.mjs';

const jsDir = path.join(root, 'tests/js');
const example = path.join(root, 'examples/react');
const committed = path.join(example, 'src/api/schema.d.ts');
const server = path.join(root, 'target/debug/onboarding-server');

test('the committed API types are what openapi-typescript makes of the current document', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'openapi-'));
  try {
    const doc = path.join(work, 'openapi.json');
    writeFileSync(doc, execFileSync(server, ['openapi'], { encoding: 'utf8' }));
    const out = path.join(work, 'schema.d.ts');
    execFileSync(path.join(jsDir, 'node_modules/.bin/openapi-typescript'), [doc, '-o', out], { stdio: 'pipe' });
    assert.equal(readFileSync(out, 'utf8'), readFileSync(committed, 'utf8'),
      'examples/react/src/api/schema.d.ts is stale: run `npm --prefix tests/js run api-types`');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('the typed client of every route compiles under tsc --strict', () => {
  if (!existsSync(path.join(example, 'node_modules/openapi-fetch'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: example, stdio: 'pipe' });
  }
  const client = readFileSync(path.join(example, 'src/api/client.ts'), 'utf8');
  const doc = JSON.parse(execFileSync(server, ['openapi'], { encoding: 'utf8' }));
  // Every operation of the document is called from the client.
  for (const [route, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item).filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))) {
      assert.ok(client.includes(`${method.toUpperCase()}('${route}'`), `${method.toUpperCase()} ${route} has no call in client.ts`);
    }
  }
  try {
    execFileSync(path.join(jsDir, 'node_modules/.bin/tsc'), ['-p', example], { stdio: 'pipe' });
  } catch (e) {
    assert.fail(`tsc --strict: ${e.stdout}`);
  }
});
