// Real-browser test of passkeys in the example web app: Debian's headless Chromium, driven by
// playwright-core, with Chromium's virtual authenticator (CDP's WebAuthn domain) standing in for a
// platform authenticator with resident keys and user verification. The page is opened at
// http://localhost:PORT, the origin the server's relying party (`localhost`) accepts.
//
// Autofill (conditional mediation): headless Chromium has no suggestion list to click, but its virtual
// authenticator answers a conditional request by itself, as if the user had picked the passkey, once
// it holds a passkey for the site and simulates user presence. With presence simulation off, the request
// stays waiting, which is how the test holds it open to check that the buttons abort it first.
//
// `cargo test -p example-web` runs it (examples/web/tests/it/browser.rs). By hand:
//   cargo build -p example-web && npm ci --prefix examples/web/e2e && node --test examples/web/e2e/passkey.test.mjs
// Environment: as browser.test.mjs (EXAMPLE_WEB_BIN, ARTIFACT_DIR, CHROMIUM).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { artifactDir, launchChromium, startServer } from './support.mjs';

const EMAIL = 'grace@example.com';
const STEP_TIMEOUT_MS = 15_000;

let tempDir;
let server;
let baseUrl;
let browser;

before(async () => {
  mkdirSync(artifactDir, { recursive: true });
  tempDir = mkdtempSync(path.join(tmpdir(), 'torii-example-passkey-'));
  server = startServer(`sqlite://${tempDir}/example.db?mode=rwc`, path.join(artifactDir, 'passkey-example-web.log'));
  // localhost, not 127.0.0.1: the relying-party id is "localhost", and an IP address cannot be one.
  baseUrl = `http://localhost:${new URL(await server.url).port}/`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

/**
 * A platform authenticator (like a laptop's) that keeps passkeys and verifies the user by itself.
 * `synced`: its passkeys say they are backed up (backup eligible and backed up), as a phone's synced
 * passkeys do.
 */
async function addAuthenticator(cdp, { presence = true, synced = false } = {}) {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: presence,
      defaultBackupEligibility: synced,
      defaultBackupState: synced,
    },
  });
  return authenticatorId;
}

function setPresence(cdp, authenticatorId, enabled) {
  return cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
}

/**
 * Injected before the page's scripts: logs each navigator.credentials.get() ("conditional:start",
 * "modal:start") and how it ended ("conditional:AbortError", "modal:resolved", ...) in
 * window.passkeyRequestLog, passing every call through to the browser unchanged.
 */
function logCredentialRequests() {
  const log = [];
  window.passkeyRequestLog = log;
  const get = navigator.credentials.get.bind(navigator.credentials);
  navigator.credentials.get = (options) => {
    const kind = options?.mediation === 'conditional' ? 'conditional' : 'modal';
    log.push(`${kind}:start`);
    return get(options).then(
      (credential) => {
        log.push(`${kind}:resolved`);
        return credential;
      },
      (err) => {
        log.push(`${kind}:${err.name}`);
        throw err;
      },
    );
  };
}

/** The requests logged since `from` (an index into the log). */
async function requestsSince(page, from) {
  return (await page.evaluate(() => [...window.passkeyRequestLog])).slice(from);
}

const requestCount = async (page) => (await page.evaluate(() => window.passkeyRequestLog.length));

/** Waits for the autofill state the script mirrors on the email field. */
async function autofill(page, state) {
  await page.locator(`[data-testid="email-input"][data-passkey-autofill="${state}"]`).waitFor({ state: 'attached' });
}

/** Logs out with presence simulation off, so the autofill request that starts stays waiting. */
async function logOutWithAutofillWaiting(page, cdp, authenticatorId) {
  await setPresence(cdp, authenticatorId, false);
  await logOut(page);
  await autofill(page, 'waiting');
  assert.deepEqual((await requestsSince(page, 0)).slice(-1), ['conditional:start']);
  await setPresence(cdp, authenticatorId, true);
}

/** Clicks a modal passkey button while autofill waits: the autofill request must end first. */
async function clickWithAutofillWaiting(page, testid) {
  const before = await requestCount(page);
  await page.getByTestId(testid).click();
  assert.equal(await status(page, 'logged-in'), `Logged in as ${EMAIL}`);
  const log = await requestsSince(page, before);
  assert.deepEqual(log.slice(0, 3), ['conditional:AbortError', 'modal:start', 'modal:resolved'], log.join(', '));
}

async function status(page, state) {
  const badge = page.locator(`[data-testid="status"][data-state="${state}"]`);
  await badge.waitFor();
  return badge.textContent();
}

async function passkeyCount(page, count) {
  await page.locator(`[data-testid="passkeys-table"][data-count="${count}"]`).waitFor();
}

async function logOut(page) {
  await page.getByTestId('logout-button').click();
  await status(page, 'logged-out');
}

