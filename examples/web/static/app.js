// The Torii example page's script. It talks to the auth routes with fetch, sending JSON and the page's
// own cookies. The session cookie is HttpOnly, so this script never sees the session token, and it
// keeps no credentials of its own: the password field is cleared once a request has used it.
//
// Everything shown that came from a user or a browser (email, user agent) is set with textContent,
// never as HTML, so it cannot turn into markup.
'use strict';

const $ = (id) => document.getElementById(id);

/** Calls a route of this site; resolves to {ok, status, data} (data is the JSON body, or null). */
async function call(method, url, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (method !== 'GET') {
    // The server refuses state-changing requests that are not JSON (415): a cross-site HTML form
    // cannot send this content type, which is part of the defence against forged requests.
    init.headers['Content-Type'] = 'application/json';
    if (body !== undefined) init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, data };
}

const needsReauthentication = (result) => result.status === 403 && result.data?.code === 'reauthentication_required';

/**
 * Calls an auth route. Adding or removing a way into the account needs a recent login: when the
 * server answers 403 reauthentication_required, the person confirms who they are (password or
 * passkey) and the request is sent once more.
 */
async function api(method, path, body) {
  const result = await call(method, `/auth${path}`, body);
  if (needsReauthentication(result) && (await reauthenticate())) return call(method, `/auth${path}`, body);
  return result;
}

/**
 * Makes sure the login is recent before a step that leaves the page (linking a provider): asks the
 * app's own /sensitive route, which sits behind the FreshAuthUser extractor. Resolves to false when
 * the person cancelled.
 */
async function ensureRecentLogin() {
  const result = await call('GET', '/sensitive');
  return !needsReauthentication(result) || reauthenticate();
}

/**
 * Shows the "confirm it's you" dialog; resolves to true once the session was re-authenticated (by
 * password, or by passkey when passkey.js is loaded), false when the person cancelled.
 */
function reauthenticate() {
  const dialog = $('reauth');
  const form = $('reauth-form');
  const password = $('reauth-password');
  const error = $('reauth-error');
  return new Promise((resolve) => {
    const finish = (done) => {
      form.removeEventListener('submit', onSubmit);
      $('reauth-passkey').removeEventListener('click', onPasskey);
      $('reauth-cancel').removeEventListener('click', onCancel);
      password.value = '';
      dialog.close();
      resolve(done);
    };
    const settle = (result) => {
      if (result.ok) finish(true);
      else error.textContent = errorText(result);
    };
    const onSubmit = async (event) => {
      event.preventDefault();
      settle(await call('POST', '/auth/reauthenticate', { password: password.value }));
    };
    const onPasskey = async () => {
      try {
        settle(await passkeyReauthentication());
      } catch (err) {
        error.textContent = typeof ceremonyError === 'function' ? ceremonyError(err) : String(err);
      }
    };
    const onCancel = () => finish(false);
    error.textContent = '';
    form.addEventListener('submit', onSubmit);
    $('reauth-passkey').addEventListener('click', onPasskey);
    $('reauth-cancel').addEventListener('click', onCancel);
    dialog.showModal();
    // The page's buttons are disabled while an action runs; this dialog's must stay usable.
    for (const button of dialog.querySelectorAll('button')) button.disabled = false;
    password.focus();
  });
}

/** Re-authentication with a passkey: start, the browser's prompt, finish. */
async function passkeyReauthentication() {
  const start = await call('POST', '/auth/reauthenticate/passkey/start');
  if (!start.ok) return start;
  const response = await getPasskey(start.data.options);
  return call('POST', '/auth/reauthenticate/passkey/finish', { challenge_id: start.data.challenge_id, response });
}

function showMessage(text, kind = 'error') {
  const message = $('message');
  message.textContent = text;
  message.dataset.kind = kind;
  message.hidden = text === '';
}

/** A wait in words: "45 seconds", "3 minutes", "2 hours". */
function waitText(seconds) {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  if (seconds < 90 * 60) return `${Math.ceil(seconds / 60)} minutes`;
  return `${Math.ceil(seconds / 3600)} hours`;
}

function errorText(result) {
  // 429: a guessing limit. The same answer whether or not the account exists, so the page cannot say
  // more than this; the other ways in are never limited by a lock on password attempts.
  if (result.status === 429) {
    const seconds = Number(result.data?.retry_after) || 60;
    return `Too many attempts. For your security, please wait ${waitText(seconds)} before trying again. ` +
      'You can still sign in with an email link or a passkey, or reset your password.';
  }
  return result.data?.message ?? `Request failed (HTTP ${result.status})`;
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
}

function setStatus(state, text) {
  const status = $('status');
  status.textContent = text;
  status.dataset.state = state;
}

function showLoggedOut() {
  setStatus('logged-out', 'Logged out');
  $('signed-out').hidden = false;
  $('signed-in').hidden = true;
  $('sessions-body').replaceChildren();
  $('security-events-body').replaceChildren();
  for (const id of ['user-email', 'user-id', 'user-created']) $(id).textContent = '';
}

function showLoggedIn(user) {
  setStatus('logged-in', `Logged in as ${user.email}`);
  $('user-email').textContent = user.email;
  $('user-id').textContent = user.id;
  $('user-created').textContent = formatTime(user.created_at);
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
}

