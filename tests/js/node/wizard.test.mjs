// The wizard page served by the server (`/`), in headless Chromium, against a real server on a
// fresh SQLite database: the whole flow, messages equal to the server's, resume after reload and
// in a second browser, a stale draft (412), offline edits, and keyboard-only completion.
// Screenshots of every step go to artifacts/wizard/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch } from './browser.mjs';
import { createRequire } from 'node:module';
import { root, startDevServer } from './helpers.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const shots = path.join(root, 'artifacts/wizard');
mkdirSync(shots, { recursive: true });

let server;
let base;
let browser;
let dbDir;

before(async () => {
  dbDir = mkdtempSync(path.join(tmpdir(), 'wizard-'));
  ({ server, base } = await startDevServer(`${dbDir}/wizard.db`));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (dbDir) rmSync(dbDir, { recursive: true, force: true });
});

/** A page for a new user (own browser context), signed in through the development form. */
async function signIn(email, { context, timezoneId = 'America/Mexico_City' } = {}) {
  const ctx = context ?? (await browser.newContext({ timezoneId, locale: 'es-MX' }));
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(base);
  await page.fill('#login-name', 'Lucía Pérez');
  await page.fill('#login-email', email);
  await page.click('#login-submit');
  await page.waitForSelector('#wizard');
  return page;
}

const id = (p) => '#f-' + p.replace(/[^A-Za-z0-9_]+/g, '-');
const title = (page) => page.textContent('#step-title');
const saved = (page) => page.waitForFunction(() => document.querySelector('#savestate')?.textContent === 'Guardado' || document.querySelector('#savestate')?.textContent === 'Saved');
const tokenOf = (page) => page.evaluate(() => localStorage.getItem('onboarding:dev-token'));

