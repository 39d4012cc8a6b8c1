// Shared by the npm package's tests: paths, the vectors, the packed package, the native CLI.
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

/** `npm pack` of pkg/ into `work`: the tarball's path, the package as users install it. */
export function packPkg(work) {
  const out = execFileSync('npm', ['pack', pkgDir, '--pack-destination', work, '--silent'], { encoding: 'utf8' });
  return path.join(work, out.trim().split('\n').pop());
}

/**
 * A fresh project `work/name` (an ES module package) with `tarball` installed, and `files`
 * (name → text) written into it: its directory.
 */
export function projectWith(work, tarball, name, files = {}) {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: dir, stdio: 'pipe' });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
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

/**
 * The server binary (debug build) in development mode on 127.0.0.1 (random port) and the SQLite
 * file `db`: `{ server, base }` once it listens. `env` adds variables (e.g. CORS_ALLOWED_ORIGINS).
 */
export async function startDevServer(db, env = {}) {
  const binary = path.join(root, 'target/debug/onboarding-server');
  // Without this check a missing binary fails asynchronously and the tests show as cancelled.
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`cargo build -p onboarding-server\` first`);
  const server = spawn(binary, [
    'serve', '--dev', '--bind', '127.0.0.1:0',
    '--database-url', `sqlite://${db}?mode=rwc`,
    '--pkg-dir', pkgDir,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn', ...env } });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.stderr.on('data', () => {});
    server.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { server, base };
}
