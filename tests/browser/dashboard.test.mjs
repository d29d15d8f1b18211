// End-to-end test of the dashboard (web/) in headless Chromium against a real `bursar serve
// --demo`: admin login with the token, today's cards, a payment that appears without reload,
// cursor pagination, filters, the demo user's wallet, 401 back to login, and screenshots.
//
// Run: node --test tests/browser/   (see README.md beside this file)

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ARTIFACTS,
  BINARY,
  CHROMIUM,
  WEB_DIR,
  freePort,
  launchBrowser,
  sleep,
  stopServer,
  waitForHealth,
} from './harness.mjs';


const PAGE_SIZE = 10; // the dashboard's (web/src/admin.ts)
const LIVE_DEADLINE_MS = 2000; // a change shows within 2 s over the WebSocket

const DEMO_EMAIL = 'alice@example.com';
const DEMO_PASSWORD = 'correct horse battery';
// The demo's users and merchants (src/app/demo.cc).
const DEMO_USERS = ['Alice', 'Bob', 'Chidi Okafor', 'Daniela Ruiz', 'Emeka Obi', 'Fatima Zahra', 'Goro Tanaka', 'Hana Kim'];
const DEMO_MERCHANTS = ['Demo Coffee', 'Corner Books', 'Night Market', 'City Transit'];

let server = null;
let serverLog = '';
let dataDir = null;
let base = null;
let adminToken = null;
let browser = null;
let adminContext = null;
let admin = null; // the admin's page, kept across the tests below
let liveState = null;

async function api(method, urlPath, body) {
  const response = await fetch(`${base}${urlPath}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${method} ${urlPath}: ${response.status} ${text}`);
  return JSON.parse(text);
}

function pay(amount = 1234) {
  return api('POST', '/v1/payments', { user_id: 'usr_1', merchant_id: 'mch_1', amount_minor: amount });
}

async function rowIds(page) {
  return page.$$eval('[data-testid="txn-row"]', (rows) => rows.map((r) => r.getAttribute('data-txn-id')));
}

const txnNumber = (id) => Number(String(id).replace(/^txn_/, ''));

async function cardValue(page, testId) {
  const raw = await page.getAttribute(`[data-testid="${testId}"]`, 'data-value');
  return raw === null ? null : Number(raw);
}

// How long a change may take to show: 2 s over the WebSocket (the server has /v1/stream; the
// polling fallback is for servers without it and fails this test).
function changeDeadline() {
  return LIVE_DEADLINE_MS;
}

