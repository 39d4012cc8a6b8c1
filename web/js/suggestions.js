// Objective suggestions on the objectives step.
import { S, t, $, h, idFor, emit, stepData } from './state.js';
import { api } from './http.js';
import { scheduleSave } from './autosave.js';

// Suggestions (objectives step): only when the user's AI level is not `none`; with `none` the
// endpoint is never called.

export function aiLevel() {
  return S.draft.preferences?.ai_assistance_level;
}

export function renderSuggestions() {
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

export function fillSuggestions() {
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
export function choose(suggestion, action) {
  S.suggestions.suggestions = S.suggestions.suggestions.filter((s) => s.id !== suggestion.id);
  api('POST', `/api/onboarding/suggestions/${suggestion.id}/feedback`, { action }).catch(() => {});
  fillSuggestions();
}

/** Adds a suggested objective to the draft (numbers as the inputs show them). */
export function take(suggestion, action) {
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
  emit('rerender', action === 'edited' ? id2sel(`objectives.objectives[${index}].title`) : `[data-item="objectives.objectives[${index}]"] input`);
}

export const id2sel = (path) => `#${idFor(path)}`;
