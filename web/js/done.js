// Completion, the organization's invitations, and accepting an invitation.
import { MODE, LINKS, S, t, $, h, emit } from './state.js';
import { HttpError, api, signOut } from './http.js';
import { localKey, notice, clearNotice, settle } from './autosave.js';

// Completion

export async function submit() {
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
      emit('rules-version', e.problem.report.rules_version); // wizard.js compares it with the page's
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
      if (first) emit('show-step', first.path.split('.')[0]); // wizard.js goes there, its issues shown
    } else if (e instanceof HttpError && e.status < 500) {
      notice(e.message, { error: true });
    } else {
      notice(e instanceof HttpError ? t().serverError(0) : t().offline(0), { error: true, actions: [[t().retryNow, submit]] });
    }
    if ($('#submit')) $('#submit').disabled = false;
  }
}

export async function organizationOf(id) {
  try {
    return (await api('GET', `/api/organizations/${id}`)).body;
  } catch {
    return null;
  }
}

export function renderDone(org, result) {
  clearNotice();
  document.title = 'Onboarding';
  const main = $('#app');
  // The product's address for the organization (APP_URL with its slug), when the operator set it.
  const app = LINKS.app && org?.slug ? LINKS.app.replace('{slug}', encodeURIComponent(org.slug)) : null;
  const address = app ?? (org?.slug ? `${t().workspaceHost}${org.slug}` : '—');
  const copy = h('button', {
    type: 'button', class: 'secondary', id: 'copy-address', text: t().copy,
    onclick: async (e) => {
      await navigator.clipboard?.writeText(app ?? org?.slug ?? '').catch(() => {});
      e.target.textContent = t().copied;
    },
  });
  main.replaceChildren(h('div', { class: 'card', id: 'done' },
    h('h1', { text: t().doneTitle }),
    h('p', { class: 'lead', text: t().doneLead(org?.name ?? '') }),
    h('div', { class: 'org-address' },
      h('span', { class: 'help', text: t().orgAddress }),
      h('div', { class: 'address-row' }, h('strong', { id: 'org-address', text: address }), org?.slug ? copy : null),
    ),
    app ? h('p', {}, h('a', { class: 'button primary', id: 'open-app', href: app, text: t().openApp(org?.name ?? '') })) : null,
    h('dl', { class: 'summary' },
      h('dt', { text: t().objectivesCreated }), h('dd', { id: 'done-objectives', text: result ? String(result.objectives ?? 0) : '…' }),
      h('dt', { text: t().invitationsSent }), h('dd', { id: 'done-invitations', text: result ? String(result.invitations ?? 0) : '…' }),
    ),
    h('section', { id: 'invitations', 'aria-live': 'polite' }),
    MODE === 'dev' ? h('details', { id: 'dev-outbox', class: 'dev' }) : null,
    h('p', {}, h('button', { type: 'button', class: 'link', id: 'signout', text: t().signOut, onclick: () => signOut() })),
  ));
  main.focus();
  if (org?.id) {
    if (result) S.doneCounts = { objectives: result.objectives ?? 0, invitations: result.invitations ?? 0 };
    else countsOf(org.id).catch(() => {});
    showInvitations(org.id).catch(() => {});
  }
}

/**
 * The done screen's counts when it is shown again (a reload, a language switch): those of the
 * completion this page made, or read back (objectives for any member; invitations for owners
 * and admins, who may list them).
 */
async function countsOf(orgId) {
  const put = (id, n) => {
    const el = $(`#${id}`);
    if (el) el.textContent = String(n);
  };
  if (S.doneCounts) {
    put('done-objectives', S.doneCounts.objectives);
    put('done-invitations', S.doneCounts.invitations);
    return;
  }
  const objectives = (await api('GET', `/api/organizations/${orgId}/objectives`)).body.objectives;
  put('done-objectives', objectives.length);
  const invitations = await api('GET', `/api/organizations/${orgId}/invitations`).then((r) => r.body.invitations, () => null);
  put('done-invitations', invitations ? invitations.length : '—');
}

/** The organization's invitations with their state, for its owners and admins (others get a
 * 403 and see nothing), with resend and revoke; in development mode also the links waiting in
 * the outbox. */
export async function showInvitations(orgId) {
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
  // Development only, and secondary: the e-mails to this organization's invitees still waiting
  // (without a mail server their links show here), folded away.
  const outbox = await fetch('/api/dev/outbox').then((r) => (r.ok ? r.json() : { messages: [] }));
  const ours = new Set(list.map((i) => i.email));
  dev.replaceChildren(
    h('summary', { text: t().devOutbox }),
    h('ul', {}, ...outbox.messages.filter((m) => ours.has(m.to)).map((m) => h('li', { 'data-to': m.to }, `${m.to}: `, h('a', { href: m.link, text: m.subject })))),
  );
}

/** `/invitations/accept#token=…`: the signed-in user accepts; the token is taken from the
 * fragment once (and kept for this tab only until it is used). */
export async function acceptInvitation() {
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
    // Kept when signing in otherwise (another address, a verified one) can still accept it.
    const retry = ['invitation_for_another_address', 'email_unverified', 'email_unknown'];
    if (known && !retry.includes(code)) sessionStorage.removeItem('onboarding:invitation');
    main.replaceChildren(h('div', { class: 'card', id: 'accept-refused', 'data-code': code ?? '' },
      h('h1', { text: t().acceptTitle }),
      h('p', { role: 'alert', text: known ?? e.message }),
      h('p', {}, h('button', { type: 'button', class: 'link', text: t().signOut, onclick: () => signOut() }))));
  }
}
