// Unsaved edits kept locally, notices, and the debounced autosave with If-Match.
import { SAVE_DELAY_MS, MAX_RETRY_MS, S, t, $, h, emit } from './state.js';
import { HttpError, api } from './http.js';

// Local copy of unsaved edits (survives a reload while offline)

export const localKey = () => `onboarding:unsaved:${S.user?.sub}`;

export function persistLocal() {
  if (!S.user) return;
  if (S.dirty.size === 0) localStorage.removeItem(localKey());
  else localStorage.setItem(localKey(), JSON.stringify({ version: S.version, draft: S.draft, dirty: [...S.dirty] }));
}

export function restoreLocal() {
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

export function notice(text, { error = false, actions = [], kind = '' } = {}) {
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

export function clearNotice() {
  const el = $('#notice');
  el.hidden = true;
  el.replaceChildren();
}

export function showSaveState() {
  const el = $('#savestate');
  if (!el) return;
  // "Saved" only once this page has saved something; edits waiting for the connection say so.
  el.textContent = S.saving ? t().saving : S.dirty.size ? (S.retryTimer ? t().waitingToSave : t().unsaved) : S.savedOnce ? t().saved : '';
  el.dataset.state = S.saving ? 'saving' : S.dirty.size ? (S.retryTimer ? 'waiting' : 'unsaved') : S.savedOnce ? 'saved' : '';
}

// ---------------------------------------------------------------------------------------------
// Autosave: one request at a time, debounced, with the session version in If-Match

export function scheduleSave(step) {
  S.dirty.add(step);
  persistLocal();
  showSaveState();
  clearTimeout(S.saveTimer);
  S.saveTimer = setTimeout(flush, SAVE_DELAY_MS);
}

export async function flush() {
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
    S.savedOnce = true;
    S.retryMs = 1000;
    if (S.offlineNotice) clearNotice();
    S.offlineNotice = false;
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    emit('saved'); // the step navigation shows what is complete
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

export function retryLater(message) {
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
export async function settle() {
  for (let i = 0; i < 100 && (S.dirty.size || S.saving) && !S.conflict && !S.gone && !S.retryTimer; i++) {
    if (!S.saving) await flush();
    else await new Promise((r) => setTimeout(r, 50));
  }
  return S.dirty.size === 0 && !S.saving;
}

export async function loadNewer() {
  S.conflict = false;
  S.dirty.clear();
  persistLocal();
  clearNotice();
  emit('reload'); // app.js starts the page again from the server's state
}

export function keepMine(current) {
  if (typeof current === 'number') S.version = current;
  S.conflict = false;
  clearNotice();
  flush();
}
