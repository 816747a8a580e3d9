// Shared by the real-browser tests: where the server binary and artifacts are, starting the example
// server on a free port, and launching Debian's headless Chromium (playwright-core never downloads one).

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const workspace = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const serverBin =
  process.env.EXAMPLE_WEB_BIN ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(workspace, 'target'), 'debug', 'example-web');
export const artifactDir = process.env.ARTIFACT_DIR ?? path.join(workspace, 'test-artifacts');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Starts the server on a free port; resolves once its start-up log line gives the URL. */
export function startServer(databaseUrl, logPath) {
  const child = spawn(serverBin, [], {
    // Concealed sign-ups (the example's default) log nobody in; these tests walk the sign-up-and-in
    // path, and the HTTP smoke tests cover the concealed answers.
    env: {
      ...process.env,
      PORT: '0',
      BIND_ADDR: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      RUST_LOG: 'info',
      TORII_CONCEAL_EXISTING_ACCOUNTS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logPath);
  child.stderr.pipe(log, { end: false });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 30 s; see ${logPath}`)), 30_000);
    timer.unref();
    exited.then(({ code, signal }) => reject(new Error(`the server exited (${code ?? signal}); see ${logPath}`)));
    let seen = '';
    child.stdout.setEncoding('utf8');
    // Keep reading for the whole run, so the server never blocks on a full pipe.
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      seen += chunk;
      const match = /url=(http:\/\/\S+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { child, exited, url };
}

/** Launches headless Chromium with a fresh temporary profile (removed on close). */
export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      // The machine's network is closed: without these Chromium keeps trying to reach Google.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}
