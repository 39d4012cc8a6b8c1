// The onboarding wizard page. Everything about the fields (labels, help, options, limits) comes
// from the rules package's `steps(locale)` metadata; every keystroke is checked by the same
// package the server runs (`validateStep`), so the messages here are the server's messages.
// Drafts autosave to the server (debounced, `If-Match`); a copy of unsaved edits stays in
// localStorage until the server has them. No framework: plain ES modules and the DOM.
import init, { steps as stepsMeta, validateStep, validateWizard, preview, rulesVersion } from '/pkg/index.js';

const MODE = document.querySelector('meta[name="onboarding-mode"]')?.getAttribute('content') ?? 'production';
const SAVE_DELAY_MS = 600;
const MAX_RETRY_MS = 30_000;

/** The page's own words; every field's words come from the rules' metadata. */
const UI = {
  es: {
    loading: 'Cargando…', next: 'Siguiente', back: 'Atrás', skip: 'Omitir este paso', submit: 'Crear mi organización',
    step: (i, n) => `Paso ${i} de ${n}`, steps: 'Pasos',
    saved: 'Guardado', saving: 'Guardando…', unsaved: 'Cambios sin guardar',
    fixToContinue: (labels) => `Para continuar, revisa: ${labels}.`,
    fixSteps: 'Antes de crear la organización, corrige estos pasos:',
    offline: (s) => `Sin conexión con el servidor. Tus cambios se guardan en este navegador; reintentamos en ${s} s.`,
    serverError: (s) => `El servidor no responde bien ahora mismo. No se pierde nada; reintentamos en ${s} s.`,
    retryNow: 'Reintentar ahora',
    conflict: 'Este borrador se modificó en otra ventana o dispositivo.',
    loadNewer: 'Cargar la versión más reciente', keepMine: 'Conservar mis cambios',
    restoredLocal: 'Recuperamos cambios que aún no se habían guardado en el servidor.',
    newerLoaded: 'Se cargó la versión más reciente del borrador.',
    sessionGone: 'La sesión de onboarding ya no está abierta.', reload: 'Recargar',
    staleRules: 'Esta página comprueba con reglas antiguas: el servidor usa otras más recientes. Recarga la página para usarlas (no se pierde nada).',
    addObjective: 'Añadir objetivo', removeObjective: 'Quitar objetivo', addKr: 'Añadir resultado clave', removeKr: 'Quitar resultado clave',
    objectiveN: (i) => `Objetivo ${i}`, krN: (i) => `Resultado clave ${i}`,
    emailsHint: 'Una dirección por línea (o separadas por comas).',
    workspace: 'Tu espacio:', workspaceHost: '…/',
    loginTitle: 'Empecemos', loginLead: 'Modo de desarrollo: escribe tu nombre y tu correo para entrar.',
    name: 'Nombre', email: 'Correo electrónico', enter: 'Entrar', signOut: 'Salir',
    badEmail: 'Escribe un correo electrónico válido.',
    noToken: 'Abre esta página desde la aplicación: falta el token de acceso.',
    switchUser: (from, to) => `Este enlace inicia sesión como ${to}, pero ya has iniciado sesión como ${from}. ¿Cambiar de usuario?`,
    expiredToken: 'Tu acceso caducó. Vuelve a entrar.',
    doneTitle: '¡Listo! Tu organización está creada', doneLead: (name) => `Creamos «${name}». Ya puedes empezar a trabajar con tus OKR.`,
    orgSlug: 'Dirección', objectivesCreated: 'Objetivos', invitationsSent: 'Invitaciones',
    invitationsTitle: 'Invitaciones', invitationsNone: 'Aún no has invitado a nadie.',
    invState: { pending: 'Pendiente', accepted: 'Aceptada', revoked: 'Revocada', expired: 'Caducada' },
    delivery: { queued: 'correo en cola', sent: 'correo enviado', failed: 'el correo no se pudo entregar', cancelled: 'correo cancelado' },
    resend: 'Reenviar', revoke: 'Revocar',
    devOutbox: 'Correos pendientes (modo de desarrollo: sin servidor de correo, los enlaces se muestran aquí)',
    acceptTitle: 'Invitación', acceptLead: 'Entra con la dirección de correo a la que llegó la invitación.',
    accepting: 'Aceptando la invitación…', joined: (name, role) => `Te uniste a «${name}» como ${role === 'admin' ? 'administrador/a' : 'miembro'}.`,
    acceptRefused: {
      invitation_expired: 'La invitación caducó. Pide que te la reenvíen.', invitation_revoked: 'La invitación fue revocada.',
      invitation_used: 'Esta invitación ya se aceptó.', invitation_for_another_address: 'Esta invitación es para otra dirección de correo: entra con esa dirección.',
      not_found: 'Este enlace ya no vale (quizá se envió uno más reciente).', bad_request: 'El enlace está incompleto.',
    },
    noInvitation: 'Falta la invitación en el enlace.',
    review: 'Resumen', organization: 'Organización', none: 'ninguno',
    errorsIn: (n) => (n === 1 ? '1 error' : `${n} errores`),
    submitting: 'Creando la organización…',
    serverRefused: 'El servidor encontró problemas en estos campos; los marcamos en cada paso.',
    missingPkg: 'No se pudo cargar el paquete de reglas (¿falta `make pkg`?).',
    suggestions: 'Sugerencias para tu empresa', suggestionsLead: 'Basadas en tu sector y tus objetivos de negocio. Puedes desactivarlas en Preferencias (Asistencia de IA: Ninguna).',
    fromCatalog: 'Del catálogo de plantillas.', fromAi: 'Propuestas por el asistente de IA.', aiFellBack: 'El asistente de IA no respondió; mostramos el catálogo de plantillas.',
    accept: 'Añadir', edit: 'Añadir y editar', dismiss: 'Descartar', noSuggestions: 'No hay más sugerencias.',
  },
  en: {
    loading: 'Loading…', next: 'Next', back: 'Back', skip: 'Skip this step', submit: 'Create my organization',
    step: (i, n) => `Step ${i} of ${n}`, steps: 'Steps',
    saved: 'Saved', saving: 'Saving…', unsaved: 'Unsaved changes',
    fixToContinue: (labels) => `To continue, check: ${labels}.`,
    fixSteps: 'Before creating the organization, fix these steps:',
    offline: (s) => `No connection to the server. Your changes are kept in this browser; retrying in ${s} s.`,
    serverError: (s) => `The server is having trouble right now. Nothing is lost; retrying in ${s} s.`,
    retryNow: 'Retry now',
    conflict: 'This draft was changed in another window or device.',
    loadNewer: 'Load the newer version', keepMine: 'Keep my changes',
    restoredLocal: 'We restored changes that had not reached the server yet.',
    newerLoaded: 'The newer version of the draft was loaded.',
    sessionGone: 'The onboarding session is no longer open.', reload: 'Reload',
    staleRules: 'This page checks with older rules than the server’s. Reload the page to use the current ones (nothing is lost).',
    addObjective: 'Add objective', removeObjective: 'Remove objective', addKr: 'Add key result', removeKr: 'Remove key result',
    objectiveN: (i) => `Objective ${i}`, krN: (i) => `Key result ${i}`,
    emailsHint: 'One address per line (or separated by commas).',
    workspace: 'Your workspace:', workspaceHost: '…/',
    loginTitle: "Let's start", loginLead: 'Development mode: enter your name and e-mail to sign in.',
    name: 'Name', email: 'E-mail', enter: 'Sign in', signOut: 'Sign out',
    badEmail: 'Enter a valid e-mail address.',
    noToken: 'Open this page from the application: the access token is missing.',
    switchUser: (from, to) => `This link signs you in as ${to}, but you are signed in as ${from}. Switch users?`,
    expiredToken: 'Your access expired. Sign in again.',
    doneTitle: 'Done! Your organization is ready', doneLead: (name) => `We created “${name}”. You can start working on your OKRs.`,
    orgSlug: 'Address', objectivesCreated: 'Objectives', invitationsSent: 'Invitations',
    invitationsTitle: 'Invitations', invitationsNone: 'You have not invited anyone yet.',
    invState: { pending: 'Pending', accepted: 'Accepted', revoked: 'Revoked', expired: 'Expired' },
    delivery: { queued: 'e-mail queued', sent: 'e-mail sent', failed: 'e-mail could not be delivered', cancelled: 'e-mail cancelled' },
    resend: 'Resend', revoke: 'Revoke',
    devOutbox: 'Pending e-mails (development mode: without a mail server, the links show here)',
    acceptTitle: 'Invitation', acceptLead: 'Sign in with the e-mail address the invitation was sent to.',
    accepting: 'Accepting the invitation…', joined: (name, role) => `You joined “${name}” as ${role === 'admin' ? 'an admin' : 'a member'}.`,
    acceptRefused: {
      invitation_expired: 'The invitation has expired. Ask for it to be sent again.', invitation_revoked: 'The invitation was revoked.',
      invitation_used: 'This invitation has already been accepted.', invitation_for_another_address: 'This invitation is for another e-mail address: sign in with that address.',
      not_found: 'This link no longer works (a newer one may have been sent).', bad_request: 'The link is incomplete.',
    },
    noInvitation: 'The link carries no invitation.',
    review: 'Summary', organization: 'Organization', none: 'none',
    errorsIn: (n) => (n === 1 ? '1 error' : `${n} errors`),
    submitting: 'Creating the organization…',
    serverRefused: 'The server found problems in these fields; they are marked on each step.',
    missingPkg: 'The rules package could not be loaded (is `make pkg` missing?).',
    suggestions: 'Suggestions for your company', suggestionsLead: 'Based on your industry and business goals. You can turn them off in Preferences (AI assistance: None).',
    fromCatalog: 'From the template catalog.', fromAi: 'Proposed by the AI assistant.', aiFellBack: 'The AI assistant did not answer; showing the template catalog.',
    accept: 'Add', edit: 'Add and edit', dismiss: 'Dismiss', noSuggestions: 'No more suggestions.',
  },
};

