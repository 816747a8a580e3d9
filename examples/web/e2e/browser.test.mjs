// Real-browser test of the example web app: Debian's headless Chromium, driven by playwright-core,
// against the example-web binary on a free port with a fresh SQLite database.
//
// `cargo test -p example-web` runs it (examples/web/tests/it/browser.rs). To run it by hand:
//   cargo build -p example-web && npm ci --prefix examples/web/e2e && npm test --prefix examples/web/e2e
// Environment: EXAMPLE_WEB_BIN (the server; default <workspace>/target/debug/example-web),
// ARTIFACT_DIR (screenshot and server log; default <workspace>/test-artifacts), CHROMIUM (default
// /usr/bin/chromium). playwright-core never downloads a browser; it drives the one installed.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { artifactDir, launchChromium, startServer } from './support.mjs';

const EMAIL = 'ada@example.com';
const PASSWORD = 'analytical engine 1843';
const STEP_TIMEOUT_MS = 15_000;

let tempDir;
let server;
let baseUrl;
let browser;

before(async () => {
  mkdirSync(artifactDir, { recursive: true });
  tempDir = mkdtempSync(path.join(tmpdir(), 'torii-example-web-'));
  server = startServer(`sqlite://${tempDir}/example.db?mode=rwc`, path.join(artifactDir, 'browser-example-web.log'));
  const listening = new URL(await server.url);
  baseUrl = `http://localhost:${listening.port}/`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

/** A new browser context (its own cookies: another "device") with one page. */
async function newDevice() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 820 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  return { context, page };
}

/** Waits until the page says logged in or logged out, and returns the status text. */
async function status(page, state) {
  const badge = page.locator(`[data-testid="status"][data-state="${state}"]`);
  await badge.waitFor();
  return badge.textContent();
}

async function submit(page, button) {
  await page.getByTestId('email-input').fill(EMAIL);
  await page.getByTestId('password-input').fill(PASSWORD);
  await page.getByTestId(button).click();
}

async function sessionCount(page, count) {
  await page.locator(`[data-testid="sessions-table"][data-count="${count}"]`).waitFor();
}

/** The current session's public id, as the given page's own cookie sees it. */
async function sessionId(page) {
  return page.evaluate(async () => (await (await fetch('/auth/session')).json()).session.id);
}

test('register, log out, log in, manage sessions, open /protected and log out in Chromium', async () => {
  const { context, page } = await newDevice();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });

  await page.goto(baseUrl);
  assert.equal(await status(page, 'logged-out'), 'Logged out');

  // Registering logs the new account in.
  await submit(page, 'register-button');
  assert.equal(await status(page, 'logged-in'), `Logged in as ${EMAIL}`);
  assert.equal(await page.getByTestId('user-email').textContent(), EMAIL);
  await sessionCount(page, 1);
  const row = page.getByTestId('session-row');
  assert.match(await row.getByTestId('session-agent').textContent(), /Chrome/);
  assert.equal(await row.getByTestId('session-ip').textContent(), '127.0.0.1');
  assert.equal(await row.getByTestId('this-device').textContent(), 'This device');
  assert.equal(await page.getByTestId('password-input').inputValue(), '', 'the password field is cleared');

  // The session cookie is HttpOnly: the page's own script cannot read it.
  const cookie = (await context.cookies(baseUrl)).find((c) => c.name === 'torii_session');
  assert.ok(cookie, 'the session cookie is set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(await page.evaluate(() => document.cookie), '');

  await page.getByTestId('logout-button').click();
  assert.equal(await status(page, 'logged-out'), 'Logged out');
  assert.equal(await page.getByTestId('message').textContent(), 'You have been logged out.');

  await submit(page, 'login-button');
  assert.equal(await status(page, 'logged-in'), `Logged in as ${EMAIL}`);
  await sessionCount(page, 1);

  // Two more devices log in to the same account.
  const others = [];
  for (let i = 0; i < 2; i++) {
    const device = await newDevice();
    await device.page.goto(baseUrl);
    await status(device.page, 'logged-out');
    await submit(device.page, 'login-button');
    await status(device.page, 'logged-in');
    others.push({ ...device, id: await sessionId(device.page) });
  }
  await page.getByTestId('refresh-sessions-button').click();
  await sessionCount(page, 3);
  assert.equal(await page.locator('[data-current="true"]').count(), 1);

  // Revoking one device logs out that device only.
  await page.locator(`[data-session-id="${others[0].id}"]`).getByTestId('revoke-button').click();
  await sessionCount(page, 2);
  assert.equal(await page.getByTestId('message').textContent(), 'That session has been logged out.');
  await page.screenshot({ path: path.join(artifactDir, 'browser-example-web.png'), fullPage: true });
  await others[0].page.reload();
  await status(others[0].page, 'logged-out');
  await others[1].page.reload();
  await status(others[1].page, 'logged-in');

  // "Log out all other sessions" leaves only this one.
  await page.getByTestId('revoke-others-button').click();
  await sessionCount(page, 1);
  assert.equal(await page.getByTestId('message').textContent(), 'Logged out 1 other session.');
  await others[1].page.reload();
  await status(others[1].page, 'logged-out');
  for (const other of others) await other.context.close();

  // The protected route knows who this is.
  const protectedReply = await page.goto(new URL('protected', baseUrl).href);
  assert.equal(protectedReply.status(), 200);
  const body = await protectedReply.json();
  assert.equal(body.email, EMAIL);
  assert.ok((await page.locator('body').innerText()).includes(EMAIL), 'the page shows the email');
  await page.goBack();
  assert.equal(await status(page, 'logged-in'), `Logged in as ${EMAIL}`);

  await page.getByTestId('logout-button').click();
  assert.equal(await status(page, 'logged-out'), 'Logged out');
  assert.equal((await context.cookies(baseUrl)).filter((c) => c.name === 'torii_session').length, 0);

  const refused = await page.goto(new URL('protected', baseUrl).href);
  assert.equal(refused.status(), 401);
  assert.equal((await refused.json()).code, 'unauthenticated');
  await page.goBack();
  assert.equal(await status(page, 'logged-out'), 'Logged out');

  assert.deepEqual(problems, [], 'no script errors and no Content-Security-Policy violations');
  await context.close();
});

test('the server stops cleanly on SIGTERM', async () => {
  await browser.close();
  browser = undefined;
  server.child.kill('SIGTERM');
  const timeout = new Promise((resolve) => setTimeout(() => resolve({ timedOut: true }), 10_000).unref());
  const result = await Promise.race([server.exited, timeout]);
  assert.deepEqual(result, { code: 0, signal: null });
});
