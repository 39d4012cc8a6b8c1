// The onboarding rules in a React app: each step's form is rendered from the package's metadata
// (`loadSteps(locale)`), React Hook Form checks every keystroke with the package's Standard Schema
// (`stepSchema`, through `standardSchemaResolver`; with `?form=tanstack`, TanStack Form takes the
// same schema natively) — the very messages the server sends — and a
// valid step is saved to the API with `If-Match`, through the client typed from the API's OpenAPI
// document (`./api/client.ts`). The API runs on another origin (its CORS_ALLOWED_ORIGINS lists
// this one). `?api=` names it; `?email=` signs in through the server's development mode (a real
// app passes its identity provider's token instead).
import { createRoot } from 'react-dom/client';
import { useEffect, useMemo, useState } from 'react';
import { useForm } from 'react-hook-form';
import { standardSchemaResolver } from '@hookform/resolvers/standard-schema';
import { useForm as useTanStackForm } from '@tanstack/react-form';
import init, { loadSteps, stepSchema, constraints, rulesVersion } from 'onboarding-rules';
import { ApiError, devToken, onboardingApi } from './api/client';

const params = new URLSearchParams(location.search);
const API = (params.get('api') ?? '').replace(/\/$/, '');
const LOCALE = params.get('locale') === 'en' ? 'en' : 'es';
const STEPS = ['welcome', 'company'];
const FORM = params.get('form') === 'tanstack' ? 'tanstack' : 'react-hook-form';

function Field({ field, register, error, limits }) {
  const id = `f-${field.name}`;
  const common = { id, 'aria-invalid': error ? 'true' : 'false', ...register(field.name), ...limits };
  let control;
  if (field.options) {
    control = (
      <select {...common}>
        <option value="">—</option>
        {field.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    );
  } else if (field.kind === 'multiline') {
    control = <textarea {...common} placeholder={field.placeholder} />;
  } else {
    control = <input {...common} type={field.kind === 'integer' ? 'number' : 'text'} placeholder={field.placeholder} />;
  }
  return (
    <p>
      <label htmlFor={id}>{field.label}{field.required ? ' *' : ''}</label><br />
      {control}<br />
      <small id={`err-${field.name}`} role="alert">{error?.message ?? ''}</small>
    </p>
  );
}

/**
 * Saves a step's value (`If-Match`) and returns how it went: 'saved', 'refused' (the server's
 * issues handed to `setError(field, message)`) or 'conflict'.
 */
async function save(meta, session, value, setError, onSaved, onStale) {
  // Only the fields the user filled are sent: empty ones are absent, as the rules expect.
  const data = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== '' && v !== undefined));
  let saved;
  try {
    saved = await session.api.saveStep(meta.id, data, session.version);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const refused = e.problem?.report;
    if (refused && refused.rules_version !== rulesVersion()) onStale(refused.rules_version);
    return e.problem?.code === 'stale_version' ? 'conflict' : 'refused';
  }
  const report = saved.report;
  // A refusal from rules other than this package's: the page must be reloaded to get them.
  if (report && report.rules_version !== rulesVersion()) onStale(report.rules_version);
  const errors = report?.issues?.filter((i) => i.severity === 'error') ?? [];
  // The server's report wins (a stale package could disagree): its issues on the fields.
  for (const issue of errors) setError(issue.path.split('.')[1], issue.message);
  if (errors.length > 0) return 'refused';
  onSaved(saved.version);
  return 'saved';
}

