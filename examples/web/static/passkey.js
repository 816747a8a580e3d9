// Passkeys on the Torii example page: sign up, log in (with or without an email), add, list, rename
// and delete passkeys. Loaded after app.js and uses its helpers ($, api, run, showMessage, ...).
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

/** navigator.credentials.get() with the server's options (a modal prompt, never autofill). */
async function getPasskey(options) {
  const publicKey = {
    ...options.publicKey,
    challenge: fromBase64url(options.publicKey.challenge),
    allowCredentials: decodeDescriptors(options.publicKey.allowCredentials),
  };
  const credential = await navigator.credentials.get({ publicKey });
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

// app.js marks the login state on #status; follow it, so the list is current after any login.
new MutationObserver(() => {
  if ($('status').dataset.state === 'logged-in') loadPasskeys();
  else {
    $('passkeys-body').replaceChildren();
    delete $('passkeys').dataset.count;
  }
}).observe($('status'), { attributes: true, attributeFilter: ['data-state'] });

$('passkey-signup').addEventListener('click', () => run(passkeySignUp));
$('passkey-login').addEventListener('click', () => run(() => passkeyLogin(true)));
$('passkey-login-usernameless').addEventListener('click', () => run(() => passkeyLogin(false)));
$('passkey-add').addEventListener('click', () => run(addPasskey));
