// The npm package in Node.js: every shared vector, the API surface, and robustness against
// hostile input (a report or a thrown Error, never a trap, and the module keeps working).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import init, * as rules from '../../../pkg/node.js';
import * as raw from '../../../pkg/onboarding_wasm.js';
import { api } from '../../../wasm/npm/api.js';
import { loadVectors, mismatch, cli, root } from './helpers.mjs';

const ctx = { today: '2026-11-27' };
const valid = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/valid_wizard.json'), 'utf8'));

test('every shared vector, through the object and the JSON API', async () => {
  await init();
  const failures = [];
  const cases = loadVectors();
  assert.ok(cases.length >= 200, `${cases.length} vectors`);
  for (const c of cases) {
    const report = c.step ? rules.validateStep(c.step, c.input, c.context) : rules.validateWizard(c.input, c.context);
    const m = mismatch(report, c.expect);
    if (m) failures.push(`${c.file} / ${c.name}: ${m}`);
    const json = c.step
      ? rules.validateStepJson(c.step, JSON.stringify(c.input), c.context)
      : rules.validateWizardJson(JSON.stringify(c.input), c.context);
    assert.equal(json, JSON.stringify(report), `${c.file} / ${c.name}: JSON and object APIs differ`);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} failed:\n${failures.join('\n')}`);
});

test('the API surface', async () => {
  const version = JSON.parse(cli(['validate'], '{}').stdout).rules_version;
  assert.equal(rules.rulesVersion(), version);
  const es = await rules.loadSteps();
  const en = await rules.loadSteps('en');
  assert.equal(await rules.loadSteps('en'), en, 'loaded once');
  // The files the package ships are the rules CLI's metadata.
  assert.deepEqual(en, JSON.parse(cli(['steps', '--locale', 'en'], '').stdout));
  assert.equal(es.length, 6);
  assert.equal(es[0].title, 'Bienvenida');
  assert.equal(en[0].title, 'Welcome');
  assert.equal(en[1].fields.find((f) => f.name === 'country').options.find((o) => o.value === 'ES').label, 'Spain');
  // The JSON Schema ships as a file beside the module, equal to the rules CLI's.
  const schema = readFileSync(path.join(root, 'pkg/schema.json'), 'utf8');
  assert.equal(JSON.parse(schema).$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(schema.trim(), cli(['schema'], '').stdout.trim());
  assert.equal(rules.schema, undefined);
  const p = rules.preview(valid, ctx);
  assert.equal(p.slug, 'cafe-nino-co');
  assert.equal(p.records.organization.slug, 'cafe-nino-co');
  assert.equal(p.report.valid, true);
  assert.equal(rules.preview({ company: { company_name: 'Straße Ærø' } }, ctx).slug, 'strasse-aero');
  assert.deepEqual(rules.normalize({ company: { country: ' mx ', website: 'ACME.com/' } }), {
    company: { country: 'MX', website: 'https://acme.com' },
  });
  assert.equal(rules.validateWizard(valid, ctx).valid, true);
});

test('Standard Schema v1: normalized values, one issue per error with its path, warnings aside', async () => {
  await init();
  const wizard = rules.wizardSchema({ ...ctx, locale: 'en' });
  assert.equal(wizard['~standard'].version, 1);
  assert.equal(wizard['~standard'].vendor, 'onboarding-rules');
  // Valid: the normalized value (what the server stores).
  const ok = wizard['~standard'].validate({ ...valid, company: { ...valid.company, website: 'CafeNino.mx/', country: ' mx ' } });
  assert.equal(ok.issues, undefined);
  assert.equal(ok.value.company.website, 'https://cafenino.mx');
  assert.equal(ok.value.company.country, 'MX');
  assert.deepEqual(ok.value, rules.normalize(ok.value));
  // Invalid: the report's errors, message and path as segments.
  const broken = structuredClone(valid);
  broken.objectives.objectives[1].key_results[0].target = broken.objectives.objectives[1].key_results[0].baseline;
  broken.welcome.full_name = 'A';
  const failed = wizard['~standard'].validate(broken);
  const report = rules.validateWizard(broken, { ...ctx, locale: 'en' });
  const errors = report.issues.filter((i) => i.severity === 'error');
  assert.equal(failed.issues.length, errors.length);
  assert.deepEqual(failed.issues.map((i) => i.message), errors.map((i) => i.message));
  assert.deepEqual(failed.issues[0].path, ['welcome', 'full_name']);
  assert.deepEqual(failed.issues.at(-1).path, ['objectives', 'objectives', 1, 'key_results', 0, 'target']);
  // An issue about the whole value has no path.
  const whole = wizard['~standard'].validate(42);
  assert.deepEqual(whole.issues, [{ message: rules.validateWizard(42, { ...ctx, locale: 'en' }).issues[0].message }]);
  // One step: paths relative to the step; the value normalized as the step.
  const objectives = rules.stepSchema('objectives', ctx);
  const step = objectives['~standard'].validate(broken.objectives);
  assert.deepEqual(step.issues.map((i) => i.path), [['objectives', 1, 'key_results', 0, 'target']]);
  assert.equal(step.issues[0].message, rules.validateStep('objectives', broken.objectives, ctx).issues.find((i) => i.severity === 'error').message);
  const company = rules.stepSchema('company', ctx)['~standard'].validate({ ...valid.company, website: 'ACME.com/' });
  assert.equal(company.value.website, 'https://acme.com');
  // Warnings do not fail validation; report() shows them.
  const many = structuredClone(valid.objectives);
  const kr = many.objectives[0].key_results[0];
  many.objectives[0].key_results = [1, 2, 3, 4].map((n) => ({ ...kr, title: `${kr.title} ${n}` }));
  assert.equal(objectives['~standard'].validate(many).issues, undefined);
  assert.ok(objectives.report(many).issues.some((i) => i.severity === 'warning'));
  // A schema may be made before init (a module's top level); only validating needs the module.
  assert.throws(() => rules.stepSchema(7), /step must be a string/);
});

test('constraints: the rules\' limits as HTML attributes, from the loaded metadata', async () => {
  // A fresh copy of the package: before any metadata is loaded, constraints() says what to do.
  const fresh = await import('../../../pkg/node.js?constraints');
  assert.throws(() => fresh.constraints('company'), /call `await loadSteps\(\)` before `constraints\(\)`/);
  await fresh.loadSteps('en');
  assert.deepEqual(fresh.constraints('company').company_name, { required: true, minLength: 2, maxLength: 120 });
  await rules.loadSteps();
  const company = rules.constraints('company', { today: '2031-05-01' });
  assert.deepEqual(company.company_name, { required: true, minLength: 2, maxLength: 120 });
  assert.deepEqual(company.employee_count, { min: 1, max: 1000000, step: 1 });
  assert.deepEqual(company.founded_year, { min: 1800, max: 2031, step: 1 });
  assert.deepEqual(company.industry, { required: true });
  assert.deepEqual(company.website, { maxLength: 2048 });
  assert.deepEqual(rules.constraints('review').terms_accepted, { required: true });
  assert.throws(() => rules.constraints('nope'), /unknown step "nope"/);
  assert.deepEqual(rules.constraints('objectives').objectives, {});
});

test('a Standard Schema check (one module call) gives what validate and normalize give, on every vector', () => {
  let valid = 0;
  for (const c of loadVectors()) {
    const ctx = c.context ?? {};
    const schema = c.step ? rules.stepSchema(c.step, ctx) : rules.wizardSchema(ctx);
    const result = schema['~standard'].validate(c.input);
    const report = c.step ? rules.validateStep(c.step, c.input, ctx) : rules.validateWizard(c.input, ctx);
    const errors = report.issues.filter((i) => i.severity === 'error');
    assert.equal(result.issues?.length ?? 0, errors.length, c.name);
    if (errors.length > 0) continue;
    valid += 1;
    const normalized = c.step ? rules.normalize({ [c.step]: c.input })[c.step] : rules.normalize(c.input);
    assert.deepEqual(result.value, normalized, c.name);
  }
  assert.ok(valid > 20, `only ${valid} valid vectors`);
});

const schemaFile = (name) => JSON.parse(readFileSync(path.join(root, 'pkg', name), 'utf8'));

test('Standard JSON Schema: the input\'s and the output\'s schema for each target, another target refused', () => {
  const input = schemaFile('schema.json');
  const output = schemaFile('schema.output.json');
  const wizard = rules.wizardSchema()['~standard'].jsonSchema;
  assert.deepEqual(wizard.input({ target: 'draft-2020-12' }), input);
  assert.deepEqual(wizard.output({ target: 'draft-2020-12' }), output);
  // The output is what normalization gives: numbers as numbers, country codes in upper case.
  const company = (s) => s.properties.company.properties;
  assert.equal(company(input).founded_year.anyOf[0].anyOf[1].type, 'string');
  assert.equal(company(output).founded_year.anyOf[0].type, 'integer');
  assert.equal(company(output).country.pattern, '^[A-Z]{2}$');
  // draft-07: the same keywords (none of ours changed between the two drafts), its own $schema.
  const draft07 = wizard.input({ target: 'draft-07' });
  assert.equal(draft07.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.deepEqual({ ...draft07, $schema: input.$schema }, input);
  // OpenAPI 3.0: no $schema or $id, no const, no type null (nullable instead), anywhere.
  const openapi = wizard.input({ target: 'openapi-3.0' });
  const text = JSON.stringify(openapi);
  for (const gone of ['"$schema"', '"$id"', '"const"', '"type":"null"']) assert.ok(!text.includes(gone), `${gone} in ${text.slice(0, 200)}`);
  const website = openapi.properties.company.properties.website;
  assert.equal(website.nullable, true);
  assert.equal(website.type, 'string');
  assert.equal(website.title, company(input).website.anyOf[0].title);
  assert.deepEqual(openapi.properties.review.properties.terms_accepted.enum, [true]);
  // A step's schema is that step's part, as a schema of its own.
  const step = rules.stepSchema('company')['~standard'].jsonSchema;
  assert.deepEqual(step.input({ target: 'draft-2020-12' }), { $schema: input.$schema, ...input.properties.company });
  assert.deepEqual(step.output({ target: 'draft-07' }), { ...output.properties.company, $schema: 'http://json-schema.org/draft-07/schema#' });
  const throwsClearly = (fn, pattern) => assert.throws(fn, (e) => e instanceof Error && e.message.startsWith('onboarding-rules: ') && pattern.test(e.message));
  throwsClearly(() => rules.stepSchema('payment')['~standard'].jsonSchema.input({ target: 'draft-07' }), /unknown step "payment"/);
  // Each call gives a new object: a caller's change does not leak into the next.
  wizard.input({ target: 'draft-2020-12' }).properties.company = null;
  assert.deepEqual(wizard.input({ target: 'draft-2020-12' }), input);
  // Another target is refused, as the spec asks.
  throwsClearly(() => wizard.input({ target: 'draft-04' }), /unsupported JSON Schema target "draft-04"/);
  throwsClearly(() => wizard.output({}), /unsupported JSON Schema target undefined/);
});

// The size budget (issues 3, 19 and 34): what a page that renders the wizard pays, gzip -9 —
// the module, the browser entry (one file: the API, the glue and the JSON Schemas bundled) and
// one locale's metadata (the larger, Spanish). The breakdown is printed.
test('a page pays at most 64 KB gzip: module, script and one locale\'s metadata', () => {
  const gz = (f) => gzipSync(readFileSync(path.join(root, 'pkg', f)), { level: 9 }).length;
  const parts = ['onboarding_wasm_bg.wasm', 'index.js', 'steps.es.js'].map((f) => [f, gz(f)]);
  const total = parts.reduce((sum, [, n]) => sum + n, 0);
  const breakdown = `${parts.map(([f, n]) => `${f} ${n}`).join(', ')}; total ${total} B (steps.en.js ${gz('steps.en.js')} B)`;
  console.log(`# package size, gzip -9: ${breakdown}`);
  assert.ok(gz('steps.en.js') <= gz('steps.es.js'), 'the Spanish metadata is the larger');
  assert.ok(total <= 64 * 1024, `over the 65,536-byte budget: ${breakdown}`);
});

