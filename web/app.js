// The onboarding wizard page. Everything about the fields (labels, help, options, limits) comes
// from the rules package's `steps(locale)` metadata; every keystroke is checked by the same
// package the server runs (`validateStep`), so the messages here are the server's messages.
// Drafts autosave to the server (debounced, `If-Match`); a copy of unsaved edits stays in
// localStorage until the server has them. No framework: plain ES modules and the DOM.
//
// The page is split by concern into web/js/*.js (served under /js/); this module signs the
// user in, switches the language and starts the page.
import init, { loadSteps } from '/pkg/index.js';
import { MODE, S, t, $, h, on } from './js/state.js';
import { ACCEPT_PATH, readToken, claims, HttpError } from './js/http.js';
import { persistLocal, notice, clearNotice, flush, scheduleSave } from './js/autosave.js';
import { boot, renderStep } from './js/wizard.js';
import { acceptInvitation } from './js/done.js';

// Sign-in (development mode) and language

export function renderLogin(message) {
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
  const invitation = location.pathname === ACCEPT_PATH ? sessionStorage.getItem('onboarding:invitation') : null;
  const about = h('div', { id: 'invitation-preview', 'aria-live': 'polite' });
  main.replaceChildren(h('div', { class: 'card' }, h('h1', { text: invitation ? t().acceptTitle : t().loginTitle }), about, h('p', { class: 'lead', text: message ?? t().loginLead }), form));
  $('#login-name').focus();
  if (invitation) showInvitationPreview(about, invitation).catch(() => {});
}

/**
 * Before sign-in, the invitation's page says what it is for: the organization and who invited
 * (POST /api/invitations/preview with the token, which only its holder has), or that it can no
 * longer be accepted.
 */
async function showInvitationPreview(box, token) {
  const res = await fetch('/api/invitations/preview', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
  const body = await res.json().catch(() => null);
  if (!res.ok || !body) {
    box.replaceChildren(h('p', { class: 'invite-about refused', text: t().acceptRefused.not_found }));
    return;
  }
  const refused = { expired: 'invitation_expired', revoked: 'invitation_revoked', accepted: 'invitation_used' }[body.state];
  box.replaceChildren(
    h('p', { class: 'invite-about', 'data-organization': body.organization }, t().invitedTo(body.inviter, body.organization)),
    refused ? h('p', { class: 'invite-about refused', role: 'alert', text: t().acceptRefused[refused] }) : null,
  );
}

export async function signedIn(token) {
  S.token = token;
  const c = claims(token);
  // The name for the welcome step: the token's (an OpenID provider's `name`), or the one typed
  // at the development sign-in.
  const name = c?.name ?? (MODE === 'dev' ? localStorage.getItem('onboarding:dev-name') : null);
  S.user = { sub: c?.sub ?? 'anonymous', email: c?.email, name };
  S.touched.clear();
  S.dirty.clear();
  if (location.pathname === ACCEPT_PATH) await acceptInvitation().catch(fail);
  else await boot().catch(fail);
}

export function fail(e) {
  if (e instanceof HttpError && e.status === 401) return;
  const retry = [t().retryNow, () => boot().catch(fail)];
  notice(e instanceof HttpError ? e.message : t().offline(0), { error: true, actions: [retry] });
}

/**
 * The page's language, which is also the organization's (the preferences step's `language`,
 * which its e-mails follow): one state. The header's switch writes it into the draft; choosing it
 * in the step switches the page (the `onboarding:locale` event from wizard.js).
 */
export async function setLocale(locale) {
  S.locale = locale;
  const prefs = S.draft?.preferences;
  if ($('#wizard') && prefs && typeof prefs === 'object' && !Array.isArray(prefs) && prefs.language !== locale) {
    prefs.language = locale;
    scheduleSave('preferences');
  }
  localStorage.setItem('onboarding:locale', locale);
  document.documentElement.lang = locale;
  for (const b of document.querySelectorAll('[data-locale]')) b.setAttribute('aria-pressed', String(b.dataset.locale === locale));
  S.meta = await loadSteps(locale);
  S.suggestions = undefined;
  // A re-render moves the focus to the step's first field; a click on the switch keeps it there.
  const onSwitch = document.activeElement?.dataset?.locale !== undefined;
  if ($('#wizard')) {
    renderStep();
    if (onSwitch) $(`[data-locale="${locale}"]`)?.focus();
  } else if ($('#login')) renderLogin();
  else if ($('#done') && S.token) boot().catch(fail);
  else if (($('#joined') || $('#accept-refused')) && S.token) acceptInvitation().catch(fail);
}

export async function main() {
  for (const b of document.querySelectorAll('[data-locale]')) b.addEventListener('click', () => setLocale(b.dataset.locale).catch(fail));
  on('locale', (locale) => {
    if (locale !== S.locale) setLocale(locale).catch(fail);
  });
  on('signed-out', (message) => renderLogin(message));
  on('reload', () => boot().catch(fail));
  try {
    await init();
    await setLocale(S.locale);
  } catch {
    $('#app').replaceChildren(h('p', { role: 'alert', text: t().missingPkg }));
    return;
  }
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