const S = {
  locale: localStorage.getItem('onboarding:locale') === 'en' ? 'en' : 'es',
  meta: [],
  token: null,
  user: null, // { sub, email }
  version: null,
  draft: {},
  completed: [],
  index: 0,
  touched: new Set(), // field paths the user has left (or that came filled from the server)
  dirty: new Set(), // steps with edits the server does not have yet
  saving: false,
  conflict: false,
  gone: false,
  retryMs: 1000,
  retryTimer: null,
  offlineNotice: false,
  saveTimer: null,
  serverIssues: null, // issues from a 422, shown until the field is edited
  suggestions: undefined, // the objectives step's suggestions: undefined = not asked yet
};

const t = () => UI[S.locale];
const $ = (sel, root = document) => root.querySelector(sel);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** `objectives.objectives[1].title` → a valid, unique element id. */
const idFor = (path) => 'f-' + path.replace(/[^A-Za-z0-9_]+/g, '-');

// ---------------------------------------------------------------------------------------------
// Auth and HTTP

/** The invitation link's page: its `#token=` is an invitation, not a sign-in token. */
const ACCEPT_PATH = '/invitations/accept';

function readToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const incoming = location.pathname === ACCEPT_PATH ? null : hash.get('token');
  if (incoming) {
    history.replaceState(null, '', location.pathname + location.search);
    // A link must not silently replace the signed-in user (a link from someone else would make
    // the user fill in their onboarding as that someone): ask first.
    const current = sessionStorage.getItem('onboarding:token') || (MODE === 'dev' ? localStorage.getItem('onboarding:dev-token') : null);
    const was = current && claims(current);
    const now = claims(incoming);
    if (!was || was.sub === now?.sub || confirm(t().switchUser(was.email || was.sub, now?.email || now?.sub || '?'))) {
      sessionStorage.setItem('onboarding:token', incoming);
      if (MODE === 'dev') localStorage.removeItem('onboarding:dev-token');
    }
  }
  return window.ONBOARDING_TOKEN || sessionStorage.getItem('onboarding:token') || (MODE === 'dev' ? localStorage.getItem('onboarding:dev-token') : null);
}

function claims(token) {
  try {
    const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(escape(atob(b64)));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

class HttpError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Authorization: `Bearer ${S.token}`, ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, init); // a network failure throws TypeError
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.status === 401) signOut(t().expiredToken);
  if (!res.ok) throw new HttpError(res.status, json);
  return { status: res.status, body: json, etag: res.headers.get('ETag') };
}

function signOut(message) {
  localStorage.removeItem('onboarding:dev-token');
  sessionStorage.removeItem('onboarding:token');
  S.token = null;
  renderLogin(message);
}

// ---------------------------------------------------------------------------------------------
// Local copy of unsaved edits (survives a reload while offline)

const localKey = () => `onboarding:unsaved:${S.user?.sub}`;

function persistLocal() {
  if (!S.user) return;
  if (S.dirty.size === 0) localStorage.removeItem(localKey());
  else localStorage.setItem(localKey(), JSON.stringify({ version: S.version, draft: S.draft, dirty: [...S.dirty] }));
}

