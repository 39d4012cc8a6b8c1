// The package's public functions over the wasm module's one export, `call(op, a, b, c, d)`
// (see wasm/src/lib.rs: `op` numbers the operation, the rest are its text arguments):
// objects go in through JSON.stringify and come out through JSON.parse, here on the JS side,
// and a module answer that starts with a NUL byte is a misuse, thrown as an Error.

const fail = (message) => new Error(`onboarding-rules: ${message}`);

/** The module's answer: its text, or the Error it reports. */
function answer(text) {
  if (text.charCodeAt(0) === 0) throw fail(text.slice(1));
  return text;
}

/** A value as JSON, the way JSON.stringify sees it; undefined (or a function) is null. */
function json(value, what) {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (e) {
    throw fail(`${what} cannot be read as JSON: ${e.message}`);
  }
}

function context(ctx) {
  if (ctx !== undefined && ctx !== null && (typeof ctx !== 'object' || Array.isArray(ctx))) {
    throw fail('invalid context: expected an object');
  }
  try {
    return JSON.stringify(ctx ?? null);
  } catch {
    throw fail('invalid context: cannot be read as JSON');
  }
}

/**
 * The caller's local date, the default reference date; '' when the context brings its own
 * `today` as a string (the module then never reads this), so most calls skip the clock.
 */
function today(ctx) {
  if (typeof ctx?.today === 'string') return '';
  // The local wall-clock time read as UTC: its ISO date is the local date.
  const now = new Date();
  return new Date(now - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

function text(value, what) {
  if (typeof value !== 'string') throw fail(`${what} must be a string`);
  return value;
}

/** A report path (`objectives.objectives[1].title`) as Standard Schema path segments. */
function segments(path) {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] === undefined ? m[1] : Number(m[2])));
}

/**
 * OpenAPI 3.0's dialect of a (draft 2020-12) schema: no `$schema` or `$id`, `const` as a
 * one-value `enum`, and `anyOf` with `{ type: 'null' }` as `nullable: true`. Values (`enum`,
 * `default`) are data, left as they are.
 */
function openapi(node) {
  if (Array.isArray(node)) return node.map(openapi);
  if (node === null || typeof node !== 'object') return node;
  let out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === '$id') continue;
    if (key === 'const') out.enum = [value];
    else if (key === 'enum' || key === 'default') out[key] = value;
    else if (key === 'properties') out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, openapi(v)]));
    else out[key] = openapi(value);
  }
  const rest = out.anyOf?.filter((s) => s.type !== 'null');
  if (rest && rest.length < out.anyOf.length) {
    const { anyOf, ...own } = out;
    out = rest.length === 1 ? { ...rest[0], ...own } : { ...own, anyOf: rest };
    out.nullable = true;
  }
  return out;
}

const TARGETS = ['draft-2020-12', 'draft-07', 'openapi-3.0'];

/**
 * `schema` (ours: draft 2020-12) for a Standard JSON Schema target; another target is an Error,
 * as that spec asks. Always a new object: the caller may change it.
 */
function forTarget(schema, options) {
  const target = options?.target;
  if (!TARGETS.includes(target)) {
    throw fail(`unsupported JSON Schema target ${JSON.stringify(target)}: expected one of ${TARGETS.map((t) => `"${t}"`).join(', ')}`);
  }
  const copy = structuredClone(schema);
  if (target === 'openapi-3.0') return openapi(copy);
  const { $schema, ...rest } = copy;
  return {
    $schema: target === 'draft-07' ? 'http://json-schema.org/draft-07/schema#' : $schema,
    ...rest,
  };
}

/** A step's part of a wizard schema, as a schema of its own. */
function stepPart(schema, id) {
  if (!Object.hasOwn(schema.properties, id)) throw fail(`unknown step ${JSON.stringify(id)}`);
  return { $schema: schema.$schema, ...schema.properties[id] };
}

/**
 * A Standard Schema v1 object (https://standardschema.dev) over `check` (value → report) and
 * `checked` (value → `{ report, value }`, the normalized value when it is valid: one module
 * call): success is the normalized value; failure one
 * issue per error of the report, with its localized message and path (`drop` leading segments
 * dropped). Warnings are not failures: `report(value)` gives them. Also Standard JSON Schema v1:
 * `jsonSchema.input` / `.output` give `schemaFor('input' | 'output')` for a target.
 */
function schemaOf(check, checked, drop, schemaFor) {
  return {
    '~standard': {
      version: 1,
      vendor: 'onboarding-rules',
      jsonSchema: {
        input: (options) => forTarget(schemaFor('input'), options),
        output: (options) => forTarget(schemaFor('output'), options),
      },
      validate(value) {
        const { report, value: normalized } = checked(value);
        const errors = report.issues.filter((i) => i.severity === 'error');
        if (errors.length === 0) return { value: normalized };
        return {
          issues: errors.map((i) => {
            const path = segments(i.path).slice(drop);
            return path.length > 0 ? { message: i.message, path } : { message: i.message };
          }),
        };
      },
    },
    report: check,
  };
}

