// `make bench` for the npm package: size (gzip -9), instantiate time in Node, and per-call time
// of validateStep / validateWizardJson next to zod 4 safeParse on an equivalent schema.
// Prints a Markdown table (or writes it to the file given as the first argument).
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// BENCH_PKG: another build of the package (a point of the size/speed curve, tools/build-pkg.sh).
const pkg = process.env.BENCH_PKG ? path.resolve(process.env.BENCH_PKG) : path.join(root, 'pkg');
const rules = await import(path.join(pkg, 'node.js'));
const wizard = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/valid_wizard.json'), 'utf8'));
const invalid = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/invalid_wizard.json'), 'utf8'));
const ctx = { today: '2026-11-27' };
const rows = [];

// Size.
const gz = (f) => gzipSync(readFileSync(path.join(pkg, f)), { level: 9 }).length;
const raw = (f) => readFileSync(path.join(pkg, f)).length;
const wasmGz = gz('onboarding_wasm_bg.wasm');
const glueGz = gz('index.js');
const stepsGz = gz('steps.es.js');
const total = wasmGz + glueGz + stepsGz;
rows.push(['size: .wasm + JS + one locale\'s metadata, gzip -9', `${(total / 1024).toFixed(1)} KB (wasm ${(wasmGz / 1024).toFixed(1)} KB of ${(raw('onboarding_wasm_bg.wasm') / 1024).toFixed(0)} KB raw, index.js ${(glueGz / 1024).toFixed(1)} KB, steps.es.js ${(stepsGz / 1024).toFixed(1)} KB)`,
  `budget 64 KB: ${total <= 64 * 1024 ? 'met' : '**missed**'}`]);

// Instantiate: a fresh process imports the package (read + compile + instantiate), 15 times.
const times = [];
for (let i = 0; i < 15; i++) {
  const out = execFileSync(process.execPath, ['-e', `const t=performance.now(); import(${JSON.stringify(path.join(pkg, 'node.js'))}).then(()=>console.log(performance.now()-t))`], { encoding: 'utf8' });
  times.push(Number(out));
}
times.sort((a, b) => a - b);
rows.push(['instantiate in Node (import of node.js: read, compile, instantiate)', `median ${times[7].toFixed(2)} ms`, `min ${times[0].toFixed(2)} ms, max ${times[14].toFixed(2)} ms`]);

// Per-call timing.
function measure(fn, iterations = 20000) {
  for (let i = 0; i < 2000; i++) fn();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  samples.sort();
  return { median: samples[Math.floor(iterations / 2)], p99: samples[Math.floor(iterations * 0.99)] };
}

// The same wizard in zod 4, as close to the rules as zod expresses them.
const text = (min, max) => z.string().trim().min(min).max(max);
const intish = (min, max) => z.union([z.number().int(), z.string().regex(/^\s*[+-]?\d+\s*$/).transform(Number)]).pipe(z.number().int().min(min).max(max));
const zWizard = z.strictObject({
  welcome: z.strictObject({
    full_name: text(2, 100).regex(/^[\p{L}\p{M} '’.-]+$/u), job_title: text(2, 100),
    experience_with_okr: z.enum(['none', 'beginner', 'intermediate', 'advanced']), primary_goal: text(10, 500),
    urgency_level: z.enum(['low', 'medium', 'high', 'critical']),
  }),
  company: z.strictObject({
    company_name: text(2, 120).regex(/^[\p{L}\p{M}\p{N} \-_.&()',+/’]+$/u),
    industry: z.enum(['technology', 'finance', 'healthcare', 'education', 'retail', 'manufacturing', 'consulting', 'other']),
    company_size: z.enum(['startup', 'small', 'medium', 'large', 'enterprise']), employee_count: intish(1, 1_000_000).nullish(),
    country: z.string().trim().length(2), website: z.string().max(2048).nullish(), description: text(20, 1000), founded_year: intish(1800, 2026).nullish(),
  }),
  organization: z.strictObject({
    department: z.string().max(100).nullish(), team_size: intish(1, 10000).nullish(),
    okr_maturity: z.enum(['beginner', 'intermediate', 'advanced']),
    current_challenges: z.array(z.enum(['alignment', 'measurement', 'focus', 'communication', 'execution', 'culture', 'resources', 'growth'])).min(1).max(8),
    business_goals: z.array(z.enum(['revenue_growth', 'market_expansion', 'product_development', 'operational_efficiency', 'customer_satisfaction', 'team_development', 'innovation', 'sustainability'])).min(1).max(8),
  }),
  objectives: z.strictObject({
    objectives: z.array(z.strictObject({
      title: text(5, 200), description: z.string().max(1000).nullish(),
      key_results: z.array(z.strictObject({
        title: text(5, 200), metric_type: z.enum(['number', 'percentage', 'currency', 'boolean']),
        baseline: z.number().finite().nullish(), target: z.number().finite(), unit: z.string().max(20).nullish(),
      })).min(1).max(5),
    })).max(5),
  }).optional(),
  preferences: z.strictObject({
    language: z.enum(['es', 'en']), communication_style: z.enum(['formal', 'informal']),
    notification_frequency: z.enum(['daily', 'weekly', 'monthly']),
    focus_areas: z.array(z.enum(['strategy', 'execution', 'analytics', 'collaboration', 'reporting'])).min(1).max(5),
    ai_assistance_level: z.enum(['none', 'minimal', 'moderate', 'extensive']), timezone: z.string().min(1),
    okr_cycle: z.enum(['monthly', 'quarterly', 'semiannual', 'annual']).nullish(),
  }),
  review: z.strictObject({
    confirmed: z.literal(true), terms_accepted: z.literal(true), additional_notes: z.string().max(1000).nullish(),
    setup_demo: z.enum(['yes', 'no', 'later']).nullish(), invite_emails: z.array(z.string().trim().toLowerCase().pipe(z.email())).max(50).nullish(),
  }),
});
if (!zWizard.safeParse({ ...wizard, company: { ...wizard.company, country: 'MX', website: 'https://cafenino.mx' } }).success) throw new Error('zod schema rejects the valid wizard');
const zCompany = zWizard.shape.company;
const wizardJson = JSON.stringify(wizard);
const invalidJson = JSON.stringify(invalid);

const fmt = (m) => `median ${m.median.toFixed(2)} µs, p99 ${m.p99.toFixed(2)} µs`;
const pairs = [
  ['validateStep("company", object)', () => rules.validateStep('company', wizard.company, ctx), 'zod safeParse(company)', () => zCompany.safeParse(wizard.company)],
  ['validateWizardJson(valid wizard)', () => rules.validateWizardJson(wizardJson, ctx), 'zod safeParse(JSON.parse(valid wizard))', () => zWizard.safeParse(JSON.parse(wizardJson))],
  ['validateWizardJson(invalid wizard, 45 issues)', () => rules.validateWizardJson(invalidJson, ctx), 'zod safeParse(JSON.parse(invalid wizard))', () => zWizard.safeParse(JSON.parse(invalidJson))],
  ['validateWizard(valid object)', () => rules.validateWizard(wizard, ctx), 'zod safeParse(valid object)', () => zWizard.safeParse(wizard)],
];
for (const [name, fn, zname, zfn] of pairs) {
  const ours = measure(fn);
  const theirs = measure(zfn);
  rows.push([name, fmt(ours), `${zname}: ${fmt(theirs)} — ${ours.median < theirs.median ? 'faster' : '**slower**'} than zod (median)`]);
}

const table = ['| measure | result | notes |', '|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
if (process.argv[2]) writeFileSync(process.argv[2], table + '\n');
console.log(table);