function restoreLocal() {
  try {
    const saved = JSON.parse(localStorage.getItem(localKey()) || 'null');
    if (!saved || !Array.isArray(saved.dirty) || saved.dirty.length === 0) return false;
    if (saved.version !== S.version) {
      localStorage.removeItem(localKey());
      notice(t().newerLoaded);
      return false;
    }
    for (const step of saved.dirty) {
      if (saved.draft?.[step] !== undefined) {
        S.draft[step] = saved.draft[step];
        S.dirty.add(step);
      }
    }
    notice(t().restoredLocal);
    return S.dirty.size > 0;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Notices and save state

function notice(text, { error = false, actions = [], kind = '' } = {}) {
  const el = $('#notice');
  // The same notice again (a retry countdown): update its words, keep its buttons in place.
  if (kind && !el.hidden && el.dataset.kind === kind && el.firstChild?.nodeType === Node.TEXT_NODE) {
    el.firstChild.textContent = text;
    return;
  }
  el.dataset.kind = kind;
  el.replaceChildren(text, ...actions.map(([label, fn]) => h('button', { type: 'button', class: 'secondary', onclick: fn, text: label })));
  el.className = error ? 'notice error' : 'notice';
  el.hidden = false;
}

function clearNotice() {
  const el = $('#notice');
  el.hidden = true;
  el.replaceChildren();
}

function showSaveState() {
  const el = $('#savestate');
  if (!el) return;
  el.textContent = S.saving ? t().saving : S.dirty.size ? t().unsaved : S.version ? t().saved : '';
}

// ---------------------------------------------------------------------------------------------
// Autosave: one request at a time, debounced, with the session version in If-Match

function scheduleSave(step) {
  S.dirty.add(step);
  persistLocal();
  showSaveState();
  clearTimeout(S.saveTimer);
  S.saveTimer = setTimeout(flush, SAVE_DELAY_MS);
}

async function flush() {
  clearTimeout(S.saveTimer);
  if (S.saving || S.conflict || S.gone || !S.token) return;
  const step = S.dirty.values().next().value;
  if (!step) return;
  S.saving = true;
  S.dirty.delete(step);
  showSaveState();
  let again = true;
  try {
    const res = await api('PUT', `/api/onboarding/steps/${step}?locale=${S.locale}`, S.draft[step] ?? {}, { 'If-Match': `"${S.version}"` });
    S.version = res.body.version;
    S.completed = res.body.completed_steps;
    S.retryMs = 1000;
    if (S.offlineNotice) clearNotice();
    S.offlineNotice = false;
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    renderProgress();
  } catch (e) {
    S.dirty.add(step);
    again = false;
    if (e instanceof HttpError && e.status === 412) {
      S.conflict = true;
      notice(t().conflict, { error: true, actions: [[t().loadNewer, loadNewer], [t().keepMine, () => keepMine(e.problem?.current_version)]] });
    } else if (e instanceof HttpError && e.status === 409) {
      S.gone = true;
      notice(t().sessionGone, { error: true, actions: [[t().reload, () => location.reload()]] });
    } else if (e instanceof HttpError && e.status === 401) {
      // signOut already showed the login
    } else if (e instanceof HttpError && e.status < 500 && e.status !== 408 && e.status !== 429) {
      notice(e.message, { error: true });
    } else {
      retryLater(e instanceof HttpError ? t().serverError : t().offline);
    }
  } finally {
    S.saving = false;
    persistLocal();
    showSaveState();
    if (again && S.dirty.size) flush();
  }
}

function retryLater(message) {
  const wait = S.retryMs;
  S.retryMs = Math.min(S.retryMs * 2, MAX_RETRY_MS);
  notice(message(Math.round(wait / 1000)), { error: true, kind: 'retry', actions: [[t().retryNow, () => flush()]] });
  S.offlineNotice = true;
  clearTimeout(S.retryTimer);
  S.retryTimer = setTimeout(() => {
    S.retryTimer = null;
    flush();
  }, wait);
}

/** Waits until every edit reached the server (or a save failed). */
async function settle() {
  for (let i = 0; i < 100 && (S.dirty.size || S.saving) && !S.conflict && !S.gone && !S.retryTimer; i++) {
    if (!S.saving) await flush();
    else await new Promise((r) => setTimeout(r, 50));
  }
  return S.dirty.size === 0 && !S.saving;
}

async function loadNewer() {
  S.conflict = false;
  S.dirty.clear();
  persistLocal();
  clearNotice();
  await boot();
}

function keepMine(current) {
  if (typeof current === 'number') S.version = current;
  S.conflict = false;
  clearNotice();
  flush();
}

// ---------------------------------------------------------------------------------------------
// Start-up

/**
 * After a deploy, a browser may still hold the previous package: its checks would then disagree
 * with the server's. The server names its rules with every status and report; on a mismatch the
 * page says so and offers a reload (the package is served with an ETag and `no-cache`, so a reload
 * revalidates it and gets the server's).
 */
function checkRules(serverVersion) {
  if (!serverVersion || serverVersion === rulesVersion()) return true;
  notice(t().staleRules, { error: true, kind: 'stale-rules', actions: [[t().reload, () => location.reload()]] });
  return false;
}

async function boot() {
  const main = $('#app');
  main.replaceChildren(h('p', { class: 'loading', text: t().loading }));
  const status = (await api('GET', '/api/onboarding/status')).body;
  checkRules(status.rules_version);
  if (status.status === 'completed') return renderDone(await organizationOf(status.organization_id));
  let session = status;
  if (status.status !== 'in_progress') session = (await api('POST', '/api/onboarding/start', {})).body;
  S.version = session.version;
  S.completed = session.completed_steps ?? [];
  S.draft = session.draft && typeof session.draft === 'object' ? session.draft : {};
  S.gone = false;
  // What came from the server was typed before: show its problems straight away.
  for (const step of Object.keys(S.draft)) revealStep(step);
  restoreLocal();
  const current = S.meta.findIndex((s) => s.id === session.current_step);
  S.index = current >= 0 ? current : S.meta.length - 1;
  renderStep();
  if (S.dirty.size) flush();
}

async function organizationOf(id) {
  try {
    return (await api('GET', `/api/organizations/${id}`)).body;
  } catch {
    return null;
  }
}

function revealStep(step) {
  const data = S.draft[step];
  if (!data || typeof data !== 'object') return;
  for (const key of Object.keys(data)) S.touched.add(`${step}.${key}`);
  for (const [i, o] of (Array.isArray(data.objectives) ? data.objectives : []).entries()) {
    for (const key of Object.keys(o ?? {})) S.touched.add(`${step}.objectives[${i}].${key}`);
    for (const [j, kr] of (Array.isArray(o?.key_results) ? o.key_results : []).entries()) {
      for (const key of Object.keys(kr ?? {})) S.touched.add(`${step}.objectives[${i}].key_results[${j}].${key}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering the wizard from metadata

function ctx() {
  return { locale: S.locale, self_email: S.user?.email };
}

function stepMeta() {
  return S.meta[S.index];
}

function stepData(step) {
  if (!S.draft[step] || typeof S.draft[step] !== 'object' || Array.isArray(S.draft[step])) S.draft[step] = {};
  return S.draft[step];
}

function renderProgress() {
  const nav = $('#progress');
  if (!nav) return;
  const reachable = Math.max(S.index, ...S.meta.map((s, i) => (S.completed.includes(s.id) ? i + 1 : 0)));
  nav.replaceChildren(
    ...S.meta.map((s, i) =>
      h('li', {}, h('button', {
        type: 'button',
        class: S.completed.includes(s.id) ? 'done' : null,
        'aria-current': i === S.index ? 'step' : null,
        disabled: i > reachable,
        text: `${i + 1}. ${s.title}`,
        onclick: () => go(i),
      })),
    ),
  );
}

function go(index) {
  if (index !== S.index) S.suggestions = undefined; // asked again on the next visit
  S.index = index;
  renderStep();
  flush();
}

function renderStep() {
  const meta = stepMeta();
  const data = stepData(meta.id);
  document.title = `${meta.title} · Onboarding`;
  const form = h('form', { novalidate: true, id: 'wizard', 'aria-labelledby': 'step-title', onsubmit: (e) => e.preventDefault() });
  for (const field of meta.fields) {
    if (field.kind === 'list') form.append(renderList(meta.id, `${meta.id}.${field.name}`, field, data));
    else form.append(renderField(meta.id, `${meta.id}.${field.name}`, field, data));
  }
  if (meta.id === 'review') form.append(renderSummary());
  if (meta.id === 'objectives') form.prepend(renderSuggestions());
  const last = S.index === S.meta.length - 1;
  const actions = h('div', { class: 'actions' },
    S.index > 0 ? h('button', { type: 'button', class: 'secondary', id: 'back', text: t().back, onclick: () => go(S.index - 1) }) : null,
    meta.skippable ? h('button', { type: 'button', class: 'secondary', id: 'skip', text: t().skip, onclick: () => skip(meta.id) }) : null,
    last
      ? h('button', { type: 'button', class: 'primary', id: 'submit', text: t().submit, onclick: submit })
      : h('button', { type: 'button', class: 'primary', id: 'next', text: t().next, onclick: () => go(S.index + 1) }),
    h('span', { id: 'savestate', class: 'savestate', 'aria-live': 'polite' }),
    h('p', { id: 'blocking', class: 'blocking', 'aria-live': 'polite' }),
  );
  form.append(actions);
  const main = $('#app');
  main.replaceChildren(
    h('ol', { class: 'progress', id: 'progress', 'aria-label': t().steps }),
    h('div', { class: 'card' },
      h('p', { class: 'lead', text: t().step(S.index + 1, S.meta.length) }),
      h('h1', { id: 'step-title', text: meta.title }),
      h('p', { class: 'lead', text: meta.description }),
      form,
    ),
    h('p', {}, h('button', { type: 'button', class: 'link', id: 'signout', text: t().signOut, onclick: () => signOut() })),
  );
  renderProgress();
  showSaveState();
  check();
  main.focus();
}

/** The ids that describe a field's control: its help (if any) and its messages. */
const describedBy = (id, field) => [field.help ? `${id}-help` : null, `${id}-msg`].filter(Boolean).join(' ');

function labelled(path, field, control, extra = []) {
  const id = idFor(path);
  control.id = id;
  control.setAttribute('aria-describedby', describedBy(id, field));
  control.dataset.path = path;
  if (field.required) control.setAttribute('aria-required', 'true');
  return h('div', { class: 'field', 'data-field': path },
    h('label', { for: id }, field.label, field.required ? h('span', { class: 'req', 'aria-hidden': 'true', text: '*' }) : null),
    control,
    field.help ? h('p', { class: 'help', id: `${id}-help`, text: field.help }) : null,
    ...extra,
    h('p', { class: 'msg', id: `${id}-msg`, 'data-msg': path }),
  );
}

function group(path, field, controls, extra = []) {
  const id = idFor(path);
  return h('fieldset', { class: 'field choices', id, 'data-field': path, 'aria-describedby': describedBy(id, field) },
    h('legend', {}, field.label, field.required ? h('span', { class: 'req', 'aria-hidden': 'true', text: '*' }) : null),
    ...controls,
    field.help ? h('p', { class: 'help', id: `${id}-help`, text: field.help }) : null,
    ...extra,
    h('p', { class: 'msg', id: `${id}-msg`, 'data-msg': path }),
  );
}

/** Writes a field's value into the draft (absent when empty) and re-checks. */
function update(step, obj, name, value, path) {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0 && name !== 'objectives')) delete obj[name];
  else obj[name] = value;
  if (S.serverIssues) S.serverIssues = S.serverIssues.filter((i) => !i.path.startsWith(path));
  scheduleSave(step);
  check();
}

function touch(path) {
  if (!S.touched.has(path)) {
    S.touched.add(path);
    check();
  }
}

function renderField(step, path, field, obj) {
  const value = obj[field.name];
  const onInput = (read) => (e) => update(step, obj, field.name, read(e.target), path);
  // Leaving a field shows its issues, unless the focus goes to a button: a message appearing
  // then would move the button away from under the pointer mid-click.
  const onLeave = (e) => {
    if (e.relatedTarget?.tagName !== 'BUTTON') touch(path);
  };
  switch (field.kind) {
    case 'enum':
    case 'country': {
      if (value === undefined && field.default !== undefined) obj[field.name] = field.default;
      if (field.name === 'language' && value === undefined) obj[field.name] = S.locale;
      const current = obj[field.name];
      const select = h('select', { onchange: onInput((el) => el.value), onblur: onLeave },
        h('option', { value: '', text: '—' }),
        ...field.options.map((o) => h('option', { value: o.value, selected: o.value === current, text: o.label })),
      );
      if (current !== value) scheduleSave(step);
      return labelled(path, field, select);
    }
    case 'timezone': {
      if (value === undefined) {
        const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (field.options.some((o) => o.value === local)) {
          obj[field.name] = local;
          scheduleSave(step);
        }
      }
      const listId = `${idFor(path)}-list`;
      const input = h('input', { type: 'text', list: listId, autocomplete: 'off', spellcheck: 'false', value: obj[field.name] ?? '', placeholder: field.placeholder || null, oninput: onInput((el) => el.value), onblur: onLeave });
      return labelled(path, field, input, [h('datalist', { id: listId }, ...field.options.map((o) => h('option', { value: o.value })))]);
    }
    case 'enum_set': {
      const chosen = new Set(Array.isArray(value) ? value : []);
      const boxes = field.options.map((o) =>
        h('label', {}, h('input', {
          type: 'checkbox', value: o.value, checked: chosen.has(o.value), 'data-path': path,
          onchange: (e) => {
            const all = [...e.target.closest('fieldset').querySelectorAll('input:checked')].map((b) => b.value);
            update(step, obj, field.name, all, path);
            touch(path);
          },
        }), o.label),
      );
      return group(path, field, boxes);
    }
    case 'boolean': {
      const box = h('input', { type: 'checkbox', checked: value === true, onchange: (e) => { update(step, obj, field.name, e.target.checked, path); touch(path); } });
      const id = idFor(path);
      box.id = id;
      box.dataset.path = path;
      box.setAttribute('aria-describedby', describedBy(id, field));
      return h('div', { class: 'field', 'data-field': path },
        h('label', { for: id, class: 'check' }, box, ' ', field.label),
        field.help ? h('p', { class: 'help', id: `${id}-help`, text: field.help }) : null,
        h('p', { class: 'msg', id: `${id}-msg`, 'data-msg': path }),
      );
    }
    case 'email_list': {
      const text = Array.isArray(value) ? value.join('\n') : '';
      const area = h('textarea', { rows: 3, spellcheck: 'false', placeholder: field.placeholder || null, oninput: onInput((el) => el.value.split(/[\s,;]+/).filter(Boolean)), onblur: onLeave });
      area.value = text;
      return labelled(path, field, area, [h('p', { class: 'help', text: t().emailsHint })]);
    }
    case 'multiline': {
      const area = h('textarea', { rows: 4, placeholder: field.placeholder || null, maxlength: field.max_length ? field.max_length * 2 : null, oninput: onInput((el) => el.value), onblur: onLeave });
      area.value = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
      return labelled(path, field, area);
    }
    default: {
      // text, url, integer, number: the rules get the text as typed (they coerce "42").
      const numeric = field.kind === 'integer' || field.kind === 'number';
      const input = h('input', {
        type: 'text',
        inputmode: field.kind === 'integer' ? 'numeric' : field.kind === 'number' ? 'decimal' : field.kind === 'url' ? 'url' : null,
        autocomplete: field.name === 'full_name' ? 'name' : field.name === 'job_title' ? 'organization-title' : field.name === 'company_name' ? 'organization' : field.kind === 'url' ? 'url' : null,
        placeholder: field.placeholder || null,
        value: value === undefined || value === null ? '' : String(value),
        oninput: onInput((el) => el.value),
        onblur: onLeave,
      });
      const extra = [];
      if (step === 'company' && field.name === 'company_name') {
        extra.push(h('p', { class: 'slug', id: 'slug', 'aria-live': 'polite' }));
      }
      if (numeric) input.setAttribute('data-numeric', field.kind);
      return labelled(path, field, input, extra);
    }
  }
}

function newItem(fields) {
  const item = {};
  for (const f of fields) {
    if (f.kind === 'list') item[f.name] = [newItem(f.item_fields)];
    else if (f.default !== undefined && f.kind === 'enum') item[f.name] = f.default;
  }
  return item;
}

function renderList(step, path, field, obj) {
  if (!Array.isArray(obj[field.name])) obj[field.name] = [];
  const list = obj[field.name];
  const isKr = field.name === 'key_results';
  const id = idFor(path);
  const box = h('fieldset', { class: 'field list', id, 'data-field': path, 'aria-describedby': `${id}-help ${id}-msg` },
    h('legend', {}, field.label),
    h('p', { class: 'help', id: `${id}-help`, text: field.help }),
  );
  list.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    const itemBox = h('fieldset', { class: 'item', 'data-item': itemPath }, h('legend', { text: isKr ? t().krN(i + 1) : t().objectiveN(i + 1) }));
    for (const f of field.item_fields) {
      if (f.kind === 'list') itemBox.append(renderList(step, `${itemPath}.${f.name}`, f, item));
      else itemBox.append(renderField(step, `${itemPath}.${f.name}`, f, item));
    }
    itemBox.append(h('button', {
      type: 'button', class: 'link', 'data-remove': itemPath,
      text: `${isKr ? t().removeKr : t().removeObjective} ${i + 1}`,
      onclick: () => {
        list.splice(i, 1);
        S.touched.add(path);
        scheduleSave(step);
        rerender(`#${CSS.escape(id)} [data-add]`);
      },
    }));
    box.append(itemBox);
  });
  if (list.length < (field.max_items ?? Infinity)) {
    box.append(h('button', {
      type: 'button', class: 'secondary', 'data-add': path,
      text: isKr ? t().addKr : t().addObjective,
      onclick: () => {
        list.push(newItem(field.item_fields));
        scheduleSave(step);
        const next = `${path}[${list.length - 1}]`;
        rerender(`[data-item="${next}"] input, [data-item="${next}"] select, [data-item="${next}"] textarea`);
      },
    }));
  }
  box.append(h('p', { class: 'msg', id: `${id}-msg`, 'data-msg': path }));
  return box;
}