function sessionRow(session) {
  const row = $('session-row').content.firstElementChild.cloneNode(true);
  row.dataset.sessionId = session.id;
  row.dataset.current = String(session.current);
  const [agent, ip, created, lastSeen, action] = row.cells;
  agent.textContent = session.user_agent ?? 'Unknown device';
  ip.textContent = session.ip_address ?? 'unknown';
  created.textContent = formatTime(session.created_at);
  lastSeen.textContent = formatTime(session.last_seen_at);
  if (session.current) {
    const mark = document.createElement('strong');
    mark.textContent = 'This device';
    mark.dataset.testid = 'this-device';
    action.append(mark);
  } else {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = 'Revoke';
    button.dataset.testid = 'revoke-button';
    button.addEventListener('click', () => run(() => revoke(session.id)));
    action.append(button);
  }
  return row;
}

async function loadSessions() {
  const result = await api('GET', '/sessions');
  if (result.status === 401) {
    // This session was revoked from another device, or it expired.
    showLoggedOut();
    return;
  }
  if (!result.ok) {
    showMessage(errorText(result));
    return;
  }
  const sessions = result.data.sessions;
  $('sessions-body').replaceChildren(...sessions.map(sessionRow));
  $('sessions').dataset.count = String(sessions.length);
  await loadSecurityEvents();
}

/** What each kind of security event means, in words. */
const EVENT_LABELS = {
  'user.registered': 'Account created',
  'login.succeeded': 'Logged in',
  'login.failed': 'Failed login',
  'session.revoked': 'Session ended',
  'session.revoked_others': 'Other sessions logged out',
  'session.revoked_all': 'All sessions logged out',
  'password.changed': 'Password changed',
  'password.reset': 'Password reset',
  'email.verified': 'Email address verified',
  'email.changed': 'Email address changed',
  'passkey.added': 'Passkey added',
  'passkey.removed': 'Passkey removed',
  'passkey.counter_regression': 'Passkey refused: possible copy',
  'oauth.linked': 'Sign-in provider linked',
  'oauth.unlinked': 'Sign-in provider unlinked',
  'refresh_token.reused': 'Refresh token reused: tokens revoked',
  'account.locked': 'Account temporarily locked',
  'account.unlocked': 'Account unlocked',
  'credentials.dropped': 'Unverified credentials removed',
  'rate_limited': 'Too many requests',
};

function securityEventRow(event) {
  const row = document.createElement('tr');
  row.dataset.testid = 'security-event-row';
  row.dataset.kind = event.kind;
  const detail = event.detail ?? {};
  const how = detail.method ?? detail.provider ?? detail.reason ?? '';
  for (const text of [
    formatTime(event.at),
    EVENT_LABELS[event.kind] ?? event.kind,
    how.replaceAll('_', ' '),
    event.ip_address ?? 'unknown',
    event.user_agent ?? 'Unknown device',
  ]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  return row;
}

async function loadSecurityEvents() {
  const result = await api('GET', '/security-events?limit=20');
  if (!result.ok) return;
  $('security-events-body').replaceChildren(...result.data.events.map(securityEventRow));
}

/** Asks the server who is logged in, and shows it. */
async function refresh() {
  const result = await api('GET', '/user');
  if (result.status === 401) {
    showLoggedOut();
    return;
  }
  if (!result.ok) {
    showMessage(errorText(result));
    return;
  }
  showLoggedIn(result.data.user);
  await loadSessions();
}

async function submitCredentials(action) {
  const result = await api('POST', `/${action}`, { email: $('email').value, password: $('password').value });
  if (!result.ok) {
    showMessage(errorText(result));
    return;
  }
  $('password').value = '';
  if (action === 'register' && !result.data.session) {
    // The server answers every sign-up alike and logs nobody in (it does not tell whether the address
    // already had an account): the new user signs in next.
    showMessage('Check your inbox to confirm your address, then log in.', 'info');
    return;
  }
  showMessage(action === 'register' ? 'Welcome! Your account is ready.' : '', 'info');
  showLoggedIn(result.data.user);
  await loadSessions();
}

async function revoke(id) {
  const result = await api('DELETE', `/sessions/${encodeURIComponent(id)}`);
  if (!result.ok) showMessage(errorText(result));
  else showMessage('That session has been logged out.', 'info');
  await loadSessions();
}

async function revokeOthers() {
  const result = await api('POST', '/sessions/revoke-others');
  if (!result.ok) {
    showMessage(errorText(result));
    return;
  }
  const n = result.data.revoked;
  showMessage(`Logged out ${n} other session${n === 1 ? '' : 's'}.`, 'info');
  await loadSessions();
}

async function logout() {
  const result = await api('POST', '/logout');
  if (!result.ok) {
    showMessage(errorText(result));
    return;
  }
  showLoggedOut();
  showMessage('You have been logged out.', 'info');
}

/** Runs one action at a time, with the buttons disabled meanwhile and network failures reported. */
async function run(action) {
  const setButtons = (disabled) => {
    for (const button of document.querySelectorAll('button')) button.disabled = disabled;
  };
  setButtons(true);
  document.body.setAttribute('aria-busy', 'true');
  try {
    await action();
  } catch (err) {
    showMessage(`Could not reach the server: ${err.message}`);
  } finally {
    setButtons(false);
    $('revoke-others').disabled = !document.querySelector('#sessions-body tr[data-current="false"]');
    document.body.removeAttribute('aria-busy');
  }
}

$('credentials').addEventListener('submit', (event) => {
  event.preventDefault();
  const action = event.submitter?.value === 'register' ? 'register' : 'login';
  run(() => submitCredentials(action));
});
$('logout').addEventListener('click', () => run(logout));
$('revoke-others').addEventListener('click', () => run(revokeOthers));
$('refresh-sessions').addEventListener('click', () => run(refresh));
// Coming back with the Back button may restore the page from the cache; ask the server again.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) run(refresh);
});

run(refresh);
