// Start-up, the wizard rendered from the rules' metadata, and the checks under each field.
import { validateStep, validateWizard, preview, rulesVersion } from '/pkg/index.js';
import { S, LINKS, t, $, h, idFor, on, emit, stepData } from './state.js';
import { api, signOut } from './http.js';
import { restoreLocal, notice, clearNotice, showSaveState, scheduleSave, flush } from './autosave.js';
import { renderSuggestions } from './suggestions.js';
import { submit, renderDone, organizationOf } from './done.js';

// What lower modules ask of this one (state.js's `emit`).
on('saved', () => renderProgress());
on('rerender', (focusSel) => rerender(focusSel));
on('rules-version', (version) => checkRules(version));
on('show-step', (step) => {
  revealStep(step);
  go(Math.max(0, S.meta.findIndex((s) => s.id === step)));
});

// Start-up

/**
 * After a deploy, a browser may still hold the previous package: its checks would then disagree
 * with the server's. The server names its rules with every status and report; on a mismatch the
 * page says so and offers a reload (the package is served with an ETag and `no-cache`, so a reload
 * revalidates it and gets the server's).
 */
export function checkRules(serverVersion) {
  if (!serverVersion || serverVersion === rulesVersion()) return true;
  notice(t().staleRules, { error: true, kind: 'stale-rules', actions: [[t().reload, () => location.reload()]] });
  return false;
}