/** Re-renders the step (after a list changed shape) and moves the focus to `focusSel`. */
function rerender(focusSel) {
  renderStep();
  const target = focusSel && $(focusSel);
  (target || $('#wizard input, #wizard select, #wizard textarea'))?.focus();
}

function skip(step) {
  S.draft[step] = { objectives: [] };
  scheduleSave(step);
  go(S.index + 1);
}

function renderSummary() {
  const p = preview(S.draft, ctx());
  const company = S.draft.company ?? {};
  const objectives = Array.isArray(S.draft.objectives?.objectives) ? S.draft.objectives.objectives.length : 0;
  const invites = Array.isArray(S.draft.review?.invite_emails) ? S.draft.review.invite_emails.length : 0;
  const stepTitle = (id) => S.meta.find((s) => s.id === id)?.title ?? id;
  return h('section', { class: 'summary', 'aria-labelledby': 'summary-title' },
    h('h2', { id: 'summary-title', text: t().review }),
    h('dl', {},
      h('dt', { text: t().organization }), h('dd', { text: typeof company.company_name === 'string' ? company.company_name : '—' }),
      h('dt', { text: t().orgSlug }), h('dd', { text: p.slug ? `${t().workspaceHost}${p.slug}` : '—' }),
      h('dt', { text: stepTitle('objectives') }), h('dd', { text: objectives ? String(objectives) : t().none }),
      h('dt', { text: t().invitationsSent }), h('dd', { id: 'invite-count', text: String(invites) }),
    ),
    h('div', { id: 'other-steps' }),
  );
}

