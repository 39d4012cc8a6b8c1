// The page's state, its mode and timings, and small DOM helpers.
import { UI } from './words.js';

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') || null;
export const MODE = meta('onboarding-mode') ?? 'production';
/** The operator's links (TERMS_URL, APP_URL with `{slug}`), or null. */
export const LINKS = { terms: meta('onboarding-terms'), app: meta('onboarding-app') };
export const SAVE_DELAY_MS = 600;
export const MAX_RETRY_MS = 30_000;

export const S = {
  locale: localStorage.getItem('onboarding:locale') === 'en' ? 'en' : 'es',
  meta: [],
  token: null,
  user: null, // { sub, email, name }
  version: null,
  draft: {},
  completed: [],
  index: 0,
  touched: new Set(), // field paths the user has left (or that came filled from the server)
  attempted: new Set(), // steps whose Next was pressed while they had errors
  dirty: new Set(), // steps with edits the server does not have yet
  saving: false,
  savedOnce: false, // whether this page has saved an edit (only then does it say "Saved")
  conflict: false,
  gone: false,
  retryMs: 1000,
  retryTimer: null,
  offlineNotice: false,
  saveTimer: null,
  serverIssues: null, // issues from a 422, shown until the field is edited
  doneCounts: null, // the completion's counts ({ objectives, invitations }) for the done screen
  suggestions: undefined, // the objectives step's suggestions: undefined = not asked yet
};

export const t = () => UI[S.locale];
export const $ = (sel, root = document) => root.querySelector(sel);

export function h(tag, attrs = {}, ...children) {
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

/**
 * The page's modules form layers (state ← http ← autosave ← suggestions, done ← wizard ← app:
 * each imports only those before it; `tests/js/node/web-modules.test.mjs` checks there is no
 * cycle). A lower module asks a higher one to act by an event on `document`: `emit('reload')`,
 * handled where that behaviour lives (`on('reload', …)`).
 */
export const emit = (name, detail) => document.dispatchEvent(new CustomEvent(`onboarding:${name}`, { detail }));
export const on = (name, fn) => document.addEventListener(`onboarding:${name}`, (e) => fn(e.detail));

/** A step's object in the draft, made an object when it is not one. */
export function stepData(step) {
  if (!S.draft[step] || typeof S.draft[step] !== 'object' || Array.isArray(S.draft[step])) S.draft[step] = {};
  return S.draft[step];
}

/** `objectives.objectives[1].title` → a valid, unique element id. */
export const idFor = (path) => 'f-' + path.replace(/[^A-Za-z0-9_]+/g, '-');
