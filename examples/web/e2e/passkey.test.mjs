// Real-browser test of passkeys in the example web app: Debian's headless Chromium, driven by
// playwright-core, with Chromium's virtual authenticator (CDP's WebAuthn domain) standing in for a
// platform authenticator with resident keys and user verification. The page is opened at
// http://localhost:PORT, the origin the server's relying party (`localhost`) accepts.
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

/** A platform authenticator (like a laptop's) that keeps passkeys and verifies the user by itself. */
async function addAuthenticator(cdp) {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return authenticatorId;
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

test('sign up with a passkey, log in with and without email, add one, remove one, in Chromium', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
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

  // Log out, log in by email.
  await logOut(page);
  await page.getByTestId('email-input').fill(EMAIL);
  await page.getByTestId('passkey-login-button').click();
  assert.equal(await status(page, 'logged-in'), `Logged in as ${EMAIL}`);

  // Log out, log in without typing anything: the passkey names the account.
  await logOut(page);
  await page.getByTestId('email-input').fill('');
  await page.getByTestId('passkey-usernameless-button').click();
  assert.equal(await status(page, 'logged-in'), `Logged in as ${EMAIL}`);
  await passkeyCount(page, 1);
  assert.notEqual(await page.getByTestId('passkey-last-used').textContent(), 'never');

  // The only passkey of a passwordless account cannot be removed.
  await page.getByTestId('passkey-delete-button').click();
  await page.locator('[data-testid="message"]', { hasText: 'last way to log in' }).waitFor();
  await passkeyCount(page, 1);

  // A second passkey, on another device (the laptop is away: the phone is the only authenticator).
  const { credentials: laptopKeysNow } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: laptop });
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: laptop });
  const phone = await addAuthenticator(cdp);
  await page.getByTestId('passkey-name-input').fill('Phone');
  await page.getByTestId('passkey-add-button').click();
  await passkeyCount(page, 2);
  assert.equal(await page.getByTestId('message').textContent(), 'Passkey “Phone” added.');
  await page.screenshot({ path: path.join(artifactDir, 'passkey-example-web.png'), fullPage: true });

  // Remove the laptop's passkey.
  const laptopRow = page.locator('[data-testid="passkey-row"]', { hasNotText: 'Phone' });
  await laptopRow.getByTestId('passkey-delete-button').click();
  await passkeyCount(page, 1);
  assert.equal(await page.getByTestId('passkey-name').textContent(), 'Phone');

  // The laptop comes back with its (now removed) passkey: it no longer logs in.
  await logOut(page);
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: phone });
  const laptopAgain = await addAuthenticator(cdp);
  await cdp.send('WebAuthn.addCredential', { authenticatorId: laptopAgain, credential: laptopKeysNow[0] });
  await page.getByTestId('passkey-usernameless-button').click();
  await page.locator('[data-testid="message"]', { hasText: 'Invalid' }).waitFor();
  assert.equal(await status(page, 'logged-out'), 'Logged out');

  assert.deepEqual(problems, [], 'no script errors and no Content-Security-Policy violations');
  await context.close();
});