/** HTML constraint attributes (React's spelling: `minLength` for `minlength`) of one field. */
function constraintsOf(field, year) {
  const c = {};
  if (field.required) c.required = true;
  if (['text', 'multiline', 'url'].includes(field.kind)) {
    if (field.min_length) c.minLength = field.min_length;
    if (field.max_length !== null && field.max_length !== undefined) c.maxLength = field.max_length;
  }
  if (field.kind === 'integer' || field.kind === 'number') {
    if (field.min !== null && field.min !== undefined) c.min = field.min;
    if (field.max !== null && field.max !== undefined) c.max = field.max;
    if (field.max_is === 'reference_year') c.max = year;
    c.step = field.kind === 'integer' ? 1 : 'any';
  }
  return c;
}

/**
 * The steps' metadata of a locale, a module beside the entry: every runtime and bundler imports
 * it as it imports the entry (no fetch of a relative URL, no file read). A copy, so that what
 * `loadSteps` adds stays out of the module's own object.
 */
const STEPS = {
  es: () => import('./steps.es.js'),
  en: () => import('./steps.en.js'),
};
const importSteps = (locale) => STEPS[locale]().then((m) => structuredClone(m.default));

/**
 * The public API over `rules` (the wasm-bindgen module); `ready()` guards every call;
 * `schemas` are the wizard's JSON Schemas (`{ input, output }`, the entry imports them);
 * `readSteps(locale)` gives a Promise of a locale's steps' metadata (the modules by default).
 */
export function api(rules, ready, { schemas, readSteps = importSteps }) {
  const loaded = {};
  // The steps' metadata of the first locale loaded: `constraints` reads the fields' limits from
  // it (they are the same in every locale).
  let known = null;
  const call = (fn) => (...args) => {
    ready();
    return fn(...args);
  };
  // The module's operation `op` on text arguments; the answer's text, or its Error thrown.
  const run = (op, a = '', b = '', c = '', d = '') => answer(rules.call(op, a, b, c, d));
  const wizard = (input, ctx) => run(0, input, context(ctx), today(ctx));
  const step = (id, input, ctx) => run(1, text(id, 'step'), input, context(ctx), today(ctx));
  return {
    validateWizard: call((input, ctx) => JSON.parse(wizard(json(input, 'input'), ctx))),
    validateStep: call((id, input, ctx) => JSON.parse(step(id, json(input, 'input'), ctx))),
    validateWizardJson: call((input, ctx) => wizard(text(input, 'the JSON input'), ctx)),
    validateStepJson: call((id, input, ctx) => step(id, text(input, 'the JSON input'), ctx)),
    normalize: call((input) => JSON.parse(run(2, json(input, 'input')))),
    preview: call((input, ctx) => JSON.parse(run(3, json(input, 'input'), context(ctx), today(ctx)))),
    // The steps' metadata is static per rule version: a module per locale beside the entry,
    // read once on demand (validation never needs it). The file leaves out the time-zone
    // field's options, the ~600 zone names the module holds to validate with: they are added
    // here from the module, so the result is the rules CLI's `steps` output.
    loadSteps: (locale = 'es') => {
      if (locale !== 'es' && locale !== 'en') {
        return Promise.reject(fail(`unsupported locale ${JSON.stringify(locale)}: expected "es" or "en"`));
      }
      try {
        ready();
      } catch (e) {
        return Promise.reject(e);
      }
      loaded[locale] ??= readSteps(locale).then(
        (steps) => {
          const zones = run(5).split('\n').map((zone) => ({ value: zone, label: zone }));
          for (const field of steps.flatMap((s) => s.fields)) {
            if (field.kind === 'timezone') field.options = zones;
          }
          known ??= steps;
          return steps;
        },
        (e) => {
          delete loaded[locale];
          throw fail(`cannot load the ${locale} metadata: ${e.message}`);
        },
      );
      return loaded[locale];
    },
    rulesVersion: call(() => run(6)),
    // Standard Schema v1 objects for form libraries. They may be made before `init()`; the
    // module must be ready by the time they validate.
    wizardSchema: (ctx) => {
      context(ctx);
      return schemaOf(
        call((value) => JSON.parse(wizard(json(value, 'input'), ctx))),
        call((value) => JSON.parse(run(7, '', json(value, 'input'), context(ctx), today(ctx)))),
        0,
        (side) => schemas[side],
      );
    },
    stepSchema: (id, ctx) => {
      text(id, 'step');
      context(ctx);
      return schemaOf(
        call((value) => JSON.parse(step(id, json(value, 'input'), ctx))),
        call((value) => JSON.parse(run(7, id, json(value, 'input'), context(ctx), today(ctx)))),
        1,
        (side) => stepPart(schemas[side], id),
      );
    },
    // The limits are static per rule version, so they come from the steps' metadata, which
    // must have been loaded (`loadSteps`, any locale) before.
    constraints: (id, ctx) => {
      text(id, 'step');
      context(ctx);
      if (known === null) throw fail('call `await loadSteps()` before `constraints()`: the limits come from the steps\' metadata');
      const step = known.find((s) => s.id === id);
      if (step === undefined) throw fail(`unknown step ${JSON.stringify(id)}`);
      const year = Number((typeof ctx?.today === 'string' ? ctx.today : today(ctx)).slice(0, 4));
      return Object.fromEntries(step.fields.map((f) => [f.name, constraintsOf(f, year)]));
    },
  };
}
