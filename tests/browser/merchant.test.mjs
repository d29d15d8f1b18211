// End-to-end test of the dashboard's merchant view, the user's wallet history and the admin's
// tiers, in headless Chromium against a real `bursar serve` (no demo: every figure comes from
// this test). A merchant made through the admin API logs in with its API key, sees a user's
// payments arrive, refunds one in part and one in full through the form; the user's history
// shows the refund; the admin changes the merchant's tier through the form.
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
const LIVE_DEADLINE_MS = 3000; // a change shows within this over the WebSocket
const MERCHANT_NAME = 'Kiosk Seven';
const USER = { email: 'pat@example.com', password: 'pat the payer 1', name: 'Pat Payer' };
const MORE_THAN_LEFT = 'amount_minor is more than what is left to refund of the payment.';

let server = null;
let serverLog = '';
let dataDir = null;
let base = null;
let adminToken = null;
let browser = null;
let merchant = null; // {merchant_id, name, tier, api_key}
let user = null; // {token, user_id}
let merchantContext = null;
let page = null; // the merchant's page, kept across the tests below
const pageErrors = [];
const paid = {}; // name → the payment's answer

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

async function balance() {
  const wallet = await api('GET', `/v1/wallets/${user.user_id}`, { token: user.token });
  return wallet.balances.find((b) => b.currency === 'JPY')?.balance_minor ?? 0;
}

function pay(amount) {
  return api('POST', '/v1/payments', {
    token: user.token,
    body: { user_id: user.user_id, merchant_id: merchant.merchant_id, amount_minor: amount },
  });
}

const row = (p, txnId) => p.locator(`[data-testid="payment-row"][data-txn-id="${txnId}"]`);

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

async function signIn(p, tab, fill, submit, secret) {
  await p.goto(`${base}/`);
  await p.getByRole('tab', { name: tab }).click();
  await p.getByTestId(fill).fill(secret);
  await p.getByTestId(submit).click();
}

