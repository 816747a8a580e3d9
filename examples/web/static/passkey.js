// Passkeys on the Torii example page: sign up, log in (with or without an email, or from the email
// field's autofill), add, list, rename and delete passkeys. Loaded after app.js and uses its helpers
// ($, api, run, showMessage, ...).
//
// The server sends WebAuthn options as JSON with binary values in base64url; the browser API wants
// ArrayBuffers, and its answers are ArrayBuffers that go back as base64url. That conversion is all this
// file adds around navigator.credentials.create() and .get(). The ceremony's state stays on the server:
// only the challenge id travels through here.
'use strict';

function fromBase64url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const decodeDescriptors = (list) => (list ?? []).map((c) => ({ ...c, id: fromBase64url(c.id) }));

/** navigator.credentials.create() with the server's options; resolves to JSON for the server. */
async function createPasskey(options) {
  const publicKey = {
    ...options.publicKey,
    challenge: fromBase64url(options.publicKey.challenge),
    user: { ...options.publicKey.user, id: fromBase64url(options.publicKey.user.id) },
    excludeCredentials: decodeDescriptors(options.publicKey.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey });
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: toBase64url(credential.response.clientDataJSON),
      attestationObject: toBase64url(credential.response.attestationObject),
      transports: credential.response.getTransports?.() ?? [],
    },
    extensions: credential.getClientExtensionResults(),
  };
}

/**
 * navigator.credentials.get() with the server's options. A modal prompt unless `request` asks for
 * `mediation: 'conditional'` (autofill), which also passes the AbortSignal that cancels it.
 */
async function getPasskey(options, request = {}) {
  const publicKey = {
    ...options.publicKey,
    challenge: fromBase64url(options.publicKey.challenge),
    allowCredentials: decodeDescriptors(options.publicKey.allowCredentials),
  };
  const credential = await navigator.credentials.get({ ...request, publicKey });
  const { response } = credential;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
    },
    extensions: credential.getClientExtensionResults(),
  };
}

/** Explains a browser-side failure (the user cancelled, no passkey for this site, ...). */
function ceremonyError(err) {
  if (err?.name === 'NotAllowedError') return 'The passkey request was cancelled or timed out.';
  if (err?.name === 'InvalidStateError') return 'This device already has a passkey for this account.';
  return `The passkey request failed: ${err?.message ?? err}`;
}

/** Runs start → browser → finish; returns the finish result, or null after showing an error. */
async function ceremony(kind, startBody, finishBody, browserStep) {
  const start = await api('POST', `/passkey/${kind}/start`, startBody);
  if (!start.ok) {
    showMessage(errorText(start));
    return null;
  }
  let response;
  try {
    response = await browserStep(start.data.options);
  } catch (err) {
    showMessage(ceremonyError(err));
    return null;
  }
  const finish = await api('POST', `/passkey/${kind}/finish`, {
    ...finishBody,
    challenge_id: start.data.challenge_id,
    response,
  });
  if (!finish.ok) {
    showMessage(errorText(finish));
    return null;
  }
  return finish;
}

async function passkeySignUp() {
  const email = $('email').value.trim();
  if (email === '') {
    showMessage('Enter your email address to sign up with a passkey.');
    return;
  }
  const result = await ceremony('register', { email }, { email }, createPasskey);
  if (!result) return;
  if (!result.data.session) {
    // Sign-ups are answered alike whether or not the address had an account, and log nobody in.
    showMessage('Check your inbox, then log in with your passkey.', 'info');
    return;
  }
  showMessage('Welcome! Your account is ready; your passkey logs you in.', 'info');
  showLoggedIn(result.data.user);
  await loadSessions();
}

async function passkeyLogin(withEmail) {
  const email = $('email').value.trim();
  if (withEmail && email === '') {
    showMessage('Enter your email address, or log in with a passkey without one.');
    return;
  }
  const result = await ceremony('login', withEmail ? { email } : {}, {}, getPasskey);
  if (!result) return;
  showMessage('', 'info');
  showLoggedIn(result.data.user);
  await loadSessions();
}

async function addPasskey() {
  const name = $('passkey-name').value.trim();
  const result = await ceremony('register', {}, name === '' ? {} : { name }, createPasskey);
  if (!result) return;
  $('passkey-name').value = '';
  showMessage(`Passkey “${result.data.passkey.name}” added.`, 'info');
  await loadPasskeys();
}

async function deletePasskey(id) {
  const result = await api('DELETE', `/passkeys/${encodeURIComponent(id)}`);
  if (!result.ok) showMessage(errorText(result));
  else showMessage('That passkey has been removed.', 'info');
  await loadPasskeys();
}

async function renamePasskey(id, current) {
  const name = window.prompt('New name for this passkey', current);
  if (name === null) return;
  const result = await api('PATCH', `/passkeys/${encodeURIComponent(id)}`, { name });
  if (!result.ok) showMessage(errorText(result));
  await loadPasskeys();
}

