// What the browser tests share: where the binary, the built dashboard and Chromium are, a free
// loopback port, waiting for `bursar serve` to answer, stopping it, and Chromium's launch.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BINARY = process.env.BURSAR_TEST_BINARY || path.join(ROOT, 'build', 'release', 'bursar');
export const WEB_DIR = process.env.BURSAR_WEB_DIR || path.join(ROOT, 'web', 'dist');
export const CHROMIUM = process.env.BURSAR_TEST_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'build', 'artifacts');

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Until `server` (a child process) answers /healthz at `base`; `log()` is its output so far.
export async function waitForHealth(base, server, log, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`bursar exited with ${server.exitCode} before /healthz answered:\n${log()}`);
    }
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`/healthz did not answer within ${deadlineMs} ms:\n${log()}`);
}

// SIGTERM, then SIGKILL after 5 s.
export async function stopServer(server) {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