describe('merchant view, wallet history and tiers', { timeout: 120_000 }, () => {
  before(async () => {
    assert.ok(existsSync(BINARY), `no bursar binary at ${BINARY} (set BURSAR_TEST_BINARY)`);
    assert.ok(
      existsSync(path.join(WEB_DIR, 'index.html')),
      `no built dashboard at ${WEB_DIR} (cd web && npm ci && npm run build, or set BURSAR_WEB_DIR)`,
    );
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'bursar-browser-merchant-'));
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

    // The merchant, through the admin API: its API key is in the answer, once.
    merchant = await api('POST', '/v1/merchants', { body: { name: MERCHANT_NAME }, expect: 201 });
    assert.match(merchant.api_key, /^sk_/);
    assert.equal(merchant.tier, 'starter');
    // A starter's single payment is at most 10 000: this merchant's limit is raised (the tier
    // recommendation still measures against the tier's own limits).
    await api('PUT', `/v1/merchants/${merchant.merchant_id}/limits`, { body: { single_payment: 1_000_000 } });
    // The user: registers, logs in, tops up (one large and five small top-ups: the history
    // then fills more than one page).
    await api('POST', '/v1/users/register', { token: '', body: USER, expect: 201 });
    user = await api('POST', '/v1/users/login', { token: '', body: { email: USER.email, password: USER.password } });
    await api('POST', `/v1/wallets/${user.user_id}/topup`, { token: user.token, body: { amount_minor: 150_000 } });
    for (let i = 1; i <= 5; i++) {
      await api('POST', `/v1/wallets/${user.user_id}/topup`, { token: user.token, body: { amount_minor: 100 * i } });
    }

    browser = await launchBrowser();
    merchantContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await merchantContext.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await stopServer(server);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a wrong merchant API key, and a token that is not a merchant\'s, with a message', async () => {
    await signIn(page, 'Merchant API key', 'login-key', 'login-key-submit', `sk_${'0'.repeat(64)}`);
    await page.waitForFunction(() => /not valid/.test(document.querySelector('[data-testid="login-error"]')?.textContent ?? ''));
    assert.equal(await page.getByTestId('login-error').isVisible(), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bursar.session')), null);
    // The admin's token is no merchant's key.
    await page.getByTestId('login-key').fill(adminToken);
    await page.getByTestId('login-key-submit').click();
    await page.waitForFunction(() => /not a merchant API key/.test(document.querySelector('[data-testid="login-error"]')?.textContent ?? ''));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bursar.session')), null);
  });

  it('logs the merchant in with its API key', async () => {
    await page.getByTestId('login-key').fill(merchant.api_key);
    await page.getByTestId('login-key-submit').click();
    await page.getByTestId('merchant-subtitle').waitFor({ timeout: 5000 });
    await page.waitForFunction(
      (text) => document.querySelector('[data-testid="merchant-subtitle"]')?.textContent === text,
      `${MERCHANT_NAME} · ${merchant.merchant_id}`,
    );
    const session = await page.evaluate(() => JSON.parse(sessionStorage.getItem('bursar.session')));
    assert.equal(session.role, 'merchant');
    assert.equal(session.merchantId, merchant.merchant_id);
    assert.equal(session.token, merchant.api_key);
    await page.getByTestId('payments-empty').waitFor({ timeout: 5000 });
    assert.match(await page.getByTestId('payments-empty').textContent(), /No payments yet/);
    // Updates come over the WebSocket, with the merchant's key.
    await waitForAttr(page, '[data-testid="live-indicator"]', 'data-state', 'live');
    await page.evaluate(() => {
      window.__notReloaded = true;
    });
  });

  it("shows a user's payments in the merchant's list without a reload", async () => {
    paid.a = await pay(10_000);
    await row(page, paid.a.txn_id).waitFor({ timeout: LIVE_DEADLINE_MS });
    paid.b = await pay(2_000);
    paid.c = await pay(75_000);
    await row(page, paid.c.txn_id).waitFor({ timeout: LIVE_DEADLINE_MS });
    await row(page, paid.b.txn_id).waitFor({ timeout: LIVE_DEADLINE_MS });
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was reloaded');

    const a = row(page, paid.a.txn_id);
    assert.equal(await a.getAttribute('data-type'), 'PAY');
    assert.match(await a.getByTestId('payment-payer').textContent(), new RegExp(`${USER.name}\\s*${user.user_id}`));
    assert.equal(await attr(a.getByTestId('payment-amount'), 'data-value'), 10_000);
    assert.match(await a.getByTestId('payment-amount').textContent(), /10,000/);
    assert.equal(await attr(a.getByTestId('payment-fee'), 'data-value'), paid.a.fee_minor);
    assert.equal(paid.a.fee_minor, 80, 'starter: 0.8 %');
    assert.equal(await attr(a.getByTestId('payment-net'), 'data-value'), 10_000 - 80);
    assert.equal(await attr(a.getByTestId('payment-refunded'), 'data-value'), 0);
    assert.match(await a.locator('time').textContent(), /\d/);
    assert.equal(await a.getByTestId('refund-open').isEnabled(), true);
    // Newest first.
    const ids = await page.$$eval('[data-testid="payment-row"]', (rows) => rows.map((r) => r.getAttribute('data-txn-id')));
    assert.deepEqual(ids, [paid.c.txn_id, paid.b.txn_id, paid.a.txn_id]);
  });

  it('refunds part of a payment through the form, once on a double click', async () => {
    const before = await balance();
    const a = row(page, paid.a.txn_id);
    await a.getByTestId('refund-open').click();
    const form = page.getByTestId('refund-form');
    await form.waitFor();
    assert.equal(await a.getByTestId('refund-open').getAttribute('aria-expanded'), 'true');
    // The amount defaults to all that is left.
    assert.equal(await form.getByTestId('refund-amount').inputValue(), '10000');
    assert.equal(await form.getByLabel('Amount (JPY)').inputValue(), '10000');
    await form.getByTestId('refund-amount').fill('3000');
    await form.getByLabel('Reason').selectOption('requested_by_customer');
    await form.getByTestId('refund-submit').dblclick();
    await waitForAttr(page, `[data-testid="payment-row"][data-txn-id="${paid.a.txn_id}"] [data-testid="payment-refunded"]`, 'data-value', 3000);
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was reloaded');
    assert.match(await a.getByTestId('payment-refunded').textContent(), /3,000/);
    assert.equal(await page.getByTestId('refund-form').count(), 0, 'the form closed');
    assert.match(await page.getByTestId('refund-status').textContent(), new RegExp(`3,000 of ${paid.a.txn_id}`));

    // One refund, whatever the double click did; the user got exactly that back.
    const payment = await api('GET', `/v1/payments/${paid.a.txn_id}`, { token: merchant.api_key });
    assert.equal(payment.amount_refunded_minor, 3000);
    assert.equal(payment.refunds.length, 1, JSON.stringify(payment.refunds));
    assert.equal(payment.refunds[0].reason, 'requested_by_customer');
    paid.refundA = payment.refunds[0];
    assert.equal(await balance(), before + 3000);

    // The refund's own row comes in, as the merchant sees it: money back to the payer.
    const refundRow = row(page, paid.refundA.refund_id);
    await refundRow.waitFor({ timeout: LIVE_DEADLINE_MS });
    assert.equal(await refundRow.getAttribute('data-type'), 'REFUND');
    assert.equal(await attr(refundRow.getByTestId('payment-amount'), 'data-value'), -3000);
    assert.equal(await attr(refundRow.getByTestId('payment-net'), 'data-value'), -paid.refundA.net_minor);
    assert.match(await refundRow.textContent(), new RegExp(`of ${paid.a.txn_id}`));
  });

  it("shows the API's error when a refund asks for more than is left", async () => {
    const before = await balance();
    const a = row(page, paid.a.txn_id);
    await a.getByTestId('refund-open').click();
    const form = page.getByTestId('refund-form');
    assert.equal(await form.getByTestId('refund-amount').inputValue(), '7000');
    await form.getByTestId('refund-amount').fill('8000');
    await form.getByTestId('refund-submit').click();
    const error = form.getByTestId('refund-error');
    await error.waitFor({ timeout: 5000 });
    // The API's own message, as it answers the same request.
    const answer = await call('POST', `/v1/payments/${paid.a.txn_id}/refunds`, {
      token: merchant.api_key,
      body: { amount_minor: 8000 },
      expect: 400,
    });
    assert.equal(answer.body.error.message, MORE_THAN_LEFT);
    assert.equal(await error.textContent(), answer.body.error.message);
    assert.equal(await form.getByTestId('refund-amount').getAttribute('aria-invalid'), 'true');
    // Nothing moved.
    assert.equal(await balance(), before);
    assert.equal((await api('GET', `/v1/payments/${paid.a.txn_id}`, { token: merchant.api_key })).amount_refunded_minor, 3000);
    assert.equal(await attr(a.getByTestId('payment-refunded'), 'data-value'), 3000);
    await form.getByTestId('refund-cancel').click();
    assert.equal(await page.getByTestId('refund-form').count(), 0);
  });

  it('refunds a payment in full and disables its button', async () => {
    const before = await balance();
    const b = row(page, paid.b.txn_id);
    await b.getByTestId('refund-open').click();
    const form = page.getByTestId('refund-form');
    assert.equal(await form.getByTestId('refund-amount').inputValue(), '2000');
    await form.getByTestId('refund-submit').click();
    await waitForAttr(page, `[data-testid="payment-row"][data-txn-id="${paid.b.txn_id}"] [data-testid="payment-refunded"]`, 'data-value', 2000);
    await page.waitForFunction(
      (id) => document.querySelector(`[data-testid="payment-row"][data-txn-id="${id}"] [data-testid="refund-open"]`)?.disabled === true,
      paid.b.txn_id,
      { timeout: 5000 },
    );
    assert.match(await b.getByTestId('payment-refunded').textContent(), /in full/);
    const payment = await api('GET', `/v1/payments/${paid.b.txn_id}`, { token: merchant.api_key });
    assert.equal(payment.amount_refunded_minor, payment.amount_minor);
    assert.equal(payment.refunds[0].fee_returned_minor, payment.fee_minor, 'a full refund returns the whole fee');
    assert.equal(await balance(), before + 2000);
    // Still disabled after the list is read again (the live refresh of the refund).
    await row(page, payment.refunds[0].refund_id).waitFor({ timeout: LIVE_DEADLINE_MS });
    assert.equal(await row(page, paid.b.txn_id).getByTestId('refund-open').isDisabled(), true);
  });

  it('shows the tier card with the limits and the recommendation', async () => {
    const detail = await api('GET', '/v1/merchants/me', { token: merchant.api_key });
    const rec = await api('GET', `/v1/merchants/${merchant.merchant_id}/tier-recommendation`, { token: merchant.api_key });
    // 87,000 paid today against the starter's daily 100,000 (82,000 less the refunds): upgrade.
    assert.equal(rec.action, 'upgrade', JSON.stringify(rec));
    const card = page.getByTestId('tier-card');
    assert.equal(await card.getByTestId('tier-name').textContent(), 'Starter');
    assert.equal(await attr(card.getByTestId('tier-fee-rate'), 'data-value'), detail.fee_rate_basis_points);
    assert.equal(await card.getByTestId('tier-fee-rate').textContent(), '0.8 %');
    for (const [testId, key] of [
      ['limit-daily', 'daily'],
      ['limit-monthly', 'monthly'],
      ['limit-single', 'single_payment'],
    ]) {
      assert.equal(await attr(card.getByTestId(testId), 'data-value'), detail.limits[key], testId);
      assert.match(await card.getByTestId(testId).textContent(), new RegExp(detail.limits[key].toLocaleString('en-US')));
    }
    assert.match(await card.getByTestId('tier-history-empty').textContent(), /On Starter since/);
    // A starter merchant is told why it has no pre-authorizations (the tiers' pre_authorization).
    await page.getByTestId('preauth-tier-note').waitFor({ timeout: 5000 });
    assert.match(await page.getByTestId('preauth-tier-note').textContent(), /Starter takes no new pre-authorizations: they need Enterprise or Premium/);
    assert.match(await page.getByTestId('preauths-empty').textContent(), /No pre-authorizations yet/);

    // The recommendation follows the payments (refreshed by the live events).
    const box = page.getByTestId('recommendation');
    await waitForAttr(page, '[data-testid="recommendation-action"]', 'data-action', rec.action);
    await waitForAttr(page, '[data-testid="usage-day"]', 'data-value', rec.peak_day_percent);
    assert.equal(await box.getByTestId('recommended-tier').getAttribute('data-tier'), rec.recommended);
    assert.equal(await box.getByTestId('recommended-tier').textContent(), 'Business');
    assert.equal(await attr(box.getByTestId('usage-month'), 'data-value'), rec.month_percent);
    assert.equal(await box.getByTestId('recommendation-reason').textContent(), rec.reason);
    const meter = box.getByTestId('usage-day').getByRole('meter');
    assert.equal(Number(await meter.getAttribute('aria-valuenow')), rec.peak_day_percent);
    assert.match(await box.getByTestId('usage-day').textContent(), /of the daily limit ¥100,000/);
    assert.match(await box.getByTestId('recommendation-fees').textContent(), /less on Business/);
  });

  it("shows the refund in the user's history, with the balance after it, and pages", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const userPage = await context.newPage();
      const errors = [];
      userPage.on('pageerror', (e) => errors.push(String(e)));
      await userPage.goto(`${base}/`);
      await userPage.getByTestId('login-email').fill(USER.email);
      await userPage.getByTestId('login-password').fill(USER.password);
      await userPage.getByTestId('login-submit').click();
      await userPage.getByTestId('history-row').first().waitFor({ timeout: 5000 });

      const history = await api('GET', `/v1/wallets/${user.user_id}/history?size=100`, { token: user.token });
      assert.ok(history.items.length > PAGE_SIZE, `more than a page: ${history.items.length}`);
      const first = await userPage.$$eval('[data-testid="history-row"]', (rows) =>
        rows.map((r) => ({
          id: r.getAttribute('data-txn-id'),
          type: r.getAttribute('data-type'),
          change: Number(r.querySelector('[data-testid="history-change"]').getAttribute('data-value')),
          after: Number(r.querySelector('[data-testid="history-balance"]').getAttribute('data-value')),
        })),
      );
      assert.deepEqual(
        first,
        history.items.slice(0, PAGE_SIZE).map((m) => ({ id: m.txn_id, type: m.type, change: m.change_minor, after: m.balance_after_minor })),
      );
      // The newest movement's balance is the wallet's.
      assert.equal(first[0].after, await balance());

      const refund = userPage.locator(`[data-testid="history-row"][data-txn-id="${paid.refundA.refund_id}"]`);
      assert.equal(await refund.getAttribute('data-type'), 'REFUND');
      assert.match(await refund.getByTestId('history-detail').textContent(), new RegExp(`Refund of ${paid.a.txn_id}`));
      assert.equal(await attr(refund.getByTestId('history-change'), 'data-value'), 3000);
      assert.match(await refund.getByTestId('history-change').textContent(), /\+.*3,000/);
      const item = history.items.find((m) => m.txn_id === paid.refundA.refund_id);
      assert.equal(await attr(refund.getByTestId('history-balance'), 'data-value'), item.balance_after_minor);
      // The payment before it left the balance 3,000 lower.
      const payment = history.items.find((m) => m.txn_id === paid.a.txn_id);
      assert.equal(payment.change_minor, -10_000);

      // Older, then Newer.
      assert.equal(await userPage.getByTestId('history-newer').isDisabled(), true);
      await userPage.getByTestId('history-older').click();
      await userPage.waitForFunction(
        (id) => document.querySelector('[data-testid="history-row"]')?.getAttribute('data-txn-id') === id,
        history.items[PAGE_SIZE].txn_id,
      );
      const older = await userPage.$$eval('[data-testid="history-row"]', (rows) => rows.map((r) => r.getAttribute('data-txn-id')));
      assert.deepEqual(older, history.items.slice(PAGE_SIZE, 2 * PAGE_SIZE).map((m) => m.txn_id));
      assert.match(await userPage.getByTestId('history-page-info').textContent(), /Page 2/);
      await userPage.getByTestId('history-newer').click();
      await userPage.waitForFunction(
        (id) => document.querySelector('[data-testid="history-row"]')?.getAttribute('data-txn-id') === id,
        history.items[0].txn_id,
      );
      await userPage.screenshot({ path: path.join(ARTIFACTS, 'dashboard-user-history.png'), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it("lists the four tiers for the admin and changes the merchant's tier through the form", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const admin = await context.newPage();
      const errors = [];
      admin.on('pageerror', (e) => errors.push(String(e)));
      await signIn(admin, 'Admin token', 'login-token', 'login-token-submit', adminToken);
      await admin.getByTestId('tier-row').first().waitFor({ timeout: 5000 });
      const { tiers } = await api('GET', '/v1/tiers');
      const rows = admin.getByTestId('tier-row');
      assert.equal(await rows.count(), 4);
      assert.deepEqual(
        await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tier'))),
        tiers.map((t) => t.name),
      );
      const headers = await admin.$$eval('[data-testid="tier-table"] thead th', (ths) => ths.map((th) => th.textContent));
      assert.equal(headers.length, 11, `every property: ${headers}`);
      for (const t of tiers) {
        const text = await admin.locator(`[data-testid="tier-row"][data-tier="${t.name}"]`).textContent();
        assert.match(text, new RegExp(t.daily_limit.toLocaleString('en-US')));
        assert.match(text, new RegExp(t.settlement_cycle.replace('+', '\\+')));
        assert.match(text, new RegExp(t.refund_fee_policy));
      }

      const form = admin.getByTestId('tier-change-form');
      await form.getByLabel('Merchant id').fill(merchant.merchant_id.replace('mch_', ''));
      await form.getByLabel('New tier').selectOption('business');
      await form.getByLabel('Reason').fill('Outgrew the starter limits');
      await form.getByTestId('tier-change-submit').click();
      await waitForAttr(admin, '[data-testid="tier-change-result"]', 'data-tier', 'business');
      const result = await admin.getByTestId('tier-change-result').textContent();
      assert.match(result, new RegExp(`${MERCHANT_NAME} \\(${merchant.merchant_id}\\) is now on Business`));
      const detail = await api('GET', `/v1/merchants/${merchant.merchant_id}`);
      assert.equal(detail.tier, 'business');
      assert.equal(detail.fee_rate_basis_points, 60);
      const change = detail.tier_history.at(-1);
      assert.deepEqual([change.from, change.to, change.reason], ['starter', 'business', 'Outgrew the starter limits']);

      // The same tier again: the API's error, shown as it is.
      await form.getByLabel('Reason').fill('Again');
      await form.getByTestId('tier-change-submit').click();
      const error = admin.getByTestId('tier-change-error');
      await error.waitFor({ state: 'visible', timeout: 5000 });
      const answer = await call('PUT', `/v1/merchants/${merchant.merchant_id}/tier`, {
        body: { tier: 'business', reason: 'Again' },
        expect: 409,
      });
      assert.equal(await error.textContent(), answer.body.error.message);
      await admin.getByTestId('tiers').screenshot({ path: path.join(ARTIFACTS, 'dashboard-tiers.png') });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('shows the new tier on the merchant page', async () => {
    await page.reload();
    await waitForAttr(page, '[data-testid="tier-name"]', 'data-tier', 'business');
    assert.equal(await page.getByTestId('tier-fee-rate').textContent(), '0.6 %');
    assert.equal(await attr(page.getByTestId('limit-daily'), 'data-value'), 500_000);
    const item = page.getByTestId('tier-history-item');
    assert.equal(await item.count(), 1);
    assert.match(await item.textContent(), /Starter → Business.*by admin[\s\S]*Outgrew the starter limits/);
    // The payments are still there after the reload, with what was refunded.
    await waitForAttr(page, `[data-testid="payment-row"][data-txn-id="${paid.a.txn_id}"] [data-testid="payment-refunded"]`, 'data-value', 3000);
    assert.equal(await row(page, paid.b.txn_id).getByTestId('refund-open').isDisabled(), true);
  });

  it('takes screenshots of the merchant view at laptop and phone widths', async () => {
    await row(page, paid.c.txn_id).getByTestId('refund-open').click();
    await page.getByTestId('refund-form').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-merchant.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (${overflow} px too wide)`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-merchant-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByTestId('refund-cancel').click();
    assert.deepEqual(pageErrors, []);
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bursar.session')), null);
  });
});