// ---------------------------------------------------------------------------------------------
// Suggestions (objectives step): only when the user's AI level is not `none`; with `none` the
// endpoint is never called.

function aiLevel() {
  return S.draft.preferences?.ai_assistance_level;
}

function renderSuggestions() {
  const box = h('section', { class: 'suggestions', id: 'suggestions', 'aria-labelledby': 'suggestions-title' });
  if (aiLevel() === 'none') {
    box.hidden = true;
    return box;
  }
  if (S.suggestions === undefined) {
    S.suggestions = null; // asked: one request per visit of the step
    api('GET', `/api/onboarding/suggestions?step=objectives&locale=${S.locale}`)
      .then((res) => {
        S.suggestions = res.body;
        fillSuggestions();
      })
      .catch(() => {
        S.suggestions = { suggestions: [] }; // suggestions are optional: say nothing
        fillSuggestions();
      });
  }
  queueMicrotask(fillSuggestions);
  return box;
}

function fillSuggestions() {
  const box = $('#suggestions');
  if (!box || !S.suggestions) return;
  const list = S.suggestions.suggestions ?? [];
  const source = S.suggestions.fallback ? t().aiFellBack : S.suggestions.source === 'ai' ? t().fromAi : t().fromCatalog;
  const full = (S.draft.objectives?.objectives?.length ?? 0) >= 5;
  box.replaceChildren(
    ...[
    h('h2', { id: 'suggestions-title', text: t().suggestions }),
    h('p', { class: 'help', text: `${t().suggestionsLead} ${source}` }),
    list.length === 0 ? h('p', { class: 'help', text: t().noSuggestions }) : null,
    ...list.map((s) => h('article', { class: 'suggestion', 'data-suggestion': s.id, 'aria-labelledby': `sug-${s.id}` },
      h('h3', { id: `sug-${s.id}`, text: s.objective.title }),
      h('ul', {}, ...s.objective.key_results.map((k) => h('li', { text: `${k.title}: ${k.baseline} → ${k.target}${k.unit ? ` ${k.unit}` : ''}` }))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', 'data-accept': s.id, disabled: full, text: t().accept, onclick: () => take(s, 'accepted') }),
        h('button', { type: 'button', class: 'secondary', 'data-edit': s.id, disabled: full, text: t().edit, onclick: () => take(s, 'edited') }),
        h('button', { type: 'button', class: 'link', 'data-dismiss': s.id, text: t().dismiss, onclick: () => choose(s, 'dismissed') }),
      ),
    )),
    ].filter(Boolean),
  );
}