test('the reference date defaults to the local date', () => {
  const year = new Date().getFullYear();
  const at = (y) => rules.validateStep('company', { founded_year: y }).issues.find((i) => i.path === 'company.founded_year');
  assert.equal(at(year), undefined);
  assert.equal(at(year + 1).code, 'out_of_range');
  assert.equal(at(year + 1).params.max, year);
  // A context without `today` (or with a value JSON drops) also falls back to the local date.
  for (const c of [{ locale: 'en' }, { today: undefined }, { today: () => '2000-01-01' }]) {
    const found = rules.validateStep('company', { founded_year: year }, c).issues.find((i) => i.path === 'company.founded_year');
    assert.equal(found, undefined, JSON.stringify(c));
  }
});

test('hostile input gives a report or an Error, and the module keeps working', async () => {
  const stillWorks = () => assert.equal(rules.validateWizard(valid, ctx).valid, true);
  const reportOf = (input) => rules.validateWizard(input, ctx);
  for (const input of [undefined, null, [], [1, 2], 42, 'x', true, {}, { welcome: [] }]) {
    const r = reportOf(input);
    assert.equal(r.valid, false);
    stillWorks();
  }
  const huge = 'x'.repeat(1 << 20);
  const r = reportOf({ welcome: { full_name: huge, primary_goal: huge } });
  assert.equal(r.issues[0].code, 'too_long');
  assert.equal(rules.validateWizardJson(JSON.stringify({ company: { description: huge } }), ctx).length < 10_000, true);
  stillWorks();
  // NaN and undefined are read as JSON.stringify reads them.
  const kr = rules.validateStep('objectives', { objectives: [{ title: 'Crecer ventas', key_results: [{ title: 'Ventas x2', metric_type: 'number', target: NaN, unit: undefined }] }] }, ctx);
  assert.equal(kr.issues[0].code, 'required');
  stillWorks();

  const throwsClearly = (fn, pattern) => {
    assert.throws(fn, (e) => e instanceof Error && e.message.startsWith('onboarding-rules: ') && pattern.test(e.message));
    stillWorks();
  };
  let deep = 1;
  for (let i = 0; i < 1000; i++) deep = [deep];
  throwsClearly(() => reportOf({ extra: deep }), /recursion limit/);
  let veryDeep = {};
  for (let i = 0; i < 200_000; i++) veryDeep = { a: veryDeep };
  throwsClearly(() => reportOf(veryDeep), /cannot be read as JSON|recursion limit/);
  const cyclic = {};
  cyclic.self = cyclic;
  throwsClearly(() => reportOf(cyclic), /cannot be read as JSON/);
  throwsClearly(() => reportOf({ n: 10n }), /cannot be read as JSON/);
  throwsClearly(() => rules.validateWizardJson('{not json', ctx), /invalid JSON/);
  throwsClearly(() => rules.validateWizardJson('[['.repeat(100_000), ctx), /recursion limit/);
  throwsClearly(() => rules.validateStep('payment', {}, ctx), /unknown step "payment"/);
  throwsClearly(() => rules.validateWizard(valid, { locale: 'fr' }), /unknown locale `fr`/);
  throwsClearly(() => rules.validateWizard(valid, { today: '2026-02-30' }), /today "2026-02-30"/);
  throwsClearly(() => rules.validateWizard(valid, { lang: 'es' }), /unknown field `lang`/);
  throwsClearly(() => rules.validateWizard(valid, 'es'), /expected an object/);
  await assert.rejects(rules.loadSteps('fr'), /unsupported locale "fr"/);
  await assert.rejects(rules.loadSteps(''), /unsupported locale ""/);
  throwsClearly(() => rules.constraints('payment'), /unknown step "payment"/);
  throwsClearly(() => rules.validateStep('', {}, ctx), /unknown step ""/);
  // Arguments of the wrong type are refused by api.js before they reach the module.
  throwsClearly(() => rules.validateWizardJson(42, ctx), /the JSON input must be a string/);
});