describe('dashboard', { timeout: 90_000 }, () => {
  before(async () => {
    assert.ok(existsSync(BINARY), `no bursar binary at ${BINARY} (set BURSAR_TEST_BINARY)`);
    assert.ok(
      existsSync(path.join(WEB_DIR, 'index.html')),
      `no built dashboard at ${WEB_DIR} (cd web && npm ci && npm run build, or set BURSAR_WEB_DIR)`,
    );
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'bursar-browser-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(BINARY, ['serve', '--demo'], {
      env: {
        ...process.env,
        BURSAR_DATA_DIR: dataDir,
        BURSAR_LISTEN: `127.0.0.1:${port}`,
        BURSAR_WEB_DIR: WEB_DIR,
        BURSAR_TEST_NO_SIMULATOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout.on('data', (chunk) => (serverLog += chunk));
    server.stderr.on('data', (chunk) => (serverLog += chunk));
    await waitForHealth(base, server, () => serverLog, 20_000);
    adminToken = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    assert.ok(adminToken, 'empty admin token');
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await stopServer(server);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the dashboard: index.html at / and its assets from /assets/', async () => {
    const response = await fetch(`${base}/`);
    assert.equal(response.status, 200);
    const html = await response.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.length >= 2, `index.html references its script and stylesheet: ${assets}`);
    for (const asset of assets) {
      const answer = await fetch(`${base}${asset}`);
      assert.equal(answer.status, 200, asset);
    }
  });

  it('logs in with the admin token and shows today\'s figures', async () => {
    adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    admin = await adminContext.newPage();
    const pageErrors = [];
    admin.on('pageerror', (e) => pageErrors.push(String(e)));
    await admin.goto(`${base}/`);
    await admin.getByRole('tab', { name: 'Admin token' }).click();
    await admin.getByTestId('login-token').fill(adminToken);
    await admin.getByTestId('login-token-submit').click();

    for (const id of ['card-volume', 'card-txn-count', 'card-dau']) {
      await admin.waitForSelector(`[data-testid="${id}"][data-value]`, { timeout: 5000 });
      const value = await cardValue(admin, id);
      assert.ok(Number.isInteger(value) && value >= 0, `${id}: ${value}`);
      const text = await admin.getByTestId(`${id}-value`).textContent();
      assert.match(text, /\d/, `${id} shows a number: ${text}`);
    }
    // The cards show today's figures as the API has them (no simulator moves them here).
    const today = await api('GET', '/v1/metrics/today');
    assert.equal(await cardValue(admin, 'card-txn-count'), today.txn_count);
    assert.equal(await cardValue(admin, 'card-dau'), today.dau);
    assert.equal(await cardValue(admin, 'card-volume'), today.total_amount_minor);
    assert.ok(today.txn_count >= 3, `the demo moved money today: ${JSON.stringify(today)}`);

    await admin.waitForSelector('[data-testid="txn-row"]');
    await admin.waitForSelector('[data-testid="chart-daily"] svg');
    await admin.waitForSelector('[data-testid="top-merchant"]');
    // Merchants by name, with the id beside it.
    for (const item of await admin.getByTestId('top-merchant').all()) {
      assert.match(await item.textContent(), new RegExp(`(${DEMO_MERCHANTS.join('|')}).*mch_\\d+`));
    }
    // Users and merchants by name in the table.
    const userCell = admin.getByTestId('txn-user').first();
    assert.match(await userCell.textContent(), new RegExp(`(${DEMO_USERS.join('|')}).*usr_\\d+`));
    // The live indicator must settle on live: updates come over the WebSocket.
    await admin.waitForFunction(
      () => document.querySelector('[data-testid="live-indicator"]')?.getAttribute('data-state') === 'live',
      null,
      { timeout: 5000 },
    );
    liveState = await admin.getAttribute('[data-testid="live-indicator"]', 'data-state');
    console.log(`live indicator: ${liveState}`);
    assert.deepEqual(pageErrors, []);
  });

  it('seeds a new demo with 30 days of history: the daily chart is not flat', async () => {
    const daily = await api('GET', '/v1/metrics/daily?days=30');
    assert.equal(daily.days.length, 30);
    const active = daily.days.filter((d) => d.amount_minor > 0);
    assert.ok(active.length > 20, `payments on ${active.length} of 30 days: ${JSON.stringify(daily.days)}`);
    assert.ok(new Set(active.map((d) => d.amount_minor)).size > 10, 'the days differ');
    // Drawn: the 30-day chart's note sums the period.
    await admin.getByTestId('range-30').click();
    await admin.waitForFunction(
      () => /over 30 days/.test(document.querySelector('[data-testid="chart-daily"]')?.closest('section')?.textContent ?? ''),
      null,
      { timeout: 5000 },
    );
    await admin.getByTestId('range-7').click();
  });

  it('shows a new payment in the cards and the table without a reload', async () => {
    await admin.evaluate(() => {
      window.__notReloaded = true;
    });
    const countBefore = await cardValue(admin, 'card-txn-count');
    const payment = await pay(1234);
    const started = Date.now();
    const deadline = changeDeadline();
    await admin.waitForFunction(
      ([count, txnId]) => {
        const card = document.querySelector('[data-testid="card-txn-count"]');
        const row = document.querySelector('[data-testid="txn-row"]');
        return Number(card?.getAttribute('data-value')) === count && row?.getAttribute('data-txn-id') === txnId;
      },
      [countBefore + 1, payment.txn_id],
      { timeout: deadline },
    );
    const took = Date.now() - started;
    console.log(`payment ${payment.txn_id} shown after ${took} ms (${liveState}; deadline ${deadline} ms)`);
    assert.equal(await admin.evaluate(() => window.__notReloaded), true, 'the page was reloaded');
    const firstRow = admin.getByTestId('txn-row').first();
    assert.match(await firstRow.textContent(), /1,234|1234/);
    assert.match(await firstRow.getByTestId('txn-user').textContent(), /Alice\s*usr_1/);
    assert.match(await firstRow.getByTestId('txn-merchant').textContent(), /Demo Coffee\s*mch_1/);
    // The new row is highlighted as one band: the row is animated, not each of its cells.
    const highlight = await admin.evaluate(() => {
      const row = document.querySelector('[data-testid="txn-row"]');
      return {
        isNew: row.classList.contains('row-new'),
        row: getComputedStyle(row).animationName,
        cells: [...row.cells].map((cell) => getComputedStyle(cell).animationName),
      };
    });
    assert.deepEqual(highlight, { isNew: true, row: 'row-new', cells: highlight.cells.map(() => 'none') });
  });

  it('pages forward and back through the transactions', async () => {
    let last = null;
    for (let i = 0; i < 25; i++) last = await pay(100 + i);
    // The first page catches up with the last payment.
    await admin.waitForFunction(
      (txnId) => document.querySelector('[data-testid="txn-row"]')?.getAttribute('data-txn-id') === txnId,
      last.txn_id,
      { timeout: changeDeadline() + 1000 },
    );
    const prev = admin.getByTestId('page-prev');
    const next = admin.getByTestId('page-next');
    assert.equal(await prev.isDisabled(), true, 'no previous page on the first');

    const page1 = await rowIds(admin);
    assert.equal(page1.length, PAGE_SIZE);
    await next.click();
    await admin.waitForFunction(
      (first) => document.querySelector('[data-testid="txn-row"]')?.getAttribute('data-txn-id') !== first,
      page1[0],
    );
    const page2 = await rowIds(admin);
    assert.equal(page2.length, PAGE_SIZE);
    assert.ok(txnNumber(page2[0]) < txnNumber(page1[PAGE_SIZE - 1]), 'page 2 is older than page 1');
    assert.equal(await prev.isDisabled(), false);

    // The demo's history fills many pages: the third is full too.
    await next.click();
    await admin.waitForFunction(
      (first) => document.querySelector('[data-testid="txn-row"]')?.getAttribute('data-txn-id') !== first,
      page2[0],
    );
    const page3 = await rowIds(admin);
    assert.equal(page3.length, PAGE_SIZE);
    assert.ok(txnNumber(page3[0]) < txnNumber(page2[PAGE_SIZE - 1]));
    assert.match(await admin.getByTestId('page-info').textContent(), /Page 3/);

    await prev.click();
    await admin.waitForFunction((first) => document.querySelector('[data-testid="txn-row"]')?.getAttribute('data-txn-id') === first, page2[0]);
    assert.deepEqual(await rowIds(admin), page2);
    await prev.click();
    await admin.waitForFunction((first) => document.querySelector('[data-testid="txn-row"]')?.getAttribute('data-txn-id') === first, page1[0]);
    assert.deepEqual(await rowIds(admin), page1);
    await admin.waitForFunction(() => document.querySelector('[data-testid="page-prev"]')?.disabled === true);
  });

  it('filters the transactions by user and by merchant', async () => {
    await admin.getByLabel('User', { exact: true }).fill('2');
    await admin.getByTestId('filter-apply').click();
    await admin.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="txn-row"]')];
      return rows.length > 0 && rows.every((r) => r.textContent.includes('usr_2'));
    });
    assert.equal(await admin.getByLabel('User', { exact: true }).inputValue(), 'usr_2');
    // The filter is shown by name too.
    assert.match(await admin.getByTestId('page-info').textContent(), /Bob \(usr_2\)/);
    await admin.getByTestId('filter-clear').click();
    await admin.getByTestId('filter-merchant').fill('1');
    await admin.getByTestId('filter-apply').click();
    await admin.waitForFunction(() => /Demo Coffee \(mch_1\)/.test(document.querySelector('[data-testid="page-info"]')?.textContent ?? ''));
    await admin.getByTestId('filter-clear').click();
    await admin.getByLabel('Merchant', { exact: true }).fill('mch_424242');
    await admin.getByTestId('filter-apply').click();
    await admin.getByTestId('txn-empty').waitFor();
    assert.match(await admin.getByTestId('txn-empty').textContent(), /No transactions match/);
    await admin.getByTestId('filter-clear').click();
    await admin.waitForFunction(() => document.querySelectorAll('[data-testid="txn-row"]').length === 10);
  });

  it('shows a filter error without moving the filter bar or the table', async () => {
    const boxes = () =>
      admin.evaluate(() =>
        ['filter-user', 'filter-apply', 'txn-table'].map((id) => {
          const box = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
          return [id, Math.round(box.top), Math.round(box.left), Math.round(box.height)];
        }),
      );
    const before = await boxes();
    await admin.getByLabel('User', { exact: true }).fill('bob!');
    await admin.getByTestId('filter-apply').click();
    await admin.waitForFunction(() => /looks like usr_/.test(document.querySelector('.field-error')?.textContent ?? ''));
    assert.ok(await admin.locator('.field-error').isVisible(), 'the error is shown');
    assert.deepEqual(await boxes(), before);
    await admin.getByTestId('filter-clear').click();
    assert.deepEqual(await boxes(), before);
  });

  it('takes screenshots at laptop and phone widths', async () => {
    await admin.evaluate(() => window.scrollTo(0, 0));
    await admin.waitForTimeout(300); // let the last chart redraw settle
    await admin.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await admin.setViewportSize({ width: 390, height: 844 });
    await admin.evaluate(() => window.scrollTo(0, 0));
    await admin.waitForTimeout(300);
    const overflow = await admin.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (${overflow} px too wide)`);
    await admin.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    await admin.setViewportSize({ width: 1280, height: 900 });
    assert.ok(existsSync(path.join(ARTIFACTS, 'dashboard.png')));
    assert.ok(existsSync(path.join(ARTIFACTS, 'dashboard-phone.png')));
  });

  it('logs the demo user in and shows their balance', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.getByTestId('login-email').fill(DEMO_EMAIL);
      await page.getByTestId('login-password').fill(DEMO_PASSWORD);
      await page.getByTestId('login-submit').click();
      const card = page.locator('[data-testid="balance-card"][data-value]').first();
      await card.waitFor({ timeout: 5000 });
      const wallet = await api('GET', '/v1/wallets/usr_1');
      const balance = wallet.balances[0];
      assert.equal(Number(await card.getAttribute('data-value')), balance.balance_minor);
      assert.match(await card.textContent(), /\d/);
      await page.waitForSelector('[data-testid="chart-balance"] svg');
      await page.waitForSelector('[data-testid="txn-row"]');
      // The payer's view: a payment shows the amount paid, and no fee (the merchant bears it).
      const headers = await page.$$eval('[data-testid="txn-table"] th', (ths) => ths.map((th) => th.textContent));
      assert.ok(!headers.includes('Fee'), `no fee column: ${headers}`);
      assert.equal(await page.locator('[data-testid="txn-table"] .col-fee').count(), 0);
      const own = await fetch(`${base}/v1/ledger/transactions?size=10`, {
        headers: { Authorization: `Bearer ${await page.evaluate(() => JSON.parse(sessionStorage.getItem('bursar.session')).token)}` },
      }).then((r) => r.json());
      const paid = own.items.find((t) => t.type === 'PAY' && t.user_id === 'usr_1');
      assert.ok(paid && paid.fee_minor > 0, 'a payment of alice with a fee');
      const paidRow = page.locator(`[data-testid="txn-row"][data-txn-id="${paid.txn_id}"]`);
      const paidText = await paidRow.textContent();
      assert.match(paidText, new RegExp(paid.amount_minor.toLocaleString('en-US')));
      assert.doesNotMatch(paidText, /\bfee\b/i);
      const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('bursar.session')).token);
      assert.ok(token && token !== adminToken, 'a user token in sessionStorage');
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-user.png'), fullPage: true });
      await page.getByTestId('logout').click();
      await page.getByTestId('login-form').waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.getItem('bursar.session')), null);
    } finally {
      await context.close();
    }
  });

  it('sends an expired or unknown token back to the login screen', async () => {
    const context = await browser.newContext();
    try {
      await context.addInitScript(() => {
        sessionStorage.setItem('bursar.session', JSON.stringify({ token: 'not-a-token', role: 'admin' }));
      });
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.getByTestId('login-error').waitFor({ timeout: 5000 });
      assert.match(await page.getByTestId('login-error').textContent(), /session has ended/);
    } finally {
      await context.close();
    }
  });
});