/** A step with TanStack Form, which takes the Standard Schema as its validator as it is. */
function TanStackStep({ meta, session, onSaved, onStale }) {
  const schema = useMemo(() => stepSchema(meta.id, { locale: LOCALE }), [meta.id]);
  const limits = useMemo(() => constraints(meta.id), [meta.id]);
  const [status, setStatus] = useState('');
  const defaults = session.draft?.[meta.id] ?? {};
  const form = useTanStackForm({
    defaultValues: Object.fromEntries(meta.fields.map((f) => [f.name, defaults[f.name] ?? ''])),
    validators: { onChange: schema },
    // TanStack Form submits what was typed; the schema's output is the normalized value (what
    // React Hook Form's resolver submits), so the draft is stored as the rules write it.
    onSubmit: async ({ value: typed }) => {
      const value = schema['~standard'].validate(typed).value ?? typed;
      const setError = (name, message) => form.setFieldMeta(name, (m) => ({ ...m, errorMap: { ...m.errorMap, onServer: message } }));
      setStatus(await save(meta, session, value, setError, onSaved, onStale));
    },
  });
  return (
    <form id={`step-${meta.id}`} noValidate onSubmit={(e) => { e.preventDefault(); form.handleSubmit(); }}>
      <h2>{meta.title}</h2>
      {meta.fields.map((f) => (
        <form.Field key={f.name} name={f.name}>
          {(field) => (
            <Field
              field={f}
              register={() => ({
                name: f.name,
                value: field.state.value ?? '',
                onChange: (e) => field.handleChange(e.target.value),
                onBlur: field.handleBlur,
              })}
              error={field.state.meta.isTouched && field.state.meta.errors.length > 0 ? { message: field.state.meta.errors.map((e) => e?.message ?? e)[0] } : undefined}
              limits={limits[f.name]}
            />
          )}
        </form.Field>
      ))}
      <button type="submit" id="save">Guardar</button> <output id="status">{status}</output>
    </form>
  );
}

function Step({ meta, session, onSaved, onStale }) {
  const schema = useMemo(() => stepSchema(meta.id, { locale: LOCALE }), [meta.id]);
  const limits = useMemo(() => constraints(meta.id), [meta.id]);
  const form = useForm({
    resolver: standardSchemaResolver(schema),
    mode: 'onChange',
    defaultValues: session.draft?.[meta.id] ?? {},
  });
  const [status, setStatus] = useState('');
  const submit = async (value) => {
    const setError = (name, message) => form.setError(name, { type: 'server', message });
    setStatus(await save(meta, session, value, setError, onSaved, onStale));
  };
  return (
    <form id={`step-${meta.id}`} noValidate onSubmit={form.handleSubmit(submit)}>
      <h2>{meta.title}</h2>
      {meta.fields.map((f) => (
        <Field key={f.name} field={f} register={form.register} error={form.formState.errors[f.name]} limits={limits[f.name]} />
      ))}
      <button type="submit" id="save">Guardar</button> <output id="status">{status}</output>
    </form>
  );
}

const StepForm = (props) => (FORM === 'tanstack' ? <TanStackStep {...props} /> : <Step {...props} />);

function App() {
  const [session, setSession] = useState(null);
  const [index, setIndex] = useState(0);
  const [problem, setProblem] = useState('');
  const stale = (server) => setProblem(`stale rules: ${rulesVersion()} here, ${server} on the server; reload the page`);
  useEffect(() => {
    (async () => {
      await init();
      const meta = await loadSteps(LOCALE);
      const email = params.get('email') ?? 'demo@example.com';
      const { token } = await devToken(API, email);
      const api = onboardingApi(API, token, LOCALE);
      let status = await api.status();
      if (status.rules_version !== rulesVersion()) stale(status.rules_version);
      if (status.status !== 'in_progress') status = await api.start();
      setSession({ api, version: status.version, draft: status.draft ?? {}, meta });
    })().catch((e) => setProblem(String(e)));
  }, []);
  if (problem) return <p id="problem" role="alert">{problem}</p>;
  if (!session) return <p>…</p>;
  if (index >= STEPS.length) return <p id="done">✓</p>;
  const meta = session.meta.find((s) => s.id === STEPS[index]);
  return (
    <main>
      <h1>Onboarding</h1>
      <StepForm key={meta.id} meta={meta} session={session} onStale={stale} onSaved={(version) => {
        setSession({ ...session, version });
        setIndex(index + 1);
      }} />
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
