// End-to-end test of pre-authorizations in the dashboard, in headless Chromium against a real
// `bursar serve` (no demo: every figure comes from this test). An enterprise merchant made through
// the admin API logs in with its API key and sees a user's pre-authorization; it captures part of
// it through the form, is refused more than is left with the API's message, captures the rest with
// "final", cancels a second one after a confirmation and filters the list by status; its tier card
// shows the limits' usage. The user's balance card shows what is frozen and available, and their
// open pre-authorizations are listed.
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


const LIVE_DEADLINE_MS = 3000; // a payment shows within this over the WebSocket
const POLL_DEADLINE_MS = 5000 + 3000; // an authorization (no event) within one poll (web/src/preauths.ts)
const MERCHANT_NAME = 'Harbour Hotel';
const USER = { email: 'robin@example.com', password: 'robin the guest 1', name: 'Robin Guest' };
const MORE_THAN_LEFT = 'amount_minor is more than what is left of the pre-authorization.';

let server = null;
let serverLog = '';
let dataDir = null;
let base = null;
let adminToken = null;
let browser = null;
let merchant = null; // {merchant_id, name, tier, currency, api_key}
let user = null; // {token, user_id}
let page = null; // the merchant's page, kept across the tests below
const pageErrors = [];
const pa = {}; // name → the pre-authorization's answer