/** Records the user's choice on the server (it follows them to other devices). */
function choose(suggestion, action) {
  S.suggestions.suggestions = S.suggestions.suggestions.filter((s) => s.id !== suggestion.id);
  api('POST', `/api/onboarding/suggestions/${suggestion.id}/feedback`, { action }).catch(() => {});
  fillSuggestions();
}

/** Adds a suggested objective to the draft (numbers as the inputs show them). */
function take(suggestion, action) {
  const data = stepData('objectives');
  if (!Array.isArray(data.objectives)) data.objectives = [];
  const o = suggestion.objective;
  data.objectives.push({
    title: o.title,
    ...(o.description ? { description: o.description } : {}),
    key_results: o.key_results.map((k) => ({
      title: k.title, metric_type: k.metric_type, baseline: String(k.baseline), target: String(k.target),
      ...(k.unit ? { unit: k.unit } : {}),
    })),
  });
  choose(suggestion, action);
  scheduleSave('objectives');
  const index = data.objectives.length - 1;
  rerender(action === 'edited' ? id2sel(`objectives.objectives[${index}].title`) : `[data-item="objectives.objectives[${index}]"] input`);
}

const id2sel = (path) => `#${idFor(path)}`;

// ---------------------------------------------------------------------------------------------
// Checking: the package's report, shown under each field

function issuesFor(step) {
  const report = validateStep(step, S.draft[step] ?? {}, ctx());
  const server = (S.serverIssues ?? []).filter((i) => i.path.startsWith(`${step}.`) && !report.issues.some((r) => r.path === i.path && r.code === i.code));
  return { report, issues: [...report.issues, ...server] };
}

/** The element that shows an issue: the field itself, or its list / e-mail list. */
function containerOf(path) {
  let p = path;
  while (p) {
    if (document.querySelector(`[data-msg="${CSS.escape(p)}"]`)) return p;
    const cut = Math.max(p.lastIndexOf('['), p.lastIndexOf('.'));
    if (cut <= 0) return null;
    p = p.slice(0, cut);
  }
  return null;
}