test('memory stays flat over many calls (the allocator reuses what each call frees)', async () => {
  // The package's API over an instance of the module whose memory the test can see (node.js
  // bundles its own).
  const { memory } = raw.initSync({ module: readFileSync(path.join(root, 'pkg/onboarding_wasm_bg.wasm')) });
  const rules = api({ call: raw.call }, () => {}, {
    schemas: { input: schemaFile('schema.json'), output: schemaFile('schema.output.json') },
    readSteps: async (locale) => schemaFile(`steps.${locale}.json`),
  });
  await rules.loadSteps();
  const invalidJson = readFileSync(path.join(root, 'tests/fixtures/invalid_wizard.json'), 'utf8');
  const huge = 'é'.repeat(1 << 18);
  const mix = (i) => {
    rules.validateWizard(valid, ctx);
    rules.validateWizardJson(invalidJson, ctx);
    rules.preview(valid, ctx);
    rules.validateStep('company', { name: huge.slice(0, i % 5000), website: 'x'.repeat(i % 300) }, ctx);
    if (i % 50 === 0) rules.validateWizard({ welcome: { full_name: huge } }, ctx);
    if (i % 100 === 0) rules.constraints(i % 200 === 0 ? 'company' : 'objectives', ctx);
  };
  for (let i = 0; i < 300; i++) mix(i);
  const before = memory.buffer.byteLength;
  for (let i = 0; i < 3000; i++) mix(i);
  const grown = memory.buffer.byteLength - before;
  assert.ok(grown <= 64 * 1024, `memory grew by ${grown} bytes over 3,000 rounds (from ${before})`);
});
