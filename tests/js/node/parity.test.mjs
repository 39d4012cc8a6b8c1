// The differential test: seeded random and mutated inputs through the native CLI and the npm
// package; the JSON outputs must be byte-identical. PARITY_CASES and PARITY_SEED override.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as rules from '../../../pkg/node.js';
import { cli } from './helpers.mjs';
import { makeGenerator } from './generate.mjs';

const CASES = Number(process.env.PARITY_CASES ?? 12_000);
const SEED = Number(process.env.PARITY_SEED ?? 20261127);
const CONTEXTS = [
  { locale: 'es', today: '2026-11-27' },
  { locale: 'en', today: '2026-11-27', self_email: 'luis@cafenino.mx' },
  { locale: 'es', today: '2030-01-01', self_email: 'ANA@acme.com' },
  { locale: 'en', today: '1999-12-31' },
];

function cliArgs(command, step, ctx) {
  const args = [command, '--jsonl', '--locale', ctx.locale, '--today', ctx.today];
  if (ctx.self_email) args.push('--self-email', ctx.self_email);
  if (step) args.push('--step', step);
  return args;
}

test(`${CASES} generated inputs: native CLI and npm package agree byte for byte`, () => {
  const next = makeGenerator(SEED);
  const groups = new Map();
  for (let i = 0; i < CASES; i++) {
    const { step, input } = next();
    const ctx = CONTEXTS[i % CONTEXTS.length];
    const key = `${i % CONTEXTS.length}|${step ?? ''}`;
    if (!groups.has(key)) groups.set(key, { step, ctx, lines: [] });
    // JSON.stringify(undefined) is undefined: such an input is sent as null, as the package reads it.
    groups.get(key).lines.push(JSON.stringify(input) ?? 'null');
  }
  let compared = 0;
  let previews = 0;
  for (const { step, ctx, lines } of groups.values()) {
    const native = cli(cliArgs('validate', step, ctx), lines.join('\n') + '\n');
    assert.ok(native.status === 0 || native.status === 1, native.stderr);
    const nativeLines = native.stdout.split('\n').slice(0, -1);
    assert.equal(nativeLines.length, lines.length);
    lines.forEach((line, i) => {
      const wasm = step ? rules.validateStepJson(step, line, ctx) : rules.validateWizardJson(line, ctx);
      if (wasm !== nativeLines[i]) {
        assert.fail(`difference (step ${step ?? 'wizard'}, context ${JSON.stringify(ctx)}) for input:\n${line.slice(0, 2000)}\nnative: ${nativeLines[i].slice(0, 2000)}\nwasm:   ${wasm.slice(0, 2000)}`);
      }
      compared++;
    });
    if (!step) {
      const native = cli(cliArgs('preview', undefined, ctx), lines.join('\n') + '\n');
      native.stdout.split('\n').slice(0, -1).forEach((out, i) => {
        assert.deepEqual(rules.preview(JSON.parse(lines[i]), ctx), JSON.parse(out), `preview differs for ${lines[i].slice(0, 500)}`);
        previews++;
      });
    }
  }
  assert.equal(compared, CASES);
  assert.ok(previews > CASES / 2);
  console.log(`# compared ${compared} reports and ${previews} previews (seed ${SEED})`);
});