function check() {
  const meta = stepMeta();
  if (!meta || !$('#wizard')) return;
  const { report, issues } = issuesFor(meta.id);
  const byField = new Map();
  for (const issue of issues) {
    const at = containerOf(issue.path);
    if (!at) continue;
    if (!byField.has(at)) byField.set(at, []);
    byField.get(at).push(issue);
  }
  for (const msg of document.querySelectorAll('[data-msg]')) {
    const path = msg.dataset.msg;
    const list = byField.get(path) ?? [];
    const visible = S.touched.has(path) || list.some((i) => S.serverIssues?.includes(i));
    const shown = visible ? list : [];
    msg.replaceChildren(...shown.map((i) => {
      const index = /\[(\d+)\]$/.exec(i.path);
      const value = index ? valueAt(i.path) : null;
      return h('span', { class: i.severity, 'data-code': i.code, text: typeof value === 'string' ? `${value}: ${i.message}` : i.message });
    }));
    const hasError = shown.some((i) => i.severity === 'error');
    for (const control of document.querySelectorAll(`[data-path="${CSS.escape(path)}"]`)) {
      if (hasError) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
  }
  const errors = issues.filter((i) => i.severity === 'error');
  const blocking = $('#blocking');
  const labels = [...new Set(errors.map((i) => labelOf(containerOf(i.path) ?? i.path)))];
  blocking.textContent = errors.length ? t().fixToContinue(labels.join(', ')) : '';
  const next = $('#next');
  if (next) next.disabled = errors.length > 0;
  if (meta.id === 'company') {
    const slug = $('#slug');
    const s = preview(S.draft, ctx()).slug;
    if (slug) slug.replaceChildren(...(s ? [t().workspace, ' ', h('strong', { text: `${t().workspaceHost}${s}` })] : []));
  }
  if (meta.id === 'review') checkWizard(report);
}

/** On the review step: the other steps' errors, with a way to get there. */
function checkWizard(reviewReport) {
  const whole = validateWizard(S.draft, ctx());
  const byStep = new Map();
  for (const i of whole.issues) {
    const step = i.path.split('.')[0];
    if (i.severity !== 'error' || step === 'review') continue;
    byStep.set(step, (byStep.get(step) ?? 0) + 1);
  }
  const box = $('#other-steps');
  box.replaceChildren(...(byStep.size
    ? [h('p', { text: t().fixSteps }), h('ul', {}, ...[...byStep].map(([step, n]) => {
      const index = S.meta.findIndex((s) => s.id === step);
      return h('li', {}, h('button', { type: 'button', class: 'link', 'data-goto': step, text: `${S.meta[index].title} (${t().errorsIn(n)})`, onclick: () => { revealStep(step); go(index); } }));
    }))]
    : []));
  const count = $('#invite-count');
  if (count) count.textContent = String(Array.isArray(S.draft.review?.invite_emails) ? S.draft.review.invite_emails.length : 0);
  const submitButton = $('#submit');
  if (submitButton) submitButton.disabled = !reviewReport.valid || byStep.size > 0;
}

function valueAt(path) {
  let v = S.draft;
  for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[part];
  }
  return v;
}

function labelOf(path) {
  const el = document.querySelector(`[data-field="${CSS.escape(path)}"] > label, [data-field="${CSS.escape(path)}"] > legend`);
  const text = el ? el.firstChild?.textContent ?? el.textContent : path;
  const item = /\[(\d+)\]/.exec(path);
  return item ? `${text} (${Number(item[1]) + 1})` : text;
}

// ---------------------------------------------------------------------------------------------
// Completion

async function submit() {
  const button = $('#submit');
  button.disabled = true;
  $('#blocking').textContent = t().submitting;
  if (!(await settle())) {
    button.disabled = false;
    $('#blocking').textContent = '';
    return;
  }
  // One key per attempt of this draft version: a retry after a lost answer replays the first.
  const key = sessionStorage.getItem(`onboarding:idem:${S.version}`) ?? crypto.randomUUID();
  sessionStorage.setItem(`onboarding:idem:${S.version}`, key);
  try {
    const res = await api('POST', `/api/onboarding/complete?locale=${S.locale}`, undefined, { 'Idempotency-Key': key });
    localStorage.removeItem(localKey());
    renderDone(res.body.organization, res.body);
  } catch (e) {
    if (e instanceof HttpError && e.status === 422 && e.problem?.report) {
      checkRules(e.problem.report.rules_version);
      // The server judged its copy of the draft: show that copy, with its issues.
      const status = (await api('GET', '/api/onboarding/status').catch(() => null))?.body;
      if (status?.status === 'in_progress' && status.draft) {
        S.draft = status.draft;
        S.version = status.version;
        S.completed = status.completed_steps ?? [];
      }
      S.serverIssues = e.problem.report.issues;
      const first = S.serverIssues.find((i) => i.severity === 'error');
      notice(t().serverRefused, { error: true });
      if (first) {
        const step = first.path.split('.')[0];
        revealStep(step);
        go(Math.max(0, S.meta.findIndex((s) => s.id === step)));
      }
    } else if (e instanceof HttpError && e.status < 500) {
      notice(e.message, { error: true });
    } else {
      notice(e instanceof HttpError ? t().serverError(0) : t().offline(0), { error: true, actions: [[t().retryNow, submit]] });
    }
    if ($('#submit')) $('#submit').disabled = false;
  }
}

function renderDone(org, result) {
  clearNotice();
  document.title = 'Onboarding';
  const main = $('#app');
  main.replaceChildren(h('div', { class: 'card', id: 'done' },
    h('h1', { text: t().doneTitle }),
    h('p', { class: 'lead', text: t().doneLead(org?.name ?? '') }),
    h('dl', { class: 'summary' },
      h('dt', { text: t().orgSlug }), h('dd', {}, h('strong', { id: 'org-slug', text: org?.slug ? `${t().workspaceHost}${org.slug}` : '—' })),
      result ? [h('dt', { text: t().objectivesCreated }), h('dd', { text: String(result.objectives ?? 0) })] : null,
      result ? [h('dt', { text: t().invitationsSent }), h('dd', { text: String(result.invitations ?? 0) })] : null,
    ),
    h('section', { id: 'invitations', 'aria-live': 'polite' }),
    MODE === 'dev' ? h('section', { id: 'dev-outbox' }) : null,
    h('p', {}, h('button', { type: 'button', class: 'link', id: 'signout', text: t().signOut, onclick: () => signOut() })),
  ));
  main.focus();
  if (org?.id) showInvitations(org.id).catch(() => {});
}

/** The organization's invitations with their state, for its owners and admins (others get a
 * 403 and see nothing), with resend and revoke; in development mode also the links waiting in
 * the outbox. */
async function showInvitations(orgId) {
  const box = $('#invitations');
  if (!box) return;
  let list;
  try {
    list = (await api('GET', `/api/organizations/${orgId}/invitations`)).body.invitations;
  } catch {
    return;
  }
  const act = (invitation, verb) => async () => {
    const path = `/api/organizations/${orgId}/invitations/${invitation.id}`;
    try {
      await (verb === 'resend' ? api('POST', `${path}/resend`) : api('DELETE', path));
    } catch (e) {
      notice(e.message, { error: true });
    }
    showInvitations(orgId).catch(() => {});
  };
  box.replaceChildren(
    h('h2', { text: t().invitationsTitle }),
    list.length === 0 ? h('p', { class: 'help', text: t().invitationsNone }) : h('ul', { class: 'invitations' },
      ...list.map((i) => h('li', { 'data-email': i.email, 'data-state': i.state },
        h('strong', { text: i.email }), ' ',
        h('span', { class: `state ${i.state}`, text: t().invState[i.state] ?? i.state }),
        i.delivery ? h('span', { class: 'help', text: ` · ${t().delivery[i.delivery] ?? i.delivery}` }) : null,
        i.state === 'pending' || i.state === 'expired' ? h('button', { type: 'button', class: 'link', 'data-resend': i.email, text: t().resend, onclick: act(i, 'resend') }) : null,
        i.state === 'pending' ? h('button', { type: 'button', class: 'link', 'data-revoke': i.email, text: t().revoke, onclick: act(i, 'revoke') }) : null,
      ))),
  );
  const dev = $('#dev-outbox');
  if (!dev) return;
  const outbox = await fetch('/api/dev/outbox').then((r) => (r.ok ? r.json() : { messages: [] }));
  dev.replaceChildren(
    h('h2', { text: t().devOutbox }),
    h('ul', {}, ...outbox.messages.map((m) => h('li', { 'data-to': m.to }, `${m.to}: `, h('a', { href: m.link, text: m.subject })))),
  );
}