export async function boot() {
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

export function revealStep(step) {
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

export function ctx() {
  return { locale: S.locale, self_email: S.user?.email };
}

export function stepMeta() {
  return S.meta[S.index];
}

export function renderProgress() {
  const nav = $('#progress');
  if (!nav) return;
  const reachable = Math.max(S.index, ...S.meta.map((s, i) => (S.completed.includes(s.id) ? i + 1 : 0)));
  // On a phone the pills shrink to their numbers (the title, hidden only visually, stays in their
  // accessible name), so
  // the navigation fits one row; the bar above shows how far the user is.
  nav.replaceChildren(
    ...S.meta.map((s, i) =>
      h('li', {}, h('button', {
        type: 'button',
        class: S.completed.includes(s.id) ? 'done' : null,
        'aria-current': i === S.index ? 'step' : null,
        disabled: i > reachable,
        onclick: () => go(i),
      }, h('span', { class: 'n', text: `${i + 1}.` }), ' ', h('span', { class: 'name', text: s.title }))),
    ),
  );
  const bar = $('#bar');
  if (bar) bar.style.width = `${Math.round((100 * (S.index + 1)) / S.meta.length)}%`;
}

/**
 * Next: to the next step when this one has no errors; otherwise every error of the step shows,
 * the line under the buttons names the fields (each a link to its field), and the focus goes to
 * the first of them. Nothing is blamed before the user leaves a field or asks to go on.
 */
export function advance() {
  const meta = stepMeta();
  const errors = issuesFor(meta.id).issues.filter((i) => i.severity === 'error');
  if (errors.length === 0) return go(S.index + 1);
  S.attempted.add(meta.id);
  for (const i of errors) S.touched.add(containerOf(i.path) ?? i.path);
  check();
  focusField(containerOf(errors[0].path) ?? errors[0].path);
}

/** Moves the focus to a field's control (its first one: a group's first box). */
export function focusField(path) {
  const box = document.querySelector(`[data-field="${CSS.escape(path)}"]`);
  const control = document.querySelector(`[data-path="${CSS.escape(path)}"]`) ?? box?.querySelector('input, select, textarea, button');
  control?.focus();
}

export function go(index) {
  if (index !== S.index) S.suggestions = undefined; // asked again on the next visit
  S.index = index;
  renderStep();
  flush();
}

/**
 * Fills what the user has not chosen yet with its default — an option's default, the page's
 * language, the browser's time zone — in `obj` and its list items; whether anything changed.
 * Rendering then only reads the draft.
 */
export function fillDefaults(fields, obj) {
  let changed = false;
  for (const field of fields) {
    const value = obj[field.name];
    if (field.kind === 'list') {
      if (!Array.isArray(value)) obj[field.name] = [];
      for (const item of obj[field.name]) {
        if (item && typeof item === 'object') changed = fillDefaults(field.item_fields, item) || changed;
      }
    } else if (value !== undefined) {
      continue;
    } else if (field.name === 'full_name' && typeof S.user?.name === 'string' && S.user.name.trim()) {
      // The name typed at sign-in (or the token's), so nobody types it twice.
      obj[field.name] = S.user.name.trim();
      changed = true;
    } else if ((field.kind === 'enum' || field.kind === 'country') && (field.default !== undefined || field.name === 'language')) {
      obj[field.name] = field.name === 'language' ? S.locale : field.default;
      changed = true;
    } else if (field.kind === 'timezone') {
      const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (field.options.some((o) => o.value === local)) {
        obj[field.name] = local;
        changed = true;
      }
    }
  }
  return changed;
}

export function renderStep() {
  const meta = stepMeta();
  const data = stepData(meta.id);
  if (fillDefaults(meta.fields, data)) scheduleSave(meta.id);
  document.title = `${meta.title} · Onboarding`;
  const last = S.index === S.meta.length - 1;
  // Enter in a field goes on (Next is the form's submit button); the last step never creates the
  // organization by Enter: its button is an ordinary one.
  const form = h('form', {
    novalidate: true, id: 'wizard', 'aria-labelledby': 'step-title',
    onsubmit: (e) => {
      e.preventDefault();
      if (!last) advance();
    },
  });
  for (const field of meta.fields) {
    if (field.kind === 'list') form.append(renderList(meta.id, `${meta.id}.${field.name}`, field, data));
    else form.append(renderField(meta.id, `${meta.id}.${field.name}`, field, data));
  }
  // The review shows every answer first, then asks for the confirmation and the terms.
  if (meta.id === 'review') form.prepend(renderSummary());
  if (meta.id === 'objectives') form.prepend(renderSuggestions());
  const actions = h('div', { class: 'actions' },
    S.index > 0 ? h('button', { type: 'button', class: 'secondary', id: 'back', text: t().back, onclick: () => go(S.index - 1) }) : null,
    meta.skippable ? h('button', { type: 'button', class: 'secondary', id: 'skip', text: t().skip, onclick: () => skip(meta.id) }) : null,
    last
      ? h('button', { type: 'button', class: 'primary', id: 'submit', text: t().submit, onclick: submit })
      : h('button', { type: 'submit', class: 'primary', id: 'next', text: t().next }),
    h('span', { id: 'savestate', class: 'savestate', 'aria-live': 'polite' }),
    h('p', { id: 'blocking', class: 'blocking', 'aria-live': 'polite' }),
    h('div', { id: 'skip-box' }),
  );
  form.append(actions);
  const main = $('#app');
  main.replaceChildren(
    h('div', { class: 'meter', 'aria-hidden': 'true' }, h('span', { id: 'bar' })),
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
  // The focus lands on the step's first field (a list's first control when it has no field).
  const first = form.querySelector('[data-path]:not([disabled]), #wizard button');
  (first ?? main).focus();
}

/** A field's placeholder as an example ("p. ej. 100"), never mistaken for a value typed. */
const example = (field) => (field.placeholder ? t().example(field.placeholder) : null);

/** The ids that describe a field's control: its help (if any) and its messages. */
export const describedBy = (id, field) => [field.help ? `${id}-help` : null, `${id}-msg`].filter(Boolean).join(' ');

export function labelled(path, field, control, extra = []) {
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

export function group(path, field, controls, extra = []) {
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
export function update(step, obj, name, value, path) {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0 && name !== 'objectives')) delete obj[name];
  else obj[name] = value;
  if (S.serverIssues) S.serverIssues = S.serverIssues.filter((i) => !i.path.startsWith(path));
  scheduleSave(step);
  check();
}

export function touch(path) {
  if (!S.touched.has(path)) {
    S.touched.add(path);
    check();
  }
}

export function renderField(step, path, field, obj) {
  const value = obj[field.name];
  const onInput = (read) => (e) => {
    const was = obj[field.name];
    update(step, obj, field.name, read(e.target), path);
    // The metric's kind changes which fields a key result shows.
    if (field.name === 'metric_type' && (was === 'boolean') !== (obj[field.name] === 'boolean')) {
      if (was === 'boolean') {
        delete obj.baseline;
        delete obj.target;
      }
      rerender(`#${CSS.escape(idFor(path))}`);
    }
  };
  // Leaving a field shows its issues, unless the focus goes to a button: a message appearing
  // then would move the button away from under the pointer mid-click.
  const onLeave = (e) => {
    if (e.relatedTarget?.tagName !== 'BUTTON') touch(path);
  };
  if (field.kind === 'enum' && t().optionHelp[`${step}.${field.name}`]) return renderCards(step, path, field, obj);
  switch (field.kind) {
    case 'enum':
    case 'country': {
      const onChange = onInput((el) => el.value);
      // The organization's language is the page's: choosing it switches the page (app.js).
      const language = step === 'preferences' && field.name === 'language';
      const select = h('select', {
        onchange: (e) => {
          onChange(e);
          if (language && e.target.value) emit('locale', e.target.value);
        },
        onblur: onLeave,
      },
        h('option', { value: '', text: '—' }),
        ...field.options.map((o) => h('option', { value: o.value, selected: o.value === value, text: o.label })),
      );
      return labelled(path, field, select);
    }
    case 'timezone': {
      const listId = `${idFor(path)}-list`;
      const input = h('input', { type: 'text', list: listId, autocomplete: 'off', spellcheck: 'false', value: obj[field.name] ?? '', placeholder: example(field), oninput: onInput((el) => el.value), onblur: onLeave });
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
      const terms = step === 'review' && field.name === 'terms_accepted' && LINKS.terms
        ? h('a', { href: LINKS.terms, target: '_blank', rel: 'noopener', id: 'terms-link', text: t().readTerms })
        : null;
      return h('div', { class: 'field', 'data-field': path },
        h('label', { for: id, class: 'check' }, box, ' ', field.label),
        terms ? [' · ', terms] : null,
        field.help ? h('p', { class: 'help', id: `${id}-help`, text: field.help }) : null,
        h('p', { class: 'msg', id: `${id}-msg`, 'data-msg': path }),
      );
    }
    case 'email_list':
      return renderEmails(step, path, field, obj);
    case 'multiline': {
      const area = h('textarea', { rows: 4, placeholder: example(field), maxlength: field.max_length ? field.max_length * 2 : null, oninput: onInput((el) => el.value), onblur: onLeave });
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
        placeholder: example(field),
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

/**
 * A short choice as cards (radio buttons): each option's label from the metadata and one line
 * from the page's words; arrow keys move between them as in any radio group.
 */
function renderCards(step, path, field, obj) {
  const help = t().optionHelp[path];
  const cards = field.options.map((o) => {
    const hint = `${idFor(path)}-${o.value}-hint`;
    return h('label', { class: 'option' },
      h('input', {
        type: 'radio', name: path, value: o.value, checked: obj[field.name] === o.value, 'data-path': path, 'aria-describedby': hint,
        onchange: (e) => {
          update(step, obj, field.name, e.target.value, path);
          touch(path);
        },
      }),
      h('span', { class: 'title', text: o.label }),
      h('span', { class: 'hint', id: hint, text: help[o.value] ?? '' }),
    );
  });
  const box = group(path, field, [h('div', { class: 'options' }, ...cards)]);
  box.classList.add('cards');
  box.setAttribute('role', 'radiogroup');
  if (field.required) box.setAttribute('aria-required', 'true');
  return box;
}

/** What separates addresses typed or pasted into the invitation box. */
const SEPARATORS = /[\s,;]+/;

/**
 * An e-mail list as chips: each address the user finished (by a space, comma, semicolon, Enter,
 * a paste or leaving the box) becomes a chip with its own message from the rules and a remove
 * button; what is still being typed stays in the box. The draft holds the chips and then the
 * text in the box, so what is counted and saved is what is shown.
 */
function renderEmails(step, path, field, obj) {
  const chips = (Array.isArray(obj[field.name]) ? obj[field.name] : []).filter((e) => typeof e === 'string');
  let pending = '';
  const id = idFor(path);
  const list = h('ul', { class: 'chips', id: `${id}-chips`, 'aria-label': field.label });
  const input = h('input', { type: 'text', inputmode: 'email', autocomplete: 'off', spellcheck: 'false', placeholder: example(field) });
  const save = () => update(step, obj, field.name, pending ? [...chips, pending] : [...chips], path);
  const draw = () => {
    list.replaceChildren(...chips.map((email, i) => {
      const at = `${path}[${i}]`;
      const msg = `${id}-${i}-msg`;
      return h('li', { class: 'chip', 'data-email': email, 'data-path': at, 'aria-describedby': msg },
        h('span', { class: 'address', text: email }),
        h('button', {
          type: 'button', 'aria-label': t().removeEmail(email), text: '×',
          onclick: () => {
            chips.splice(i, 1);
            draw();
            save();
            input.focus();
          },
        }),
        h('span', { class: 'msg', id: msg, 'data-msg': at }),
      );
    }));
  };
  /** Turns the finished addresses in `text` into chips; `keepLast` leaves an unfinished one. */
  const take = (text, keepLast) => {
    const parts = text.split(SEPARATORS);
    const last = keepLast ? parts.pop() : '';
    for (const email of parts.filter(Boolean)) {
      chips.push(email);
      S.touched.add(`${path}[${chips.length - 1}]`);
    }
    pending = last;
    input.value = last;
    draw();
    save();
  };
  input.addEventListener('input', () => {
    if (SEPARATORS.test(input.value)) take(input.value, true);
    else {
      pending = input.value;
      save();
    }
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && input.value.trim()) {
      e.preventDefault();
      take(input.value, false);
    } else if (e.key === 'Backspace' && input.value === '' && chips.length) {
      chips.pop();
      draw();
      save();
    }
  });
  input.addEventListener('paste', (e) => {
    const text = e.clipboardData?.getData('text/plain');
    if (!text) return;
    e.preventDefault();
    take(input.value + text, !/[\s,;]$/.test(text));
  });
  input.addEventListener('blur', () => {
    if (input.value.trim()) take(input.value, false);
    else touch(path);
  });
  draw();
  // The role the completion gives them (the organization's owners change it later).
  return labelled(path, field, input, [list, h('p', { class: 'help', text: t().emailsHint }), h('p', { class: 'help', id: 'invite-role', text: t().inviteRole })]);
}

export function newItem(fields) {
  const item = {};
  for (const f of fields) {
    if (f.kind === 'list') item[f.name] = [newItem(f.item_fields)];
    else if (f.default !== undefined && f.kind === 'enum') item[f.name] = f.default;
  }
  return item;
}

export function renderList(step, path, field, obj) {
  const list = obj[field.name];
  const isKr = field.name === 'key_results';
  const id = idFor(path);
  const box = h('fieldset', { class: 'field list', id, 'data-field': path, 'aria-describedby': `${id}-help ${id}-msg` },
    h('legend', {}, field.label),
    h('p', { class: 'help', id: `${id}-help`, text: field.help }),
  );
  list.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    const itemBox = h('fieldset', { class: isKr ? 'item kr' : 'item', 'data-item': itemPath }, h('legend', { text: isKr ? t().krN(i + 1) : t().objectiveN(i + 1) }));
    // A yes/no key result is done or not: it has no numbers to type (the rules want 0 → 1).
    const yesNo = isKr && item.metric_type === 'boolean';
    if (yesNo && (item.baseline !== 0 || item.target !== 1)) {
      item.baseline = 0;
      item.target = 1;
      delete item.unit;
      scheduleSave(step);
    }
    for (const f of field.item_fields) {
      if (yesNo && ['baseline', 'target', 'unit'].includes(f.name)) continue;
      if (f.kind === 'list') itemBox.append(renderList(step, `${itemPath}.${f.name}`, f, item));
      else itemBox.append(renderField(step, `${itemPath}.${f.name}`, f, item));
    }
    if (yesNo) itemBox.append(h('p', { class: 'help yes-no', text: t().yesNoKr }));
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
export function rerender(focusSel) {
  renderStep();
  const target = focusSel && $(focusSel);
  (target || $('#wizard input, #wizard select, #wizard textarea'))?.focus();
}

/**
 * Skipping the objectives step sends an empty list. When the user already added objectives it
 * asks first (they would be dropped), and after skipping a notice offers to undo: the objectives
 * come back as they were.
 */
export function skip(step) {
  const before = S.draft[step];
  const count = Array.isArray(before?.objectives) ? before.objectives.length : 0;
  const box = $('#skip-box');
  if (count > 0 && box && !box.hasChildNodes()) {
    box.replaceChildren(h('div', { class: 'confirm', role: 'group', 'aria-labelledby': 'skip-question' },
      h('p', { id: 'skip-question', text: t().skipAsk(count) }),
      h('button', { type: 'button', class: 'primary', id: 'skip-confirm', text: t().skipAnyway, onclick: () => skipNow(step, before) }),
      h('button', { type: 'button', class: 'secondary', id: 'skip-cancel', text: t().keepEditing, onclick: () => { box.replaceChildren(); $('#skip')?.focus(); } }),
    ));
    $('#skip-cancel').focus();
    return;
  }
  skipNow(step, count > 0 ? before : null);
}

function skipNow(step, before) {
  const index = S.index;
  S.draft[step] = { objectives: [] };
  scheduleSave(step);
  go(index + 1);
  if (before) {
    notice(t().skipped, {
      kind: 'skipped',
      actions: [[t().undo, () => {
        S.draft[step] = before;
        scheduleSave(step);
        clearNotice();
        go(index);
      }]],
    });
    $('#notice button')?.setAttribute('data-undo', '');
  }
}

/** A field's answer as the user reads it: options by their labels, lists by their size. */
function answerOf(field, value) {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) return t().emptyAnswer;
  const label = (v) => field.options?.find((o) => o.value === v)?.label ?? String(v);
  if (field.kind === 'boolean') return value === true ? t().yes : t().no;
  if (field.kind === 'list') return (Array.isArray(value) ? value : []).map((o) => o?.title).filter(Boolean).join(' · ') || String(value.length);
  if (Array.isArray(value)) return value.map(label).join(', ');
  if (field.kind === 'enum' || field.kind === 'country') return label(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * The review's summary: every earlier step's answers, each step with a link to edit it, the
 * organization's address and the invitations' count; the other steps' errors below.
 */
export function renderSummary() {
  const p = preview(S.draft, ctx());
  const invites = Array.isArray(S.draft.review?.invite_emails) ? S.draft.review.invite_emails.length : 0;
  const steps = S.meta.slice(0, -1).map((step, index) => {
    const data = S.draft[step.id] && typeof S.draft[step.id] === 'object' ? S.draft[step.id] : {};
    return h('section', { class: 'answers', 'data-summary-step': step.id, 'aria-labelledby': `sum-${step.id}` },
      h('div', { class: 'answers-head' },
        h('h3', { id: `sum-${step.id}`, text: step.title }),
        h('button', { type: 'button', class: 'link', 'data-edit': step.id, 'aria-label': t().editStep(step.title), text: t().editShort, onclick: () => go(index) }),
      ),
      h('dl', {}, ...step.fields.flatMap((f) => [h('dt', { text: f.label }), h('dd', { text: answerOf(f, data[f.name]) })])),
    );
  });
  return h('section', { class: 'summary', 'aria-labelledby': 'summary-title' },
    h('h2', { id: 'summary-title', text: t().review }),
    h('dl', { class: 'totals' },
      h('dt', { text: t().orgSlug }), h('dd', { text: p.slug ? `${t().workspaceHost}${p.slug}` : '—' }),
      h('dt', { text: t().invitationsSent }), h('dd', { id: 'invite-count', text: String(invites) }),
    ),
    ...steps,
    h('div', { id: 'other-steps' }),
  );
}


// ---------------------------------------------------------------------------------------------
// Checking: the package's report, shown under each field

export function issuesFor(step) {
  const report = validateStep(step, S.draft[step] ?? {}, ctx());
  const server = (S.serverIssues ?? []).filter((i) => i.path.startsWith(`${step}.`) && !report.issues.some((r) => r.path === i.path && r.code === i.code));
  return { report, issues: [...report.issues, ...server] };
}

/** The element that shows an issue: the field itself, or its list / e-mail list. */
export function containerOf(path) {
  let p = path;
  while (p) {
    if (document.querySelector(`[data-msg="${CSS.escape(p)}"]`)) return p;
    const cut = Math.max(p.lastIndexOf('['), p.lastIndexOf('.'));
    if (cut <= 0) return null;
    p = p.slice(0, cut);
  }
  return null;
}

export function check() {
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
      const index = i.path !== path && /\[(\d+)\]$/.exec(i.path);
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
  const fields = [...new Set(errors.map((i) => containerOf(i.path) ?? i.path))];
  if (errors.length && S.attempted.has(meta.id)) {
    const links = fields.map((f) => h('button', { type: 'button', class: 'link', 'data-focus': f, text: labelOf(f), onclick: () => focusField(f) }));
    blocking.replaceChildren(t().fixToContinue, ' ', ...links.flatMap((l, i) => (i ? [', ', l] : [l])), '.');
  } else {
    blocking.replaceChildren();
  }
  if (meta.id === 'company') {
    const slug = $('#slug');
    const s = preview(S.draft, ctx()).slug;
    if (slug) slug.replaceChildren(...(s ? [t().workspace, ' ', h('strong', { text: `${t().workspaceHost}${s}` })] : []));
  }
  if (meta.id === 'review') checkWizard(report);
}

/** On the review step: the other steps' errors, with a way to get there. */
export function checkWizard(reviewReport) {
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

export function valueAt(path) {
  let v = S.draft;
  for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[part];
  }
  return v;
}

export function labelOf(path) {
  const el = document.querySelector(`[data-field="${CSS.escape(path)}"] > label, [data-field="${CSS.escape(path)}"] > legend`);
  const words = el ? [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim() : '';
  const text = words || path;
  const objective = /objectives\[(\d+)\]/.exec(path);
  const kr = /key_results\[(\d+)\]/.exec(path);
  const where = [objective && t().objectiveN(Number(objective[1]) + 1), kr && t().krN(Number(kr[1]) + 1)].filter(Boolean);
  const item = !objective && /\[(\d+)\]/.exec(path);
  if (where.length) return `${where.join(' · ')}: ${text}`;
  return item ? `${text} (${Number(item[1]) + 1})` : text;
}