async function api(page, method, url, body) {
  const res = await fetch(base + url, {
    method,
    headers: { Authorization: `Bearer ${await tokenOf(page)}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

const WELCOME = { full_name: 'Lucía Pérez', job_title: 'Directora de operaciones', experience_with_okr: 'beginner', primary_goal: 'Alinear a todo el equipo con objetivos trimestrales claros.', urgency_level: 'high' };
const COMPANY = { company_name: 'Café Niño & Co.', industry: 'retail', company_size: 'small', employee_count: '25', country: 'MX', website: 'cafenino.mx', description: 'Tostadores de café de especialidad con tres cafeterías en la Ciudad de México.', founded_year: '2015' };

async function fill(page, step, values) {
  for (const [name, value] of Object.entries(values)) {
    const sel = id(`${step}.${name}`);
    const tag = await page.$eval(sel, (el) => el.tagName);
    if (tag === 'FIELDSET') {
      // A short choice shown as cards (radio buttons).
      await page.check(`[data-path="${step}.${name}"][value="${value}"]`);
      continue;
    }
    if (tag === 'SELECT') await page.selectOption(sel, value);
    else await page.fill(sel, value);
    await page.dispatchEvent(sel, 'blur');
  }
}

async function next(page, expectTitle) {
  await page.click('#next');
  await page.waitForFunction((t) => document.querySelector('#step-title')?.textContent === t, expectTitle);
}

test('a user onboards a company from an empty database, in Spanish, through every step', async () => {
  const page = await signIn('lucia@cafenino.mx');
  assert.equal(await title(page), 'Bienvenida');
  await page.screenshot({ path: path.join(shots, '1-welcome-empty.png'), fullPage: true });
  await fill(page, 'welcome', WELCOME);
  assert.equal(await page.isDisabled('#next'), false);
  await page.screenshot({ path: path.join(shots, '1-welcome.png'), fullPage: true });
  await next(page, 'Empresa');

  await fill(page, 'company', COMPANY);
  assert.match(await page.textContent('#slug'), /…\/cafe-nino-co$/);
  await page.screenshot({ path: path.join(shots, '2-company.png'), fullPage: true });
  await next(page, 'Organización');

  await page.selectOption(id('organization.okr_maturity'), 'beginner');
  await page.check('[data-path="organization.current_challenges"][value="focus"]');
  await page.check('[data-path="organization.current_challenges"][value="alignment"]');
  await page.check('[data-path="organization.business_goals"][value="revenue_growth"]');
  await page.screenshot({ path: path.join(shots, '3-organization.png'), fullPage: true });
  await next(page, 'Objetivos');

  // Suggestions arrive first (the panel above the form; the AI level is not chosen yet).
  await page.waitForSelector('[data-suggestion]');
  // Add an objective (it comes with one key result), add a second key result, remove it again.
  await page.click('[data-add="objectives.objectives"]');
  await page.fill(id('objectives.objectives[0].title'), 'Crecer las ventas en línea');
  await page.click('[data-add="objectives.objectives[0].key_results"]');
  assert.equal(await page.locator('[data-item^="objectives.objectives[0].key_results["]').count(), 2);
  await page.click('[data-remove="objectives.objectives[0].key_results[1]"]');
  assert.equal(await page.locator('[data-item^="objectives.objectives[0].key_results["]').count(), 1);
  await page.fill(id('objectives.objectives[0].key_results[0].title'), 'Ventas mensuales en línea');
  await page.selectOption(id('objectives.objectives[0].key_results[0].metric_type'), 'currency');
  await page.fill(id('objectives.objectives[0].key_results[0].target'), '50000');
  await page.fill(id('objectives.objectives[0].key_results[0].unit'), 'MXN');
  await page.screenshot({ path: path.join(shots, '4-objectives.png'), fullPage: true });
  await next(page, 'Preferencias');

  // The time zone comes from the browser, the language from the page.
  assert.equal(await page.inputValue(id('preferences.timezone')), 'America/Mexico_City');
  assert.equal(await page.inputValue(id('preferences.language')), 'es');
  await page.selectOption(id('preferences.communication_style'), 'informal');
  await page.selectOption(id('preferences.notification_frequency'), 'weekly');
  await page.check('[data-path="preferences.focus_areas"][value="strategy"]');
  await page.check('[data-path="preferences.ai_assistance_level"][value="none"]');
  await page.screenshot({ path: path.join(shots, '5-preferences.png'), fullPage: true });
  await next(page, 'Revisión');

  assert.equal(await page.isDisabled('#submit'), true);
  // The review shows every answer first, each step with a way back to edit it.
  const summary = await page.textContent('[data-summary-step="company"]');
  assert.match(summary, /Café Niño & Co\./);
  assert.match(summary, /Pequeña \(11–50\)/, 'options by their labels');
  assert.ok(await page.evaluate(() => document.querySelector('.summary').compareDocumentPosition(document.querySelector('[data-path="review.confirmed"]')) & Node.DOCUMENT_POSITION_FOLLOWING));
  await page.click('[data-edit="welcome"]');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Bienvenida');
  await page.click('#progress li:last-child button');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Revisión');
  await page.check(id('review.confirmed'));
  await page.check(id('review.terms_accepted'));
  await page.fill(id('review.invite_emails'), 'ana@cafenino.mx pedro@cafenino.mx');
  assert.equal(await page.textContent('#invite-count'), '2');
  await page.screenshot({ path: path.join(shots, '6-review.png'), fullPage: true });
  await page.click('#submit');
  await page.waitForSelector('#done');
  assert.equal(await page.textContent('#org-address'), '…/cafe-nino-co');
  await page.screenshot({ path: path.join(shots, '7-done.png'), fullPage: true });

  const status = await api(page, 'GET', '/api/onboarding/status');
  assert.equal(status.body.status, 'completed');
  const org = await api(page, 'GET', `/api/organizations/${status.body.organization_id}`);
  assert.equal(org.body.name, 'Café Niño & Co.');
  assert.equal(org.body.timezone, 'America/Mexico_City');
  const objectives = await api(page, 'GET', `/api/organizations/${status.body.organization_id}/objectives`);
  assert.equal(JSON.stringify(objectives.body).includes('Ventas mensuales en línea'), true);
  // Reopening the page shows the result, not the wizard.
  await page.reload();
  await page.waitForSelector('#done');

  // The owner sees the invitations with their state; without a mail server (development mode)
  // the links waiting in the outbox are shown too.
  const invitation = (email) => `#invitations li[data-email="${email}"]`;
  await page.waitForSelector(invitation('ana@cafenino.mx'));
  assert.equal(await page.getAttribute(invitation('ana@cafenino.mx'), 'data-state'), 'pending');
  // The development outbox is secondary: folded, and only this organization's e-mails.
  assert.equal(await page.getAttribute('#dev-outbox', 'open'), null);
  await page.click('#dev-outbox summary');
  await page.waitForSelector('#dev-outbox li[data-to="pedro@cafenino.mx"] a');
  const linkOf = (email) => page.getAttribute(`#dev-outbox li[data-to="${email}"] a`, 'href');
  const anaLink = await linkOf('ana@cafenino.mx');
  const pedroLink = await linkOf('pedro@cafenino.mx');
  assert.match(anaLink, /\/invitations\/accept#token=[0-9a-f]{64}$/);
  await page.screenshot({ path: path.join(shots, '8-invitations.png'), fullPage: true });
  await page.click('[data-revoke="pedro@cafenino.mx"]');
  await page.waitForSelector(`${invitation('pedro@cafenino.mx')}[data-state="revoked"]`);

  // The invitee opens the e-mailed link, signs in with the invited address and joins.
  const acceptAs = async (link, email) => {
    const ctx = await browser.newContext({ locale: 'es-MX' });
    const invitee = await ctx.newPage();
    invitee.errors = [];
    invitee.on('pageerror', (e) => invitee.errors.push(e.message));
    await invitee.goto(link);
    await invitee.waitForSelector('#login');
    // Before signing in, the page says what the invitation is for and who sent it.
    await invitee.waitForSelector('#invitation-preview .invite-about');
    assert.equal(await invitee.textContent('#invitation-preview .invite-about'), 'Lucía Pérez te invitó a unirte a «Café Niño & Co.».');
    assert.equal(new URL(invitee.url()).hash, '', 'the token leaves the address bar');
    await invitee.fill('#login-name', 'Invitada');
    await invitee.fill('#login-email', email);
    await invitee.click('#login-submit');
    await invitee.waitForSelector('#joined, #accept-refused');
    return invitee;
  };
  const ana = await acceptAs(anaLink, 'ana@cafenino.mx');
  assert.match(await ana.textContent('#joined'), /Te uniste a «Café Niño & Co\.» como miembro/);
  await ana.screenshot({ path: path.join(shots, '9-joined.png'), fullPage: true });
  // A revoked link says so.
  const pedro = await acceptAs(pedroLink, 'pedro@cafenino.mx');
  assert.equal(await pedro.getAttribute('#accept-refused', 'data-code'), 'invitation_revoked');
  assert.match(await pedro.textContent('#accept-refused'), /revocada/);
  await page.reload();
  await page.waitForSelector(`${invitation('ana@cafenino.mx')}[data-state="accepted"]`);
  assert.deepEqual([...page.errors, ...ana.errors, ...pedro.errors], []);
});

test('an invalid value shows, under the field, the message the server reports — in both languages', async () => {
  const page = await signIn('mensajes@example.com');
  await fill(page, 'welcome', WELCOME);
  await next(page, 'Empresa');
  const company = { ...COMPANY, website: 'http://sin punto', founded_year: '1700', employee_count: '5000' };
  await fill(page, 'company', company);
  await page.screenshot({ path: path.join(shots, 'company-invalid.png'), fullPage: true });
  for (const locale of ['es', 'en']) {
    if (locale === 'en') {
      await page.click('[data-locale="en"]');
      await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Company');
      await page.screenshot({ path: path.join(shots, 'company-invalid-en.png'), fullPage: true });
    }
    const server = await api(page, 'POST', `/api/onboarding/validate?step=company&locale=${locale}`, company);
    const issues = server.body.issues;
    assert.deepEqual(issues.map((i) => i.path), ['company.employee_count', 'company.website', 'company.founded_year']);
    for (const issue of issues) {
      const shown = await page.textContent(`${id(issue.path)}-msg [data-code="${issue.code}"]`);
      assert.equal(shown, issue.message, `${issue.path} in ${locale}`);
    }
    // The field is marked invalid and its message is tied to it for screen readers.
    assert.equal(await page.getAttribute(id('company.website'), 'aria-invalid'), 'true');
    assert.match(await page.getAttribute(id('company.website'), 'aria-describedby'), /f-company-website-msg/);
  }
  // The warning (size_mismatch) does not block; the errors do.
  await page.click('#next');
  assert.equal(await title(page), 'Company');
  await page.fill(id('company.website'), 'cafenino.mx');
  await page.fill(id('company.founded_year'), '2015');
  assert.equal(await page.textContent('#blocking'), '');
  assert.equal(await page.locator(`${id('company.employee_count')}-msg .warning`).count(), 1);
  await page.click('[data-locale="es"]');
  assert.deepEqual(page.errors, []);
});

test('what people type is kept and shown: errors after touching or Next, skip asks and undoes, invitations as chips', async () => {
  // The sign-in's e-mail input looks like the others; the name typed there fills the welcome step.
  const ctx = await browser.newContext({ timezoneId: 'America/Mexico_City', locale: 'es-MX' });
  const login = await ctx.newPage();
  await login.goto(base);
  await login.waitForSelector('#login-email');
  const look = (sel) => login.$eval(sel, (el) => { const c = getComputedStyle(el); return [c.borderRadius, c.paddingLeft, c.width]; });
  assert.deepEqual(await look('#login-email'), await look('#login-name'));
  await ctx.close();
  const page = await signIn('chips@cafenino.mx');
  assert.equal(await page.inputValue(id('welcome.full_name')), 'Lucía Pérez');

  // Nothing is blamed before it is touched; Next then names what to fix, by label, and goes there.
  assert.equal(await page.textContent('#blocking'), '');
  assert.equal(await page.locator('.msg .error').count(), 0);
  await page.click('#next');
  assert.equal(await title(page), 'Bienvenida');
  const blocking = await page.textContent('#blocking');
  assert.match(blocking, /Cargo/);
  assert.match(blocking, /Experiencia con OKR/);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.path), 'welcome.job_title', 'the focus goes to the first field to fix');
  await page.click('#blocking button:has-text("Urgencia")');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.path), 'welcome.urgency_level');
  // A single-line input with an error turns red like the others.
  await page.fill(id('welcome.job_title'), 'x');
  await page.dispatchEvent(id('welcome.job_title'), 'blur');
  const red = await page.$eval(id('welcome.job_title'), (el) => getComputedStyle(el).borderTopColor);
  const err = await page.evaluate(() => getComputedStyle(document.querySelector('.req')).color);
  assert.equal(red, err);
  await fill(page, 'welcome', WELCOME);
  // Enter in a field goes on, as Next does.
  await page.focus(id('welcome.job_title'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Empresa');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.path), 'company.company_name', 'the focus lands on the first field');
  await fill(page, 'company', COMPANY);
  await next(page, 'Organización');
  // Checkbox groups are named by their legend, never by an empty label.
  await page.click('#next');
  const groups = await page.textContent('#blocking');
  assert.match(groups, /Retos actuales/);
  assert.doesNotMatch(groups, /: ,|, ,|, \.|:\s*\./);
  await page.selectOption(id('organization.okr_maturity'), 'beginner');
  await page.check('[data-path="organization.current_challenges"][value="focus"]');
  await page.check('[data-path="organization.business_goals"][value="innovation"]');
  await next(page, 'Objetivos');

  // Skipping a step with objectives asks first, and can be undone.
  await page.click('[data-add="objectives.objectives"]');
  await page.fill(id('objectives.objectives[0].title'), 'Abrir la cuarta cafetería');
  await page.click('#skip');
  assert.equal(await title(page), 'Objetivos', 'skipping with objectives asks first');
  await page.screenshot({ path: path.join(shots, 'skip-confirm.png'), fullPage: true });
  await page.click('#skip-confirm');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Preferencias');
  await page.click('#notice [data-undo]');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Objetivos');
  assert.equal(await page.inputValue(id('objectives.objectives[0].title')), 'Abrir la cuarta cafetería');
  await page.click('#skip');
  await page.click('#skip-cancel');
  assert.equal(await page.inputValue(id('objectives.objectives[0].title')), 'Abrir la cuarta cafetería');
  await page.click('[data-remove="objectives.objectives[0]"]');
  await page.click('#skip');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Preferencias');
  await page.selectOption(id('preferences.communication_style'), 'informal');
  await page.selectOption(id('preferences.notification_frequency'), 'weekly');
  await page.check('[data-path="preferences.focus_areas"][value="strategy"]');
  await page.check('[data-path="preferences.ai_assistance_level"][value="none"]');
  await next(page, 'Revisión');

  // Invitations as chips: what is counted is what is shown, each address with its own message.
  const chips = () => page.$$eval('.chip', (els) => els.map((el) => el.dataset.email));
  await page.fill(id('review.invite_emails'), 'ana@cafenino.mx, marta@cafenino,mx ');
  assert.deepEqual(await chips(), ['ana@cafenino.mx', 'marta@cafenino', 'mx']);
  assert.match(await page.textContent('#invite-role'), /miembros/, 'the role they will have, beside them');
  assert.equal(await page.textContent('#invite-count'), '3');
  assert.equal(await page.locator('.chip[data-email="ana@cafenino.mx"] .error').count(), 0);
  assert.equal(await page.locator('.chip[data-email="mx"] .error').count(), 1, 'the address has its own message');
  // Tabbing out turns what is left in the box into a chip, and its message shows.
  await page.fill(id('review.invite_emails'), 'pedro@cafenino');
  await page.keyboard.press('Tab');
  assert.deepEqual(await chips(), ['ana@cafenino.mx', 'marta@cafenino', 'mx', 'pedro@cafenino']);
  assert.equal(await page.locator('.chip[data-email="pedro@cafenino"] .error').count(), 1);
  await page.screenshot({ path: path.join(shots, 'chips.png'), fullPage: true });
  for (const email of ['marta@cafenino', 'mx', 'pedro@cafenino']) await page.click(`.chip[data-email="${email}"] button`);
  assert.deepEqual(await chips(), ['ana@cafenino.mx']);
  // A pasted list (newlines, semicolons) becomes one chip per address.
  await page.focus(id('review.invite_emails'));
  await page.evaluate((sel) => {
    const data = new DataTransfer();
    data.setData('text/plain', 'luis@cafenino.mx;\nsofia@cafenino.mx\n');
    document.querySelector(sel).dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, id('review.invite_emails'));
  assert.deepEqual(await chips(), ['ana@cafenino.mx', 'luis@cafenino.mx', 'sofia@cafenino.mx']);
  assert.equal(await page.textContent('#invite-count'), '3');
  await saved(page);
  const status = await api(page, 'GET', '/api/onboarding/status');
  assert.deepEqual(status.body.draft.review.invite_emails, ['ana@cafenino.mx', 'luis@cafenino.mx', 'sofia@cafenino.mx']);
  assert.deepEqual(status.body.draft.objectives, { objectives: [] });
  assert.deepEqual(page.errors, []);
});

test('one language: the header and the preferences agree, the e-mails follow it, and the done screen keeps its counts', async () => {
  const page = await signIn('idioma@cafenino.mx');
  const steps = {
    welcome: WELCOME,
    company: { ...COMPANY, company_name: 'Idiomas Niño' },
    organization: { okr_maturity: 'advanced', current_challenges: ['focus'], business_goals: ['innovation'] },
    objectives: { objectives: [] },
  };
  for (const [step, data] of Object.entries(steps)) assert.equal((await api(page, 'PUT', `/api/onboarding/steps/${step}`, data)).status, 200);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Preferencias');
  assert.equal(await page.inputValue(id('preferences.language')), 'es');
  const pressed = () => page.getAttribute('[data-locale="en"]', 'aria-pressed');
  // The header's switch sets the organization's language too …
  await page.click('[data-locale="en"]');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Preferences');
  assert.equal(await page.inputValue(id('preferences.language')), 'en');
  // … and choosing the language in the step switches the page.
  await page.selectOption(id('preferences.language'), 'es');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Preferencias');
  assert.equal(await pressed(), 'false');
  await page.selectOption(id('preferences.language'), 'en');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Preferences');
  assert.equal(await pressed(), 'true');
  await page.selectOption(id('preferences.communication_style'), 'formal');
  await page.selectOption(id('preferences.notification_frequency'), 'weekly');
  await page.check('[data-path="preferences.focus_areas"][value="analytics"]');
  await page.check('[data-path="preferences.ai_assistance_level"][value="none"]');
  await next(page, 'Review');
  await page.check(id('review.confirmed'));
  await page.check(id('review.terms_accepted'));
  await page.fill(id('review.invite_emails'), 'ana@idiomas.mx ');
  await page.click('#submit');
  await page.waitForSelector('#done');
  const counts = async () => [await page.textContent('#done-objectives'), await page.textContent('#done-invitations')];
  assert.deepEqual(await counts(), ['0', '1']);
  // The invitation went out in the language the user chose.
  const outbox = await api(page, 'GET', '/api/dev/outbox');
  const mail = outbox.body.messages.find((m) => m.to === 'ana@idiomas.mx');
  assert.match(mail.subject, /invites you|Invitation/);
  // Switching the page's language keeps the done screen whole.
  await page.click('[data-locale="es"]');
  await page.waitForFunction(() => document.querySelector('#done h1')?.textContent.startsWith('¡Listo'));
  await page.waitForFunction(() => document.querySelector('#done-invitations')?.textContent === '1');
  assert.deepEqual(await counts(), ['0', '1']);
  assert.deepEqual(page.errors, []);
});

test("the operator's links: the terms beside their checkbox, the product as the done screen's main action", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wizard-links-'));
  const own = await startDevServer(`${dir}/links.db`, { TERMS_URL: 'https://example.com/terms', APP_URL: 'https://app.example.com/o/{slug}' });
  try {
    const ctx = await browser.newContext({ timezoneId: 'America/Bogota', locale: 'es-CO' });
    const page = await ctx.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    await page.goto(own.base);
    await page.fill('#login-name', 'Ana Links');
    await page.fill('#login-email', 'ana@links.co');
    await page.click('#login-submit');
    await page.waitForSelector('#wizard');
    const token = await page.evaluate(() => localStorage.getItem('onboarding:dev-token'));
    const put = (step, body) => fetch(`${own.base}/api/onboarding/steps/${step}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    for (const [step, data] of Object.entries({
      welcome: WELCOME, company: { ...COMPANY, company_name: 'Enlaces SAS', country: 'CO' },
      organization: { okr_maturity: 'advanced', current_challenges: ['focus'], business_goals: ['innovation'] },
      objectives: { objectives: [] },
      preferences: { language: 'es', communication_style: 'formal', notification_frequency: 'weekly', focus_areas: ['analytics'], ai_assistance_level: 'none', timezone: 'America/Bogota' },
    })) assert.equal((await put(step, data)).status, 200);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Revisión');
    assert.equal(await page.getAttribute('#terms-link', 'href'), 'https://example.com/terms');
    await page.check(id('review.confirmed'));
    await page.check(id('review.terms_accepted'));
    await page.click('#submit');
    await page.waitForSelector('#done');
    assert.equal(await page.getAttribute('#open-app', 'href'), 'https://app.example.com/o/enlaces-sas');
    assert.equal(await page.textContent('#org-address'), 'https://app.example.com/o/enlaces-sas');
    await page.screenshot({ path: path.join(shots, 'done-handoff.png'), fullPage: true });
    assert.deepEqual(page.errors, []);
    await ctx.close();
  } finally {
    own.server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** WCAG 2.1 A and AA violations axe-core finds on the page now, as "rule: targets" lines. */
async function violations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const [device, options, locale] of [
  ['desktop', { viewport: { width: 1280, height: 800 } }, 'es'],
  ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }, 'en'],
  ['phone in dark mode', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' }, 'es'],
]) {
  test(`every screen on a ${device} (${locale}) passes axe-core's WCAG 2.1 A/AA checks, with errors showing and without`, async () => {
    // bypassCSP: axe-core is injected as a script the page's policy (rightly) refuses.
    const ctx = await browser.newContext({ ...options, bypassCSP: true, timezoneId: 'America/Lima', locale: locale === 'es' ? 'es-PE' : 'en-US' });
    const page = await ctx.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    const dir = path.join(shots, `a11y-${device.replaceAll(' ', '-')}`);
    mkdirSync(dir, { recursive: true });
    const found = [];
    const audit = async (name) => {
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
      for (const v of await violations(page)) found.push(`${name}: ${v}`);
    };
    await page.goto(base);
    await page.waitForSelector('#login-name');
    if (locale === 'en') {
      await page.click('[data-locale="en"]');
      await page.waitForFunction(() => document.documentElement.lang === 'en');
    }
    await audit('0-sign-in');
    await page.fill('#login-name', 'Rosa Accesible');
    await page.fill("#login-email", `rosa.${device.replaceAll(" ", "-")}@example.pe`);
    await page.click('#login-submit');
    await page.waitForSelector('#wizard');
    const titles = await page.$$eval('#progress button', (bs) => bs.map((b) => b.textContent));
    assert.equal(titles.length, 6);
    if (device.startsWith('phone')) {
      const rows = await page.$$eval('#progress li', (lis) => new Set(lis.map((li) => li.offsetTop)).size);
      assert.equal(rows, 1, 'the step navigation fits one row on a phone');
    }
    const walk = [
      ['welcome', async () => fill(page, 'welcome', WELCOME)],
      ['company', async () => fill(page, 'company', COMPANY)],
      ['organization', async () => {
        await page.selectOption(id('organization.okr_maturity'), 'beginner');
        await page.check('[data-path="organization.current_challenges"][value="focus"]');
        await page.check('[data-path="organization.business_goals"][value="innovation"]');
      }],
      ['objectives', async () => {
        await page.click('[data-add="objectives.objectives"]');
        await page.click('#next'); // an empty objective: its fields' errors show
        await audit('4-objectives-item-errors');
        await page.click('[data-remove="objectives.objectives[0]"]');
      }],
      ['preferences', async () => {
        await page.selectOption(id('preferences.communication_style'), 'formal');
        await page.selectOption(id('preferences.notification_frequency'), 'weekly');
        await page.check('[data-path="preferences.focus_areas"][value="strategy"]');
        await page.check('[data-path="preferences.ai_assistance_level"][value="none"]');
      }],
    ];
    for (const [i, [step, complete]] of walk.entries()) {
      await audit(`${i + 1}-${step}`);
      if (step !== 'objectives') {
        // (an empty objectives step is valid: its errors are an empty objective's, below)
        await page.click('#next');
        await audit(`${i + 1}-${step}-errors`);
      }
      await complete();
      const before = await title(page);
      await page.click('#next');
      await page.waitForFunction((t) => document.querySelector('#step-title')?.textContent !== t, before);
    }
    await audit('6-review');
    await page.fill(id('review.invite_emails'), 'no-es-correo, ana@example.pe ');
    await audit('6-review-errors');
    await page.click('.chip[data-email="no-es-correo"] button');
    await page.check(id('review.confirmed'));
    await page.check(id('review.terms_accepted'));
    await page.click('#submit');
    await page.waitForSelector('#done');
    await audit('7-done');
    assert.deepEqual(found, []);
    assert.deepEqual(page.errors, []);
    await ctx.close();
  });
}

test('the objectives editor: examples that cannot pass for values, a yes/no key result without numbers, errors that say which key result', async () => {
  const page = await signIn('editor@cafenino.mx');
  for (const [step, data] of Object.entries({
    welcome: WELCOME, company: COMPANY,
    organization: { okr_maturity: 'advanced', current_challenges: ['focus'], business_goals: ['innovation'] },
  })) assert.equal((await api(page, 'PUT', `/api/onboarding/steps/${step}`, data)).status, 200);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Objetivos');
  await page.click('[data-add="objectives.objectives"]');
  const kr = (j, name) => id(`objectives.objectives[0].key_results[${j}].${name}`);
  assert.match(await page.getAttribute(kr(0, 'target'), 'placeholder'), /^p\. ej\. /);
  await page.fill(id('objectives.objectives[0].title'), 'Abrir la cuarta cafetería');
  await page.fill(kr(0, 'title'), 'Local abierto al público');
  await page.selectOption(kr(0, 'metric_type'), 'boolean');
  await page.waitForSelector(kr(0, 'target'), { state: 'detached' });
  assert.equal(await page.locator(kr(0, 'baseline')).count(), 0);
  await page.click('[data-add="objectives.objectives[0].key_results"]');
  await page.click('#next');
  assert.equal(await title(page), 'Objetivos');
  assert.match(await page.textContent('#blocking'), /Objetivo 1 · Resultado clave 2: /);
  await page.screenshot({ path: path.join(shots, 'objectives-editor.png'), fullPage: true });
  await page.click('[data-remove="objectives.objectives[0].key_results[1]"]');
  await next(page, 'Preferencias');
  await saved(page);
  const status = await api(page, 'GET', '/api/onboarding/status');
  const saved0 = status.body.draft.objectives.objectives[0].key_results[0];
  assert.deepEqual([saved0.metric_type, saved0.baseline, saved0.target], ['boolean', 0, 1]);
  // Back to a number: its fields come back, empty.
  await page.click('#back');
  await page.selectOption(kr(0, 'metric_type'), 'number');
  assert.equal(await page.inputValue(kr(0, 'target')), '');
  assert.deepEqual(page.errors, []);
});

test('a refusal by the server (422) puts its issues on the right fields', async () => {
  const page = await signIn('refused@example.com');
  const steps = {
    welcome: WELCOME,
    company: COMPANY,
    organization: { okr_maturity: 'advanced', current_challenges: ['focus'], business_goals: ['innovation'] },
    objectives: { objectives: [] },
    preferences: { language: 'es', communication_style: 'formal', notification_frequency: 'weekly', focus_areas: ['analytics'], ai_assistance_level: 'none', timezone: 'America/Bogota' },
    review: { confirmed: true, terms_accepted: true },
  };
  for (const [step, data] of Object.entries(steps)) assert.equal((await api(page, 'PUT', `/api/onboarding/steps/${step}`, data)).status, 200);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Revisión');
  // Meanwhile the draft on the server changes (another device) and breaks a rule this page has not seen.
  await api(page, 'PUT', '/api/onboarding/steps/company', { ...COMPANY, website: 'http://sin punto' });
  await page.click('#submit');
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Empresa');
  const server = await api(page, 'POST', '/api/onboarding/validate?step=company&locale=es', { ...COMPANY, website: 'http://sin punto' });
  const expected = server.body.issues.find((i) => i.path === 'company.website');
  assert.equal(await page.textContent(`${id('company.website')}-msg [data-code="invalid_url"]`), expected.message);
  assert.equal(await page.inputValue(id('company.website')), 'http://sin punto', "the page shows the server's copy");
  assert.match(await page.textContent('#notice'), /El servidor encontró problemas/);
  await page.screenshot({ path: path.join(shots, 'server-refused.png'), fullPage: true });
});

test('the objectives step offers suggestions, and never asks for them when the user chose no AI', async () => {
  const organization = { okr_maturity: 'beginner', current_challenges: ['focus'], business_goals: ['operational_efficiency'] };
  const page = await signIn('sugerencias@example.com');
  for (const [step, data] of [['welcome', WELCOME], ['company', COMPANY], ['organization', organization]]) {
    assert.equal((await api(page, 'PUT', `/api/onboarding/steps/${step}`, data)).status, 200);
  }
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Objetivos');
  await page.waitForSelector('[data-suggestion]');
  assert.equal(await page.locator('[data-suggestion]').count(), 3);
  // Retail with an operational-efficiency goal: that template first, in Spanish.
  assert.equal(await page.textContent('[data-suggestion] h3'), 'Optimizar el inventario y la cadena de suministro');
  await page.screenshot({ path: path.join(shots, 'suggestions.png'), fullPage: true });
  const first = await page.getAttribute('[data-suggestion]', 'data-suggestion');
  await page.click(`[data-accept="${first}"]`);
  assert.equal(await page.inputValue(id('objectives.objectives[0].title')), 'Optimizar el inventario y la cadena de suministro');
  assert.equal(await page.isDisabled('#next'), false, 'an accepted suggestion is a valid objective');
  const second = await page.getAttribute('[data-suggestion]', 'data-suggestion');
  await page.click(`[data-dismiss="${second}"]`);
  assert.equal(await page.locator('[data-suggestion]').count(), 1);
  await saved(page);
  // On the server: the accepted one is in the draft, the dismissed one is not offered again.
  const left = (await api(page, 'GET', '/api/onboarding/suggestions?step=objectives')).body.suggestions.map((x) => x.id);
  assert.deepEqual(left.includes(first) || left.includes(second), false);
  assert.equal(left.length, 1);

  // A user who chose no AI: the page never calls the endpoint.
  const other = await signIn('sin-ia@example.com');
  const prefs = { language: 'es', communication_style: 'formal', notification_frequency: 'weekly', focus_areas: ['analytics'], ai_assistance_level: 'none', timezone: 'America/Bogota' };
  for (const [step, data] of [['welcome', WELCOME], ['company', COMPANY], ['organization', organization], ['preferences', prefs]]) {
    assert.equal((await api(other, 'PUT', `/api/onboarding/steps/${step}`, data)).status, 200);
  }
  const asked = [];
  other.on('request', (r) => r.url().includes('/api/onboarding/suggestions') && asked.push(r.url()));
  await other.reload();
  await other.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Objetivos');
  await other.click('[data-add="objectives.objectives"]');
  await saved(other); // the page has talked to the server since it rendered the step
  assert.deepEqual(asked, []);
  assert.equal(await other.isHidden('#suggestions'), true);
  assert.deepEqual([...page.errors, ...other.errors], []);
});

test('the draft survives a reload and appears in a second browser as the same user; a stale tab offers the newer draft', async () => {
  const page = await signIn('resume@example.com');
  await fill(page, 'welcome', WELCOME);
  await next(page, 'Empresa');
  await fill(page, 'company', { company_name: 'Resumable S.A.' });
  await saved(page);
  await page.reload();
  await page.waitForSelector('#wizard');
  assert.equal(await title(page), 'Empresa');
  assert.equal(await page.inputValue(id('company.company_name')), 'Resumable S.A.');

  const other = await signIn('resume@example.com');
  assert.equal(await title(other), 'Empresa');
  assert.equal(await other.inputValue(id('company.company_name')), 'Resumable S.A.');
  await other.fill(id('company.company_name'), 'Cambiado en otro navegador');
  await saved(other);
  await other.screenshot({ path: path.join(shots, 'second-browser.png'), fullPage: true });

  // The first tab still holds the old version: its next save is refused (412) and it offers the newer draft.
  await page.fill(id('company.company_name'), 'Escrito en la primera pestaña');
  await page.waitForSelector('#notice:not([hidden]) >> text=Este borrador se modificó');
  await page.screenshot({ path: path.join(shots, 'conflict.png'), fullPage: true });
  await page.click('#notice >> text=Cargar la versión más reciente');
  await page.waitForFunction((sel) => document.querySelector(sel)?.value === 'Cambiado en otro navegador', id('company.company_name'));
  assert.deepEqual([...page.errors, ...other.errors], []);
});

test('offline edits are kept, announced, and saved when the connection returns', async () => {
  const page = await signIn('offline@example.com');
  await fill(page, 'welcome', WELCOME);
  await saved(page);
  await page.context().setOffline(true);
  await page.fill(id('welcome.job_title'), 'Escrito sin conexión');
  await page.waitForSelector('#notice:not([hidden]) >> text=Sin conexión');
  await page.screenshot({ path: path.join(shots, 'offline.png'), fullPage: true });
  // Reloading while offline is not possible, but the edit is in this browser's storage.
  const kept = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('onboarding:unsaved:')).map((k) => localStorage.getItem(k)));
  assert.match(kept.join(), /Escrito sin conexión/);
  // Back online, the page retries by itself (the `online` event), without a click.
  await page.context().setOffline(false);
  await saved(page);
  const status = await api(page, 'GET', '/api/onboarding/status');
  assert.equal(status.body.draft.welcome.job_title, 'Escrito sin conexión');
  assert.equal(await page.isHidden('#notice'), true);
});