/** `/invitations/accept#token=…`: the signed-in user accepts; the token is taken from the
 * fragment once (and kept for this tab only until it is used). */
async function acceptInvitation() {
  const main = $('#app');
  const token = sessionStorage.getItem('onboarding:invitation');
  if (!token) {
    main.replaceChildren(h('div', { class: 'card' }, h('h1', { text: t().acceptTitle }), h('p', { role: 'alert', text: t().noInvitation })));
    return;
  }
  main.replaceChildren(h('p', { class: 'loading', text: t().accepting }));
  try {
    const joined = (await api('POST', '/api/invitations/accept', { token })).body;
    sessionStorage.removeItem('onboarding:invitation');
    const org = await organizationOf(joined.organization_id);
    main.replaceChildren(h('div', { class: 'card', id: 'joined' },
      h('h1', { text: t().acceptTitle }),
      h('p', { class: 'lead', text: t().joined(org?.name ?? '', joined.role) }),
      h('p', {}, h('button', { type: 'button', class: 'link', text: t().signOut, onclick: () => signOut() }))));
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) return;
    const code = e instanceof HttpError ? e.problem?.code : null;
    const known = code && t().acceptRefused[code];
    if (known && code !== 'invitation_for_another_address') sessionStorage.removeItem('onboarding:invitation');
    main.replaceChildren(h('div', { class: 'card', id: 'accept-refused', 'data-code': code ?? '' },
      h('h1', { text: t().acceptTitle }),
      h('p', { role: 'alert', text: known ?? e.message }),
      h('p', {}, h('button', { type: 'button', class: 'link', text: t().signOut, onclick: () => signOut() }))));
  }
}

// ---------------------------------------------------------------------------------------------
// Sign-in (development mode) and language

function renderLogin(message) {
  clearNotice();
  const main = $('#app');
  if (MODE !== 'dev') {
    main.replaceChildren(h('div', { class: 'card' }, h('h1', { text: t().loginTitle }), h('p', { role: 'alert', text: message ?? t().noToken })));
    return;
  }
  const err = h('p', { class: 'msg', id: 'login-msg', role: 'alert' });
  const form = h('form', {
    novalidate: true, id: 'login',
    onsubmit: async (e) => {
      e.preventDefault();
      const name = $('#login-name').value.trim();
      const email = $('#login-email').value.trim();
      try {
        const res = await fetch('/api/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, email }) });
        const body = await res.json().catch(() => null);
        if (!res.ok) {
          err.replaceChildren(h('span', { class: 'error', text: res.status === 400 ? t().badEmail : body?.detail ?? `HTTP ${res.status}` }));
          $('#login-email').setAttribute('aria-invalid', 'true');
          return;
        }
        localStorage.setItem('onboarding:dev-token', body.token);
        localStorage.setItem('onboarding:dev-name', name);
        await signedIn(body.token);
      } catch {
        err.replaceChildren(h('span', { class: 'error', text: t().offline(0) }));
      }
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'login-name', text: t().name }), h('input', { id: 'login-name', type: 'text', autocomplete: 'name', value: localStorage.getItem('onboarding:dev-name') ?? '' })),
  h('div', { class: 'field' }, h('label', { for: 'login-email', text: t().email }), h('input', { id: 'login-email', type: 'email', autocomplete: 'email', 'aria-describedby': 'login-msg' })),
  err,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'login-submit', text: t().enter })));
  main.replaceChildren(h('div', { class: 'card' }, h('h1', { text: t().loginTitle }), h('p', { class: 'lead', text: message ?? t().loginLead }), form));
  $('#login-name').focus();
}

async function signedIn(token) {
  S.token = token;
  const c = claims(token);
  S.user = { sub: c?.sub ?? 'anonymous', email: c?.email };
  S.touched.clear();
  S.dirty.clear();
  if (location.pathname === ACCEPT_PATH) await acceptInvitation().catch(fail);
  else await boot().catch(fail);
}

function fail(e) {
  if (e instanceof HttpError && e.status === 401) return;
  const retry = [t().retryNow, () => boot().catch(fail)];
  notice(e instanceof HttpError ? e.message : t().offline(0), { error: true, actions: [retry] });
}

function setLocale(locale) {
  S.locale = locale;
  localStorage.setItem('onboarding:locale', locale);
  document.documentElement.lang = locale;
  for (const b of document.querySelectorAll('[data-locale]')) b.setAttribute('aria-pressed', String(b.dataset.locale === locale));
  S.meta = stepsMeta(locale);
  S.suggestions = undefined;
  if ($('#wizard')) renderStep();
  else if ($('#login')) renderLogin();
  else if ($('#done') && S.token) boot().catch(fail);
  else if (($('#joined') || $('#accept-refused')) && S.token) acceptInvitation().catch(fail);
}

async function main() {
  for (const b of document.querySelectorAll('[data-locale]')) b.addEventListener('click', () => setLocale(b.dataset.locale));
  try {
    await init();
  } catch {
    $('#app').replaceChildren(h('p', { role: 'alert', text: t().missingPkg }));
    return;
  }
  setLocale(S.locale);
  window.addEventListener('online', () => flush());
  // No "leave the page?" prompt: unsaved edits are already in localStorage and come back.
  window.addEventListener('pagehide', persistLocal);
  if (location.pathname === ACCEPT_PATH) {
    const invitation = new URLSearchParams(location.hash.slice(1)).get('token');
    if (invitation) {
      sessionStorage.setItem('onboarding:invitation', invitation);
      history.replaceState(null, '', location.pathname);
    }
  }
  const token = readToken();
  if (!token) renderLogin(location.pathname === ACCEPT_PATH ? t().acceptLead : undefined);
  else await signedIn(token);
}

main();
