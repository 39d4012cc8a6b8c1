// Signing in (tokens from the URL fragment, development mode), calls to the API.
import { MODE, S, t, emit } from './state.js';

// Auth and HTTP

/** The invitation link's page: its `#token=` is an invitation, not a sign-in token. */
export const ACCEPT_PATH = '/invitations/accept';

export function readToken() {
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

export function claims(token) {
  try {
    const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(escape(atob(b64)));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export class HttpError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, path, body, headers = {}) {
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

export function signOut(message) {
  localStorage.removeItem('onboarding:dev-token');
  sessionStorage.removeItem('onboarding:token');
  S.token = null;
  emit('signed-out', message); // app.js shows the sign-in
}