test('sign up with a passkey, log in with and without email and from autofill, add one, remove one', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.addInitScript(logCredentialRequests);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const laptop = await addAuthenticator(cdp);

  await page.goto(baseUrl);
  await status(page, 'logged-out');
  assert.equal(await page.getByTestId('email-input').getAttribute('autocomplete'), 'username webauthn');
  assert.equal(await page.evaluate(() => PublicKeyCredential.isConditionalMediationAvailable()), true);

  // Sign up: no password anywhere.
  await page.getByTestId('email-input').fill(EMAIL);
  await page.getByTestId('passkey-signup-button').click();
  assert.equal(await status(page, 'logged-in'), `Logged in as ${EMAIL}`);
  await passkeyCount(page, 1);
  const { credentials: laptopKeys } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: laptop });
  assert.equal(laptopKeys.length, 1);
  assert.equal(laptopKeys[0].isResidentCredential, true, 'a discoverable passkey was made');
  assert.equal(laptopKeys[0].rpId, 'localhost');
  const passwordLogin = await page.evaluate(async (email) => {
    const body = JSON.stringify({ email, password: 'no password was ever set' });
    const r = await fetch('/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    return r.status;
  }, EMAIL);
  assert.equal(passwordLogin, 401, 'the account has no password');

  // Log out: the autofill request starts and waits. Log in by email: the button aborts it first.
  await logOutWithAutofillWaiting(page, cdp, laptop);
  await page.getByTestId('email-input').fill(EMAIL);
  await clickWithAutofillWaiting(page, 'passkey-login-button');
  await autofill(page, 'stopped');

  // Log out with presence on: the autofill request is answered, and the user is logged in with no
  // click and nothing typed.
  const before = await requestCount(page);
  const autofillLogin = page.waitForResponse((r) => r.url().endsWith('/auth/passkey/login/finish'));
  await page.getByTestId('logout-button').click();
  assert.equal((await autofillLogin).status(), 200);
  assert.equal(await status(page, 'logged-in'), `Logged in as ${EMAIL}`);
  assert.deepEqual(await requestsSince(page, before), ['conditional:start', 'conditional:resolved']);
  assert.equal(await page.getByTestId('message').isHidden(), true);

  // Log out, log in without typing anything (the button): the passkey names the account.
  await logOutWithAutofillWaiting(page, cdp, laptop);
  await page.getByTestId('email-input').fill('');
  await clickWithAutofillWaiting(page, 'passkey-usernameless-button');
  await passkeyCount(page, 1);
  assert.notEqual(await page.getByTestId('passkey-last-used').textContent(), 'never');

  // The only passkey of a passwordless account cannot be removed.
  await page.getByTestId('passkey-delete-button').click();
  await page.locator('[data-testid="message"]', { hasText: 'last way to log in' }).waitFor();
  await passkeyCount(page, 1);

  // A second passkey, on another device (the laptop is away: the phone is the only authenticator).
  const { credentials: laptopKeysNow } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: laptop });
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: laptop });
  const phone = await addAuthenticator(cdp, { synced: true });
  await page.getByTestId('passkey-name-input').fill('Phone');
  await page.getByTestId('passkey-add-button').click();
  await passkeyCount(page, 2);
  assert.equal(await page.getByTestId('message').textContent(), 'Passkey “Phone” added.');
  // The server recorded each passkey's backup flags as the authenticator reported them.
  const flags = await page.evaluate(async () => {
    const { passkeys } = await (await fetch('/auth/passkeys')).json();
    return passkeys.map((p) => [p.name, p.backup_eligible, p.backup_state]);
  });
  assert.deepEqual(flags, [['Passkey', false, false], ['Phone', true, true]]);
  await page.screenshot({ path: path.join(artifactDir, 'passkey-example-web.png'), fullPage: true });

  // Remove the laptop's passkey.
  const laptopRow = page.locator('[data-testid="passkey-row"]', { hasNotText: 'Phone' });
  await laptopRow.getByTestId('passkey-delete-button').click();
  await passkeyCount(page, 1);
  assert.equal(await page.getByTestId('passkey-name').textContent(), 'Phone');

  // The laptop comes back with its (now removed) passkey: it no longer logs in, neither from the button
  // nor from autofill (which then waits for the user to come back to the field instead of retrying).
  await logOutWithAutofillWaiting(page, cdp, phone);
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: phone });
  const laptopAgain = await addAuthenticator(cdp, { presence: false });
  await cdp.send('WebAuthn.addCredential', { authenticatorId: laptopAgain, credential: laptopKeysNow[0] });
  await setPresence(cdp, laptopAgain, true);
  const refusals = [];
  page.on('response', (r) => {
    if (r.url().endsWith('/auth/passkey/login/finish')) refusals.push(r.status());
  });
  const fromButton = await requestCount(page);
  await page.getByTestId('passkey-usernameless-button').click();
  await autofill(page, 'refused');
  await page.locator('[data-testid="message"]', { hasText: 'Invalid' }).waitFor();
  assert.equal(await status(page, 'logged-out'), 'Logged out');
  const log = await requestsSince(page, fromButton);
  assert.deepEqual(log.slice(-4), ['modal:start', 'modal:resolved', 'conditional:start', 'conditional:resolved']);
  assert.deepEqual(refusals, [401, 401], 'the button and autofill were both refused');

  assert.deepEqual(problems, [], 'no script errors and no Content-Security-Policy violations');
  await context.close();
});