function passkeyRow(passkey) {
  const row = $('passkey-row').content.firstElementChild.cloneNode(true);
  row.dataset.passkeyId = passkey.id;
  const [name, created, lastUsed, action] = row.cells;
  name.textContent = passkey.name;
  created.textContent = formatTime(passkey.created_at);
  lastUsed.textContent = passkey.last_used_at ? formatTime(passkey.last_used_at) : 'never';
  for (const [label, testid, handler] of [
    ['Rename', 'passkey-rename-button', () => renamePasskey(passkey.id, passkey.name)],
    ['Remove', 'passkey-delete-button', () => deletePasskey(passkey.id)],
  ]) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = label;
    button.dataset.testid = testid;
    button.addEventListener('click', () => run(handler));
    action.append(button);
  }
  return row;
}

async function loadPasskeys() {
  const result = await api('GET', '/passkeys');
  if (!result.ok) {
    $('passkeys-body').replaceChildren();
    delete $('passkeys').dataset.count;
    return;
  }
  $('passkeys-body').replaceChildren(...result.data.passkeys.map(passkeyRow));
  $('passkeys').dataset.count = String(result.data.passkeys.length);
}

// Autofill ("conditional UI"): while the login form is shown, a usernameless login waits in the
// background, and the browser lists this site's passkeys among the email field's suggestions (the field
// has autocomplete="username webauthn"). Picking one logs in; nothing is shown otherwise. The state is
// mirrored on the field's data-passkey-autofill: waiting, stopped, refused, failed or unavailable.
// While a button's ceremony runs, `suspended` keeps autofill from starting again.
const autofill = { controller: null, done: Promise.resolve(), suspended: false };

/**
 * Runs a button's passkey action with autofill paused: a page runs one WebAuthn request at a time, so
 * the waiting autofill request is aborted before the button's own prompt, and started again once the
 * action is over if nobody is logged in.
 */
async function pausingAutofill(action) {
  autofill.suspended = true;
  await stopAutofill();
  try {
    await action();
  } finally {
    autofill.suspended = false;
    startAutofill();
  }
}

function setAutofillState(state) {
  $('email').dataset.passkeyAutofill = state;
}

async function autofillAvailable() {
  try {
    return (await window.PublicKeyCredential?.isConditionalMediationAvailable?.()) === true;
  } catch {
    return false;
  }
}

/** Starts the background request, unless one is running or someone is logged in. */
function startAutofill() {
  if (autofill.controller || autofill.suspended || $('status').dataset.state !== 'logged-out') return;
  const controller = new AbortController();
  autofill.controller = controller;
  autofill.done = waitForAutofill(controller.signal)
    .catch(() => setAutofillState('failed'))
    .finally(() => {
      if (autofill.controller === controller) autofill.controller = null;
    });
}

/** Cancels the background request; resolves once the browser has let go of it. */
async function stopAutofill() {
  const { controller, done } = autofill;
  if (!controller) return;
  autofill.controller = null;
  controller.abort();
  await done;
}

async function waitForAutofill(signal) {
  if (!(await autofillAvailable())) {
    setAutofillState('unavailable');
    return;
  }
  const start = await api('POST', '/passkey/login/start', {});
  if (signal.aborted) {
    setAutofillState('stopped');
    return;
  }
  if (!start.ok) {
    setAutofillState('failed');
    return;
  }
  // The challenge expires on the server (options.publicKey.timeout says when): take a fresh one before.
  const lifetime = Number(start.data.options.publicKey.timeout) || 300_000;
  const refresh = setTimeout(() => stopAutofill().then(startAutofill), Math.max(lifetime - 15_000, 30_000));
  let response;
  try {
    setAutofillState('waiting');
    response = await getPasskey(start.data.options, { mediation: 'conditional', signal });
  } catch {
    // An abort is ours (a button started another ceremony, or a login happened); anything else ends
    // autofill until the next ceremony or logout, without bothering the user, who asked for nothing.
    setAutofillState(signal.aborted ? 'stopped' : 'failed');
    return;
  } finally {
    clearTimeout(refresh);
  }
  setAutofillState('stopped');
  let refused = true;
  await run(async () => {
    const finish = await api('POST', '/passkey/login/finish', { challenge_id: start.data.challenge_id, response });
    if (!finish.ok) {
      showMessage(errorText(finish));
      return;
    }
    refused = false;
    showMessage('', 'info');
    showLoggedIn(finish.data.user);
    await loadSessions();
  });
  if (refused) {
    // Offer the passkeys again when the user comes back to the field, not at once: a device that
    // answers by itself would otherwise send the refused passkey again and again.
    setAutofillState('refused');
    $('email').addEventListener('focus', startAutofill, { once: true });
  }
}

// app.js marks the login state on #status; follow it, so the list is current after any login and
// autofill runs exactly while the login form is shown.
new MutationObserver(() => {
  const state = $('status').dataset.state;
  if (state === 'logged-in') {
    stopAutofill();
    loadPasskeys();
  } else {
    $('passkeys-body').replaceChildren();
    delete $('passkeys').dataset.count;
    if (state === 'logged-out') startAutofill();
  }
}).observe($('status'), { attributes: true, attributeFilter: ['data-state'] });

$('passkey-signup').addEventListener('click', () => run(() => pausingAutofill(passkeySignUp)));
$('passkey-login').addEventListener('click', () => run(() => pausingAutofill(() => passkeyLogin(true))));
$('passkey-login-usernameless').addEventListener('click', () =>
  run(() => pausingAutofill(() => passkeyLogin(false))));
$('passkey-add').addEventListener('click', () => run(addPasskey));
