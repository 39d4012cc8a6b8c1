// Shared by the npm package's tests: paths, the vectors, the native CLI.
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const pkgDir = path.join(root, 'pkg');

export function loadVectors() {
  const dir = path.join(root, 'tests/vectors');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => {
      const doc = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
      return doc.cases.map((c) => ({ file: doc.file, ...c }));
    });
}

/** The native rules CLI (built by `make test` before the JS tests run). */
export function cli(args, input) {
  const bin = path.join(root, 'target/debug/onboarding-rules');
  const out = spawnSync(bin, args, { input, maxBuffer: 1 << 30, encoding: 'utf8' });
  if (out.error) throw out.error;
  return out;
}

/** The issues of a report reduced to what the vectors specify. */
export function mismatch(report, expect) {
  const got = report.issues.map((i) => [i.path, i.code, i.severity]);
  const want = expect.issues.map((i) => [i.path, i.code, i.severity]);
  if (JSON.stringify(got) !== JSON.stringify(want) || report.valid !== expect.valid) {
    return `valid ${report.valid} ${JSON.stringify(got)}\n  expected valid ${expect.valid} ${JSON.stringify(want)}`;
  }
  for (const [i, exp] of expect.issues.entries()) {
    const act = report.issues[i];
    if (exp.message !== undefined && exp.message !== act.message) return `message ${act.message} expected ${exp.message}`;
    for (const [k, v] of Object.entries(exp.params ?? {})) {
      if (JSON.stringify(act.params[k]) !== JSON.stringify(v)) return `param ${k}=${JSON.stringify(act.params[k])} expected ${JSON.stringify(v)}`;
    }
  }
  return null;
}