// One API call with `token`; answers {status, body}. `expect` checks the status.
async function call(method, urlPath, { token = adminToken, body, expect = 200, headers = {} } = {}) {
  const response = await fetch(`${base}${urlPath}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (expect !== null) assert.equal(response.status, expect, `${method} ${urlPath}: ${response.status} ${text}`);
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const api = async (method, urlPath, options) => (await call(method, urlPath, options)).body;

async function wallet() {
  const answer = await api('GET', `/v1/wallets/${user.user_id}`, { token: user.token });
  return answer.balances.find((b) => b.currency === 'JPY');
}

// The user authorizes with their own token.
function authorize(amount, extra = {}) {
  return api('POST', '/v1/preauths', {
    token: user.token,
    body: { user_id: user.user_id, merchant_id: merchant.merchant_id, amount_minor: amount, ...extra },
    expect: 201,
  });
}

const preauth = (id) => api('GET', `/v1/preauths/${id}`, { token: merchant.api_key });

const row = (p, id) => p.locator(`[data-testid="preauth-row"][data-preauth-id="${id}"]`);
const rowSelector = (id) => `[data-testid="preauth-row"][data-preauth-id="${id}"]`;

async function attr(locator, name) {
  const raw = await locator.getAttribute(name);
  return raw === null ? null : Number(raw);
}

// Waits until `selector`'s attribute `name` is `value` (a string).
function waitForAttr(p, selector, name, value, timeout = 5000) {
  return p.waitForFunction(
    ([sel, n, v]) => document.querySelector(sel)?.getAttribute(n) === v,
    [selector, name, String(value)],
    { timeout },
  );
}

// A row's figures as the page shows them (minor units).
async function figures(r) {
  return {
    status: await r.getAttribute('data-status'),
    amount: await attr(r.getByTestId('preauth-amount'), 'data-value'),
    captured: await attr(r.getByTestId('preauth-captured'), 'data-value'),
    released: await attr(r.getByTestId('preauth-released'), 'data-value'),
    remaining: await attr(r.getByTestId('preauth-remaining'), 'data-value'),
  };
}

const apiFigures = (p) => ({
  status: p.status,
  amount: p.amount_minor,
  captured: p.captured_minor,
  released: p.released_minor,
  remaining: p.remaining_minor,
});

describe('pre-authorizations in the merchant and user views', { timeout: 120_000 }, () => {
  before(async () => {
    assert.ok(existsSync(BINARY), `no bursar binary at ${BINARY} (set BURSAR_TEST_BINARY)`);
    assert.ok(
      existsSync(path.join(WEB_DIR, 'index.html')),
      `no built dashboard at ${WEB_DIR} (cd web && npm ci && npm run build, or set BURSAR_WEB_DIR)`,
    );
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'bursar-browser-preauth-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(BINARY, ['serve'], {
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

    // An enterprise merchant (pre-authorization needs enterprise or premium), through the admin API.
    merchant = await api('POST', '/v1/merchants', { body: { name: MERCHANT_NAME, tier: 'enterprise' }, expect: 201 });
    assert.match(merchant.api_key, /^sk_/);
    assert.equal(merchant.tier, 'enterprise');
    // The user registers, logs in, tops up and authorizes 30 000 for the merchant.
    await api('POST', '/v1/users/register', { token: '', body: USER, expect: 201 });
    user = await api('POST', '/v1/users/login', { token: '', body: { email: USER.email, password: USER.password } });
    await api('POST', `/v1/wallets/${user.user_id}/topup`, { token: user.token, body: { amount_minor: 100_000 } });
    pa.a = await authorize(30_000);
    assert.equal(pa.a.status, 'authorized');
    const w = await wallet();
    assert.deepEqual([w.balance_minor, w.available_minor, w.frozen_minor], [100_000, 70_000, 30_000]);

    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await stopServer(server);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the pre-authorization as authorized for the merchant', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('tab', { name: 'Merchant API key' }).click();
    await page.getByTestId('login-key').fill(merchant.api_key);
    await page.getByTestId('login-key-submit').click();
    const a = row(page, pa.a.preauth_id);
    await a.waitFor({ timeout: 5000 });
    assert.deepEqual(await figures(a), apiFigures(pa.a));
    assert.equal(await a.getByTestId('preauth-status').textContent(), 'Authorized');
    assert.match(await a.getByTestId('preauth-payer').textContent(), new RegExp(user.user_id));
    assert.match(await a.getByTestId('preauth-amount').textContent(), /30,000/);
    assert.equal(await a.getByTestId('preauth-reference').count(), 0, 'no reference');
    assert.equal(await attr(a.getByTestId('preauth-expires'), 'data-value'), pa.a.expires_at);
    assert.match(await a.locator('time').textContent(), /\d/);
    assert.equal(await a.getByTestId('preauth-capture-open').isEnabled(), true);
    assert.equal(await a.getByTestId('preauth-cancel-open').isEnabled(), true);
    await waitForAttr(page, '[data-testid="live-indicator"]', 'data-state', 'live');
    await page.evaluate(() => {
      window.__notReloaded = true;
    });
  });

  it('captures part of it through the form, once on a double click', async () => {
    const before = await wallet();
    const a = row(page, pa.a.preauth_id);
    await a.getByTestId('preauth-capture-open').click();
    const form = page.getByTestId('capture-form');
    await form.waitFor();
    assert.equal(await a.getByTestId('preauth-capture-open').getAttribute('aria-expanded'), 'true');
    // The amount defaults to all that is left; "final" is off.
    assert.equal(await form.getByLabel('Amount (JPY)').inputValue(), '30000');
    assert.equal(await form.getByLabel('Final: release the rest').isChecked(), false);
    await form.getByTestId('capture-amount').fill('10000');
    await form.getByTestId('capture-submit').dblclick();
    await waitForAttr(page, rowSelector(pa.a.preauth_id), 'data-status', 'partially_captured');
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was reloaded');
    assert.equal(await page.getByTestId('capture-form').count(), 0, 'the form closed');

    // One capture, whatever the double click did.
    const now = await preauth(pa.a.preauth_id);
    assert.equal(now.captured_minor, 10_000);
    assert.equal(now.captures.length, 1, JSON.stringify(now.captures));
    assert.deepEqual(await figures(a), apiFigures(now));
    assert.equal(await attr(a.getByTestId('preauth-remaining'), 'data-value'), 20_000);
    assert.match(await a.getByTestId('preauth-remaining').textContent(), /20,000/);
    assert.match(await page.getByTestId('preauth-message').textContent(), new RegExp(`10,000 of ${pa.a.preauth_id} as payment ${now.captures[0]}`));
    // The wallet: 10 000 out of the balance and of the frozen amount; the available one is the same.
    const w = await wallet();
    assert.equal(w.frozen_minor, 20_000);
    assert.equal(w.balance_minor, before.balance_minor - 10_000);
    assert.equal(w.available_minor, before.available_minor);

    // The capture is a payment: it shows in the payments without a reload (enterprise: 0.45 %).
    const payment = page.locator(`[data-testid="payment-row"][data-txn-id="${now.captures[0]}"]`);
    await payment.waitFor({ timeout: LIVE_DEADLINE_MS });
    assert.equal(await payment.getAttribute('data-type'), 'PAY');
    assert.equal(await attr(payment.getByTestId('payment-amount'), 'data-value'), 10_000);
    assert.equal(await attr(payment.getByTestId('payment-fee'), 'data-value'), 45);
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was reloaded');
  });

  it("shows the API's error when a capture asks for more than is left", async () => {
    const before = await wallet();
    const a = row(page, pa.a.preauth_id);
    await a.getByTestId('preauth-capture-open').click();
    const form = page.getByTestId('capture-form');
    assert.equal(await form.getByTestId('capture-amount').inputValue(), '20000');
    await form.getByTestId('capture-amount').fill('25000');
    await form.getByTestId('capture-submit').click();
    const error = form.getByTestId('capture-error');
    await error.waitFor({ timeout: 5000 });
    // The API's own message, as it answers the same request (which moves nothing).
    const answer = await call('POST', `/v1/preauths/${pa.a.preauth_id}/capture`, {
      token: merchant.api_key,
      body: { amount_minor: 25_000 },
      expect: 400,
    });
    assert.equal(answer.body.error.message, MORE_THAN_LEFT);
    assert.equal(await error.textContent(), answer.body.error.message);
    assert.equal(await form.getByTestId('capture-amount').getAttribute('aria-invalid'), 'true');
    // Nothing moved.
    assert.deepEqual(await wallet(), before);
    assert.equal((await preauth(pa.a.preauth_id)).captured_minor, 10_000);
    assert.equal(await a.getAttribute('data-status'), 'partially_captured');
    await form.getByTestId('capture-close').click();
    assert.equal(await page.getByTestId('capture-form').count(), 0);
  });

  it('releases the rest with a final capture', async () => {
    const before = await wallet();
    const a = row(page, pa.a.preauth_id);
    await a.getByTestId('preauth-capture-open').click();
    const form = page.getByTestId('capture-form');
    await form.getByTestId('capture-amount').fill('5000');
    await form.getByTestId('capture-final').check();
    await form.getByTestId('capture-submit').click();
    await waitForAttr(page, rowSelector(pa.a.preauth_id), 'data-status', 'captured');
    const now = await preauth(pa.a.preauth_id);
    assert.deepEqual(apiFigures(now), { status: 'captured', amount: 30_000, captured: 15_000, released: 15_000, remaining: 0 });
    assert.deepEqual(await figures(a), apiFigures(now));
    assert.equal(await a.getByTestId('preauth-status').textContent(), 'Captured');
    assert.match(await page.getByTestId('preauth-message').textContent(), /15,000 went back to the payer/);
    // Closed: no more actions.
    assert.equal(await a.getByTestId('preauth-capture-open').count(), 0);
    assert.equal(await a.getByTestId('preauth-cancel-open').count(), 0);
    const w = await wallet();
    assert.equal(w.frozen_minor, 0);
    assert.equal(w.balance_minor, before.balance_minor - 5000);
    assert.equal(w.available_minor, w.balance_minor);
    await page.locator(`[data-testid="payment-row"][data-txn-id="${now.captures[1]}"]`).waitFor({ timeout: LIVE_DEADLINE_MS });
  });

  it('shows a new authorization without a reload and cancels it after a confirmation', async () => {
    // No event tells of an authorization: the list's own poll brings it.
    pa.b = await authorize(8000, { reference: 'booking-2002' });
    const b = row(page, pa.b.preauth_id);
    await b.waitFor({ timeout: POLL_DEADLINE_MS });
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was reloaded');
    assert.deepEqual(await figures(b), apiFigures(pa.b));
    assert.equal(await b.getByTestId('preauth-reference').textContent(), 'booking-2002');
    // Newest first.
    const ids = await page.$$eval('[data-testid="preauth-row"]', (rows) => rows.map((r) => r.getAttribute('data-preauth-id')));
    assert.deepEqual(ids, [pa.b.preauth_id, pa.a.preauth_id]);
    assert.equal((await wallet()).frozen_minor, 8000);

    // "Keep it" changes nothing.
    await b.getByTestId('preauth-cancel-open').click();
    const confirm = page.getByTestId('cancel-form');
    await confirm.waitFor();
    assert.match(await confirm.textContent(), new RegExp(`Cancel ${pa.b.preauth_id}\\? The ¥8,000 still reserved goes back`));
    await confirm.getByTestId('cancel-keep').click();
    assert.equal(await page.getByTestId('cancel-form').count(), 0);
    assert.equal((await preauth(pa.b.preauth_id)).status, 'authorized');

    await b.getByTestId('preauth-cancel-open').click();
    await page.getByTestId('cancel-form').getByRole('button', { name: 'Cancel pre-authorization' }).click();
    await waitForAttr(page, rowSelector(pa.b.preauth_id), 'data-status', 'cancelled');
    const now = await preauth(pa.b.preauth_id);
    assert.deepEqual(apiFigures(now), { status: 'cancelled', amount: 8000, captured: 0, released: 8000, remaining: 0 });
    assert.deepEqual(await figures(b), apiFigures(now));
    assert.match(await page.getByTestId('preauth-message').textContent(), new RegExp(`Cancelled ${pa.b.preauth_id}: ¥8,000 went back`));
    const w = await wallet();
    assert.equal(w.frozen_minor, 0);
  });

  it('filters the list by status', async () => {
    await page.getByTestId('preauths').getByLabel('Status').selectOption('cancelled');
    const cancelled = await api('GET', '/v1/preauths?status=cancelled', { token: merchant.api_key });
    assert.deepEqual(cancelled.items.map((p) => p.preauth_id), [pa.b.preauth_id]);
    await page.waitForFunction(
      (want) => {
        const rows = [...document.querySelectorAll('[data-testid="preauth-row"]')];
        return rows.map((r) => r.getAttribute('data-preauth-id')).join() === want;
      },
      cancelled.items.map((p) => p.preauth_id).join(),
      { timeout: 5000 },
    );
    const statuses = await page.$$eval('[data-testid="preauth-row"]', (rows) => rows.map((r) => r.getAttribute('data-status')));
    assert.deepEqual(statuses, ['cancelled']);
    // A status with none: the empty state names it.
    await page.getByTestId('preauth-filter').selectOption('expired');
    await page.getByTestId('preauths-empty').waitFor({ timeout: 5000 });
    assert.match(await page.getByTestId('preauths-empty').textContent(), /No expired pre-authorizations/);
    await page.getByTestId('preauth-filter').selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="preauth-row"]').length === 2, null, { timeout: 5000 });
  });

  it("shows the limits' usage in the tier card as the API has it", async () => {
    const limits = await api('GET', `/v1/merchants/${merchant.merchant_id}/limits`, { token: merchant.api_key });
    assert.equal(limits.currency, 'JPY');
    const daily = limits.limits.find((w) => w.window === 'daily');
    const monthly = limits.limits.find((w) => w.window === 'monthly');
    assert.equal(daily.used_minor, 15_000, 'the two captures');
    const card = page.getByTestId('tier-card');
    await waitForAttr(page, '[data-testid="limit-usage-daily"]', 'data-value', daily.used_minor);
    const day = card.getByTestId('limit-usage-daily');
    assert.equal(await attr(day, 'data-limit'), daily.limit_minor);
    assert.equal(await attr(day, 'data-remaining'), daily.remaining_minor);
    assert.match(await day.textContent(), /¥15,000 of ¥2,000,000 used/);
    const meter = day.getByRole('meter');
    assert.equal(Number(await meter.getAttribute('aria-valuenow')), 0.8); // 15 000 of 2 000 000, one decimal
    const month = card.getByTestId('limit-usage-monthly');
    assert.equal(await attr(month, 'data-value'), monthly.used_minor);
    assert.equal(await attr(month, 'data-limit'), monthly.limit_minor);
    assert.match(await month.textContent(), /of ¥6,000,000 used/);
    assert.equal(await card.getByTestId('tier-name').getAttribute('data-tier'), 'enterprise');
    assert.equal(await page.getByTestId('preauth-tier-note').isHidden(), true, 'enterprise takes pre-authorizations');
    // The recommendation is still there.
    await page.getByTestId('recommendation-action').waitFor();
  });

  it("shows the user's frozen and available amounts, limits and open pre-authorizations", async () => {
    pa.c = await authorize(12_000, { reference: 'booking-3003' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const userPage = await context.newPage();
      const errors = [];
      userPage.on('pageerror', (e) => errors.push(String(e)));
      await userPage.goto(`${base}/`);
      await userPage.getByTestId('login-email').fill(USER.email);
      await userPage.getByTestId('login-password').fill(USER.password);
      await userPage.getByTestId('login-submit').click();
      const card = userPage.locator('[data-testid="balance-card"][data-currency="JPY"]');
      await card.waitFor({ timeout: 5000 });
      let w = await wallet();
      assert.equal(w.frozen_minor, 12_000);
      assert.equal(await attr(card, 'data-value'), w.balance_minor);
      assert.equal(await attr(card.getByTestId('balance-available'), 'data-value'), w.available_minor);
      assert.equal(await attr(card.getByTestId('balance-frozen'), 'data-value'), w.frozen_minor);
      assert.match(await card.getByTestId('balance-frozen').textContent(), /Frozen ¥12,000/);
      assert.match(await card.getByTestId('balance-available').textContent(), /Available ¥73,000/);

      // Only the open one is listed, with the merchant by name (from the user's payments).
      const open = userPage.locator(`[data-testid="open-preauth-row"][data-preauth-id="${pa.c.preauth_id}"]`);
      await open.waitFor({ timeout: 5000 });
      assert.equal(await userPage.getByTestId('open-preauth-row').count(), 1);
      assert.equal(await open.getAttribute('data-status'), 'authorized');
      assert.match(await open.getByTestId('open-preauth-merchant').textContent(), new RegExp(`${MERCHANT_NAME}\\s*${merchant.merchant_id}`));
      assert.equal(await attr(open.getByTestId('open-preauth-amount'), 'data-value'), 12_000);
      assert.equal(await attr(open.getByTestId('open-preauth-remaining'), 'data-value'), 12_000);
      assert.equal(await attr(open.getByTestId('open-preauth-expires'), 'data-value'), pa.c.expires_at);
      assert.match(await open.textContent(), /booking-3003/);

      // The limits line: what today used of the daily limit, as the API has it.
      const limits = await api('GET', `/v1/users/${user.user_id}/limits`, { token: user.token });
      const daily = limits.limits.find((x) => x.window === 'daily');
      assert.equal(daily.used_minor, 15_000);
      const line = userPage.getByTestId('user-limits-daily');
      await line.waitFor({ timeout: 5000 });
      assert.equal(await attr(line, 'data-value'), daily.used_minor);
      assert.equal(await attr(line, 'data-limit'), daily.limit_minor);
      assert.match(await userPage.getByTestId('user-limits').textContent(), /Limits.*today ¥15,000 used of ¥5,000,000/);

      // The merchant captures part: the capture's event updates the user's page.
      await api('POST', `/v1/preauths/${pa.c.preauth_id}/capture`, { token: merchant.api_key, body: { amount_minor: 2000 } });
      await waitForAttr(userPage, `[data-testid="open-preauth-row"][data-preauth-id="${pa.c.preauth_id}"]`, 'data-status', 'partially_captured', LIVE_DEADLINE_MS);
      assert.equal(await attr(open.getByTestId('open-preauth-remaining'), 'data-value'), 10_000);
      w = await wallet();
      await waitForAttr(userPage, '[data-testid="balance-card"][data-currency="JPY"] [data-testid="balance-frozen"]', 'data-value', w.frozen_minor);
      assert.equal(await attr(card.getByTestId('balance-available'), 'data-value'), w.available_minor);
      await userPage.screenshot({ path: path.join(ARTIFACTS, 'dashboard-user-preauths.png'), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('takes screenshots of the pre-authorizations at laptop and phone widths', async () => {
    const c = row(page, pa.c.preauth_id);
    await waitForAttr(page, rowSelector(pa.c.preauth_id), 'data-status', 'partially_captured', POLL_DEADLINE_MS);
    await c.getByTestId('preauth-capture-open').click();
    await page.getByTestId('capture-form').waitFor();
    assert.equal(await page.getByTestId('capture-amount').inputValue(), '10000');
    await page.getByTestId('preauths').screenshot({ path: path.join(ARTIFACTS, 'dashboard-preauths.png') });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-merchant-preauths.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (${overflow} px too wide)`);
    await page.getByTestId('preauths').screenshot({ path: path.join(ARTIFACTS, 'dashboard-preauths-phone.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByTestId('capture-close').click();
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was reloaded');
    assert.deepEqual(pageErrors, []);
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
  });
});