test('the whole wizard can be completed with the keyboard alone', async () => {
  const ctx = await browser.newContext({ timezoneId: 'Europe/Madrid' });
  const page = await ctx.newPage();
  await page.goto(base);
  await page.waitForSelector('#login-name');
  const kb = page.keyboard;
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return el?.dataset?.path ? `${el.dataset.path}${el.type === 'checkbox' && el.value !== 'on' ? `=${el.value}` : ''}` : el?.id || el?.textContent || el?.tagName;
  });
  /** Tab (only the keyboard) until the focus is on `target`. */
  async function tabTo(target) {
    for (let i = 0; i < 80; i++) {
      if ((await focused()) === target) return;
      await kb.press('Tab');
    }
    throw new Error(`Tab never reached ${target}; focus is on ${await focused()}; ${await page.textContent('#blocking').catch(() => '')}`);
  }
  const type = async (path, text) => { await tabTo(path); await kb.type(text); };
  const choose = async (path, label) => { await tabTo(path); await kb.type(label); };
  const tick = async (path) => { await tabTo(path); await kb.press('Space'); };
  /** A card of a short choice: into the radio group, then the arrow keys to `value`. */
  const pick = async (path, value) => {
    await tabTo(path);
    await kb.press('Space');
    for (let i = 0; i < 6 && (await page.evaluate(() => document.activeElement.value)) !== value; i++) await kb.press('ArrowRight');
    assert.equal(await page.evaluate((p) => document.querySelector(`[data-path="${p}"]:checked`)?.value, path), value);
  };

  await kb.type('Teclado Solo'); // the name field has the focus on arrival
  await kb.press('Tab');
  await kb.type('teclado@example.com');
  await kb.press('Enter');
  await page.waitForSelector('#wizard');

  // The name typed at sign-in is already there, and the focus is on it.
  assert.equal(await focused(), 'welcome.full_name');
  assert.equal(await page.inputValue(id('welcome.full_name')), 'Teclado Solo');
  await type('welcome.job_title', 'Jefa de producto');
  await pick('welcome.experience_with_okr', 'intermediate');
  await type('welcome.primary_goal', 'Llevar el plan anual a objetivos medibles.');
  await pick('welcome.urgency_level', 'medium');
  await tabTo('next');
  await kb.press('Enter');

  // ASCII only: Playwright sends other characters as text insertion, not as key presses.
  await type('company.company_name', 'Teclas y Compania');
  await choose('company.industry', 'Tecnolog');
  await pick('company.company_size', 'startup');
  await choose('company.country', 'Espa');
  await type('company.description', 'Hacemos teclados mecanicos para oficinas silenciosas.');
  await tabTo('next');
  await kb.press('Enter');

  await choose('organization.okr_maturity', 'Principiante');
  await tick('organization.current_challenges=focus');
  await tick('organization.business_goals=innovation');
  await tabTo('next');
  await kb.press('Enter');

  await tabTo('skip');
  await kb.press('Enter');

  await page.waitForFunction(() => document.querySelector('#step-title')?.textContent === 'Preferencias');
  await choose('preferences.communication_style', 'Formal');
  await choose('preferences.notification_frequency', 'Mensual');
  await tick('preferences.focus_areas=execution');
  await pick('preferences.ai_assistance_level', 'none');
  await tabTo('next');
  await kb.press('Enter');

  await tick('review.confirmed');
  await tick('review.terms_accepted');
  await tabTo('submit');
  await kb.press('Enter');
  await page.waitForSelector('#done');
  assert.equal(await page.textContent('#org-address'), '…/teclas-y-compania');
  const status = await api(page, 'GET', '/api/onboarding/status');
  const org = await api(page, 'GET', `/api/organizations/${status.body.organization_id}`);
  assert.equal(org.body.country, 'ES');
  assert.equal(org.body.timezone, 'Europe/Madrid');
  await ctx.close();
});

