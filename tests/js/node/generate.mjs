// Seeded generator of wizard inputs for the differential tests (and `make parity-long` later):
// valid wizards perturbed field by field, wrong types, Unicode edge cases, huge values, steps
// alone and arbitrary JSON. Deterministic for a seed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './helpers.mjs';

export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(next() * xs.length)];
  return { next, int, pick, chance: (p) => next() < p };
}

const PIECES = [
  'a', 'Z', 'ñ', 'É', 'ß', 'ø', 'æ', 'İ', 'ı', 'ﬁ', 'Ω', 'Å', 'Å', 'e\u0301', 'n\u0303', 'a\u0323\u0302',
  '\u0301', '\u094d', 'क्ष', '李', '東京', 'محمد', 'שלום', 'Жанна', 'ก', '가', '\u1100\u1161\u11a8', '😀',
  '👨‍👩‍👧', '🇲🇽', ' ', '  ', '\t', '\n', '\r\n', '\r', '\u00a0', '\u2028', '\u3000', '\u200b', '\u200d',
  '\u202e', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009b', '\ufeff', '\ufffd', '\uffff',
  '-', '.', "'", '’', '&', '(', ')', ',', '+', '/', '_', '#', '@', '%', '%2', '%20', ':', '://', '?', '=', '{',
  '0', '7', '42', '-1', '1e3', '4.5', 'NaN', 'Infinity', 'http', 'https://', 'acme.com', 'xn--', 'www.',
  'mx', 'ES', 'America/Mexico_City', 'europe/madrid', 'UTC', 'ana@acme.com', 'ANA@ACME.COM', 'x@y',
];

export function makeGenerator(seed) {
  const r = rng(seed);
  const base = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/valid_wizard.json'), 'utf8'));
  const text = (maxPieces = 8) => Array.from({ length: r.int(0, maxPieces) }, () => r.pick(PIECES)).join('');
  const ofLength = (n, unit = r.pick(['a', 'é', 'e\u0301', '😀', ' a', '李'])) => unit.repeat(Math.max(0, n));
  const number = () =>
    r.pick([0, 1, -1, 2, 10, 11, 50, 51, 200, 201, 1000, 1001, 1799, 1800, 2026, 2027, 10000, 10001, 1000000, 1000001,
      0.5, 4.5, 45.0, 99.99, 100, 100.5, -0.0, 1e21, 1.5e300, -1e-7, 2 ** 53, 2 ** 63, Number.MAX_SAFE_INTEGER + 2, r.next() * 1e6]);
  const scalar = () => {
    switch (r.int(0, 9)) {
      case 0: return null;
      case 1: return r.chance(0.5);
      case 2: case 3: return number();
      case 4: return String(number());
      case 5: return ofLength(r.int(0, 130));
      default: return text();
    }
  };
  const anyJson = (depth = 0) => {
    if (depth > 3 || r.chance(0.5)) return scalar();
    if (r.chance(0.5)) return Array.from({ length: r.int(0, 4) }, () => anyJson(depth + 1));
    return Object.fromEntries(Array.from({ length: r.int(0, 4) }, () => [text(3), anyJson(depth + 1)]));
  };
  const fieldValue = (name) => {
    switch (r.int(0, 11)) {
      case 0: return scalar();
      case 1: return anyJson();
      case 2: return ofLength(r.pick([1, 2, 4, 5, 9, 10, 19, 20, 99, 100, 101, 119, 120, 121, 199, 200, 201, 499, 500, 501, 999, 1000, 1001]));
      case 3: return r.pick(['none', 'beginner', 'intermediate', 'advanced', 'expert', 'low', 'critical', 'technology', 'retail', 'small',
        'enterprise', 'es', 'en', 'fr', 'formal', 'weekly', 'quarterly', 'yes', 'later', 'Technology', ' small']);
      case 4: return Array.from({ length: r.int(0, 10) }, () => r.pick(['alignment', 'focus', 'growth', 'revenue_growth', 'innovation',
        'strategy', 'analytics', 'reporting', 'money', 'Focus', 1, null]));
      case 5: return Array.from({ length: r.int(0, 55) }, (_, i) => r.pick([`user${i}@acme.com`, 'ANA@acme.com', 'ana@acme.com', 'bad', '', ' luis@cafenino.mx ', 7]));
      case 6: return r.pick(['acme.com', 'https://acme.com/', 'HTTP://WWW.ACME.COM/About/', 'ftp://x.com', 'javascript:alert(1)', 'https://a b.com', 'https://u:p@x.com', `https://acme.com/${'a'.repeat(2040)}`]);
      case 7: return r.pick(['mx', ' es ', 'XX', 'MEX', 'America/Mexico_City', 'america/mexico_city', 'US/Eastern', 'Mars/Base', 'Factory']);
      case 8: return r.chance(0.5) ? 'x'.repeat(r.int(1000, 60_000)) : text(40);
      case 9: return r.pick([true, false, 'true', 1, 0]);
      default: return text();
    }
  };
  const keyResult = () => {
    const kr = {};
    if (r.chance(0.9)) kr.title = r.chance(0.7) ? `Resultado ${text(2)} ${r.int(0, 9)}` : fieldValue('title');
    if (r.chance(0.9)) kr.metric_type = r.pick(['number', 'percentage', 'currency', 'boolean', 'ratio']);
    if (r.chance(0.6)) kr.baseline = r.chance(0.7) ? r.pick([0, 1, 10, 50, 100, -1, 101, '5', 'x']) : scalar();
    if (r.chance(0.9)) kr.target = r.chance(0.7) ? r.pick([0, 1, 2, 10, 50, 100, 100.5, '12.5', 'NaN', 1e12]) : scalar();
    if (r.chance(0.2)) kr.unit = fieldValue('unit');
    if (r.chance(0.05)) kr[text(2)] = scalar();
    return kr;
  };
  const objective = () => ({
    title: r.chance(0.8) ? r.pick(['Crecer en ventas', 'crecer EN ventas', 'Encantar clientes', 'Abrir tienda', 'Otra meta']) : fieldValue('title'),
    ...(r.chance(0.3) ? { description: fieldValue('description') } : {}),
    key_results: r.chance(0.9) ? Array.from({ length: r.int(0, 7) }, keyResult) : fieldValue('key_results'),
  });
  const steps = ['welcome', 'company', 'organization', 'objectives', 'preferences', 'review'];

  /** One input: `{ step?: string, input: unknown }`. */
  return function next() {
    const kind = r.next();
    if (kind < 0.1) return { input: anyJson() };
    const w = structuredClone(base);
    const mutations = r.int(1, 4);
    for (let m = 0; m < mutations; m++) {
      const step = r.pick(steps);
      const choice = r.next();
      if (choice < 0.05) {
        w[step] = r.chance(0.5) ? anyJson() : undefined;
      } else if (step === 'objectives' && choice < 0.5) {
        w.objectives = { objectives: Array.from({ length: r.int(0, 7) }, objective) };
      } else if (choice < 0.6) {
        const fields = Object.keys(w[step] ?? {});
        if (fields.length && w[step] && typeof w[step] === 'object') delete w[step][r.pick(fields)];
      } else if (choice < 0.65) {
        if (w[step] && typeof w[step] === 'object') w[step][text(3) || 'extra'] = scalar();
      } else if (w[step] && typeof w[step] === 'object' && !Array.isArray(w[step])) {
        const fields = Object.keys(base[step]);
        const name = r.pick(fields);
        w[step][name] = fieldValue(name);
      }
    }
    if (kind < 0.3) {
      const step = r.pick(steps);
      return { step, input: w[step] };
    }
    return { input: w };
  };
}
