// The wizard page's modules (web/app.js, web/js/*.js) import one another without a cycle, as
// core's modules do (core/tests/it/layout.rs): each layer imports only those below it, and a
// lower module asks a higher one to act by an event (state.js's `emit` / `on`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { root } from './helpers.mjs';

const web = path.join(root, 'web');
const modules = ['app.js', ...readdirSync(path.join(web, 'js')).filter((f) => f.endsWith('.js')).map((f) => `js/${f}`)];

/** The page's own modules that `file` imports (statically or with `import()`), as paths under web/. */
function importsOf(file) {
  const text = readFileSync(path.join(web, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
}

/** A cycle in `graph` (module → imports), as the list of modules around it, or null. */
function findCycle(graph) {
  const state = new Map(); // 1: on the current path, 2: done
  const stack = [];
  const visit = (m) => {
    if (state.get(m) === 2) return null;
    if (state.get(m) === 1) return [...stack.slice(stack.indexOf(m)), m];
    state.set(m, 1);
    stack.push(m);
    for (const next of graph.get(m) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(m, 2);
    return null;
  };
  for (const m of graph.keys()) {
    const cycle = visit(m);
    if (cycle) return cycle;
  }
  return null;
}

test('the cycle finder finds a cycle (so the check below can fail)', () => {
  const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', []]]);
  assert.deepEqual(findCycle(graph), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', ['b']], ['b', []]])), null);
});

test("the wizard page's modules import one another without a cycle", () => {
  const graph = new Map(modules.map((m) => [m, importsOf(m)]));
  assert.ok(graph.get('app.js').includes('js/wizard.js'), 'the import reader reads the imports');
  for (const [m, deps] of graph) for (const d of deps) assert.ok(graph.has(d), `${m} imports ${d}, which is not a module of the page`);
  assert.equal(findCycle(graph), null, `a cycle: ${findCycle(graph)?.join(' → ')}`);
});