test('a #token= link never silently replaces the signed-in user', async () => {
  const mint = async (email) => {
    const res = await fetch(base + '/api/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'X', email }) });
    return (await res.json()).token;
  };
  const [ana, bea] = [await mint('ana.link@example.com'), await mint('bea.link@example.com')];
  const ctx = await browser.newContext({ locale: 'es-MX' });
  const page = await ctx.newPage();
  const stored = () => page.evaluate(() => sessionStorage.getItem('onboarding:token'));
  const open = async (token) => {
    await page.goto('about:blank');
    await page.goto(`${base}/#token=${token}`);
    await page.waitForSelector('#wizard');
  };
  const dialogs = [];
  let answer = false;
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await (answer ? d.accept() : d.dismiss());
  });
  await open(ana);
  assert.equal(await stored(), ana);
  assert.equal(dialogs.length, 0, 'signing in the first time asks nothing');
  assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address');
  await open(bea);
  assert.equal(dialogs.length, 1);
  assert.match(dialogs[0], /bea\.link@example\.com/);
  assert.match(dialogs[0], /ana\.link@example\.com/);
  assert.equal(await stored(), ana, 'declined: still Ana');
  answer = true;
  await open(bea);
  assert.equal(dialogs.length, 2);
  assert.equal(await stored(), bea, 'accepted: now Bea');
  await open(bea);
  assert.equal(dialogs.length, 2, 'the same user again asks nothing');
  const csp = (await fetch(base + '/')).headers.get('content-security-policy');
  assert.match(csp, /frame-ancestors 'none'/);
  await ctx.close();
});

test('a page whose package is older than the server’s rules says so and offers a reload', async () => {
  const page = await signIn('stale.rules@example.com');
  assert.equal(await page.isVisible('#notice'), false);
  // The server now names other rules than the package this page holds (a deploy happened).
  await page.route('**/api/onboarding/status', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    await route.fulfill({ response: res, json: { ...body, rules_version: '2099.01.01-1' } });
  });
  await page.reload();
  await page.waitForSelector('#notice:not([hidden])');
  assert.match(await page.textContent('#notice'), /reglas antiguas/);
  const reload = page.getByRole('button', { name: 'Recargar' });
  assert.ok(await reload.isVisible());
  // Back on matching rules, the reload clears it.
  await page.unroute('**/api/onboarding/status');
  await reload.click();
  await page.waitForSelector('#wizard');
  assert.equal(await page.isVisible('#notice'), false);
  assert.deepEqual(page.errors, []);
});
