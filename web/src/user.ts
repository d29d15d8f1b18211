// A user's view of their own wallet: a balance card per currency (available and frozen), their
// limits, the balance over time (computed from their transactions' postings to their wallet),
// their open pre-authorizations, their transactions and the wallet's history.

import { Api, ApiError, Txn, UserLimits, Wallet, describeError } from './api';
import { StatCard } from './card';
import { LineChart } from './chart';
import { h, replace } from './dom';
import { formatAxisTime, formatCount, formatDateTime, formatMoney, formatMoneyCompact } from './format';
import type { BursarEvent } from './live';
import { WalletHistory } from './history';
import { TxnTable, typeLabel, walletDelta } from './transactions';
import type { View } from './view';
import { PAGE_SIZE } from './admin';
import { PREAUTH_POLL_MS, UserOpenPreauths } from './preauths';

const HISTORY_PAGES_MAX = 5; // the chart covers up to the last 500 transactions
const HISTORY_PAGE_SIZE = 100;

interface History {
  items: Txn[]; // newest first
  complete: boolean; // every transaction of the user is there
}

// The balance after each transaction in `currency`, oldest first, ending with `now`. With the
// whole history the running sum starts from zero; with only the latest part it is anchored on
// the wallet's current balance and walked backwards.
export function balanceSeries(
  history: History,
  userId: string,
  currency: string,
  currentBalance: number,
  nowSeconds: number,
): { x: number; y: number; txn?: Txn }[] {
  const relevant = history.items.filter((t) => t.currency === currency);
  if (relevant.length === 0) return [];
  const deltas = relevant.map((t) => walletDelta(t, userId, currency));
  const oldestFirst = relevant.slice().reverse();
  const deltasOldestFirst = deltas.slice().reverse();
  let start: number;
  if (history.complete) start = 0;
  else start = currentBalance - deltas.reduce((s, d) => s + d, 0);
  const first = oldestFirst[0]!.created_at;
  const last = oldestFirst[oldestFirst.length - 1]!.created_at;
  const lead = Math.max(1, (Math.max(nowSeconds, last) - first) * 0.04);
  const points: { x: number; y: number; txn?: Txn }[] = [{ x: first - lead, y: start }];
  let balance = start;
  oldestFirst.forEach((t, i) => {
    balance += deltasOldestFirst[i]!;
    points.push({ x: t.created_at, y: balance, txn: t });
  });
  points.push({ x: Math.max(nowSeconds, last), y: history.complete ? balance : currentBalance });
  return points;
}

export class UserView implements View {
  readonly el: HTMLElement;
  readonly title = 'Your wallet';
  private readonly balances: HTMLElement;
  private readonly cards = new Map<string, StatCard>();
  private balanceEls: HTMLElement[] = [];
  private readonly received = new StatCard('Received · 30 days', 'card-in', 'in', 'tone-green');
  private readonly spent = new StatCard('Spent · 30 days', 'card-out', 'out', 'tone-amber');
  private readonly chart: LineChart;
  private readonly chartNote: HTMLElement;
  private readonly chartError: HTMLElement;
  private readonly currencyPicker: HTMLElement;
  private readonly table: TxnTable;
  private readonly walletHistory: WalletHistory;
  private readonly openPreauths: UserOpenPreauths;
  private readonly limitsLine: HTMLElement;
  private limitsSeq = 0;
  private walletKey: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private wallet: Wallet | null = null;
  private history: History | null = null;
  private currency: string | null = null;
  private historySeq = 0;

  constructor(
    private readonly api: Api,
    private readonly userId: string,
    email: string,
  ) {
    this.balances = h('section', { class: 'stats', 'aria-label': 'Balances', 'data-testid': 'balances' });
    this.balanceEls = [new StatCard('Balance', 'balance-loading', 'wallet').el];
    this.renderStats();
    this.chart = new LineChart({
      ariaLabel: 'Wallet balance over time',
      testId: 'chart-balance',
      formatY: (y) => formatMoney(y, this.currency ?? 'JPY'),
      formatYTick: (y) => formatMoneyCompact(y, this.currency ?? 'JPY'),
      xAxis: 'time',
      formatX: formatAxisTime,
      zeroBased: false,
      step: true,
      emptyText: 'No transactions yet.',
    });
    this.chartNote = h('p', { class: 'muted' }, '\u00a0');
    this.chartError = h('div', { class: 'alert', role: 'alert', hidden: true });
    this.currencyPicker = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Currency' });
    this.table = new TxnTable({ api, pageSize: PAGE_SIZE, ownUserId: userId, title: 'Your transactions' });
    this.walletHistory = new WalletHistory(api, userId, PAGE_SIZE);
    this.openPreauths = new UserOpenPreauths(api, (merchantId) => this.merchantName(merchantId));
    this.limitsLine = h('p', { class: 'limits-line', 'data-testid': 'user-limits', 'aria-live': 'polite' });
    this.el = h(
      'div',
      { class: 'view' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', null, this.title),
        h('p', { class: 'page-subtitle' }, `${email} · ${userId}`),
      ),
      h('div', { class: 'balances-block' }, this.balances, this.limitsLine),
      h(
        'section',
        { class: 'card chart-card', 'aria-labelledby': 'balance-title' },
        h(
          'div',
          { class: 'card-header' },
          h('div', null, h('h2', { id: 'balance-title' }, 'Balance over time'), this.chartNote),
          this.currencyPicker,
        ),
        this.chartError,
        this.chart.el,
      ),
      this.openPreauths.el,
      this.table.el,
      this.walletHistory.el,
    );
  }

  async load(): Promise<void> {
    this.startPolling();
    await Promise.all([
      this.loadWalletAndHistory().then(() => {
        this.walletHistory.setCurrency(this.currency);
        return Promise.all([this.walletHistory.load(), this.loadLimits(), this.openPreauths.load()]);
      }),
      this.table.load(),
    ]);
  }

  async refresh(): Promise<void> {
    await Promise.all([
      this.loadWalletAndHistory().then(() =>
        Promise.all([
          this.walletHistory.setCurrency(this.currency) ? this.walletHistory.first() : this.walletHistory.refreshLive(),
          this.loadLimits(),
          this.openPreauths.load(),
        ]),
      ),
      this.table.refreshLive(),
    ]);
  }

  async signal(): Promise<string> {
    const wallet = await this.api.wallet(this.userId);
    this.applyWallet(wallet);
    return JSON.stringify(wallet.balances);
  }

  // Authorizing, cancelling and the expiry of a pre-authorization move no money and give no
  // event: they change the wallet's frozen amount, which is read every PREAUTH_POLL_MS while the
  // page is visible; a change reads the open pre-authorizations again.
  private startPolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      void this.api
        .wallet(this.userId)
        .then((wallet) => {
          const before = this.walletKey;
          this.applyWallet(wallet);
          if (before !== null && before !== this.walletKey) void this.openPreauths.load();
        })
        .catch(() => undefined); // the live indicator tells about a server away
    }, PREAUTH_POLL_MS);
  }

  // A merchant's name as the user's transactions have it (a pre-authorization carries the id).
  private merchantName(merchantId: string): string | null {
    return this.history?.items.find((t) => t.merchant_id === merchantId && t.merchant_name)?.merchant_name ?? null;
  }

  // The limits in the currency shown (GET /v1/users/{id}/limits): what today used of the daily limit.
  private async loadLimits(): Promise<void> {
    const seq = ++this.limitsSeq;
    try {
      const limits = await this.api.userLimits(this.userId, this.currency);
      if (seq === this.limitsSeq) this.renderLimits(limits);
    } catch (e) {
      if (seq !== this.limitsSeq || (e instanceof ApiError && e.status === 401)) return;
      replace(this.limitsLine, h('strong', null, 'Limits'), ' ', h('span', { class: 'error-text' }, `could not be read. ${describeError(e)}`));
    }
  }

  private renderLimits(l: UserLimits): void {
    const c = l.currency;
    const daily = l.limits.find((w) => w.window === 'daily');
    const single = l.limits.find((w) => w.window === 'single');
    this.limitsLine.dataset.currency = c;
    replace(
      this.limitsLine,
      h('strong', null, 'Limits'),
      ` · ${c} · `,
      daily
        ? h(
            'span',
            { 'data-testid': 'user-limits-daily', 'data-value': daily.used_minor, 'data-limit': daily.limit_minor },
            `today ${formatMoney(daily.used_minor, c)} used of ${formatMoney(daily.limit_minor, c)}`,
          )
        : null,
      single ? ` · at most ${formatMoney(single.limit_minor, c)} a payment` : null,
    );
  }

  wants(event: BursarEvent): boolean {
    if (!event.user_id && !event.to_user_id) return true;
    return event.user_id === this.userId || event.to_user_id === this.userId;
  }

  destroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.chart.destroy();
  }

  private async loadWalletAndHistory(): Promise<void> {
    await Promise.all([this.loadWallet(), this.loadHistory()]);
    this.renderChart();
  }

  private async loadWallet(): Promise<void> {
    try {
      this.applyWallet(await this.api.wallet(this.userId));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      const message = describeError(e);
      if (this.cards.size === 0) {
        const card = new StatCard('Balance', 'balance-card', 'wallet');
        card.setError(message);
        this.balanceEls = [card.el];
        this.renderStats();
      } else {
        for (const card of this.cards.values()) card.setError(message);
      }
    }
  }

  private applyWallet(wallet: Wallet): void {
    this.wallet = wallet;
    this.walletKey = JSON.stringify(wallet.balances);
    const balances = wallet.balances ?? [];
    if (balances.length === 0) {
      this.cards.clear();
      const card = new StatCard('Balance', 'balance-card', 'wallet');
      card.set('Empty', 0, 'Top up your wallet to get started.');
      this.balanceEls = [card.el];
      this.renderStats();
      return;
    }
    const seen = new Set<string>();
    const ordered: HTMLElement[] = [];
    for (const b of balances) {
      seen.add(b.currency);
      let card = this.cards.get(b.currency);
      if (!card) {
        card = new StatCard(`Balance · ${b.currency}`, 'balance-card', 'wallet');
        card.el.dataset.currency = b.currency;
        this.cards.set(b.currency, card);
      }
      const available = b.available_minor ?? b.balance_minor;
      const frozen = b.frozen_minor ?? 0;
      card.el.dataset.available = String(available);
      card.el.dataset.frozen = String(frozen);
      card.set(
        formatMoney(b.balance_minor, b.currency),
        b.balance_minor,
        h(
          'span',
          { class: 'balance-split' },
          h('span', { 'data-testid': 'balance-available', 'data-value': available }, `Available ${formatMoney(available, b.currency)}`),
          ' · ',
          h(
            'span',
            { class: frozen ? 'frozen' : null, 'data-testid': 'balance-frozen', 'data-value': frozen, title: 'Reserved by open pre-authorizations' },
            `Frozen ${formatMoney(frozen, b.currency)}`,
          ),
        ),
      );
      ordered.push(card.el);
    }
    for (const currency of [...this.cards.keys()]) if (!seen.has(currency)) this.cards.delete(currency);
    this.balanceEls = ordered;
    this.renderStats();
    if (!this.currency || !seen.has(this.currency)) this.currency = balances[0]!.currency;
    this.renderCurrencyPicker(balances.map((b) => b.currency));
  }

  private renderStats(): void {
    replace(this.balances, this.balanceEls, this.received.el, this.spent.el);
  }

  // Money in and out of the wallet over the last 30 days, in the chart's currency.
  private renderFlows(currency: string | null): void {
    const history = this.history;
    if (!history || !currency) {
      const zero = currency ? formatMoney(0, currency) : '—';
      this.received.set(zero, 0, 'No transactions yet');
      this.spent.set(zero, 0, 'No transactions yet');
      return;
    }
    const since = Date.now() / 1000 - 30 * 86400;
    let inMinor = 0;
    let outMinor = 0;
    let ins = 0;
    let outs = 0;
    for (const t of history.items) {
      if (t.currency !== currency || t.created_at < since) continue;
      const delta = walletDelta(t, this.userId, currency);
      if (delta > 0) {
        inMinor += delta;
        ins += 1;
      } else if (delta < 0) {
        outMinor -= delta;
        outs += 1;
      }
    }
    const oldest = history.items[history.items.length - 1];
    const partial = !history.complete && oldest !== undefined && oldest.created_at > since;
    const note = partial ? ` (last ${formatCount(history.items.length)} only)` : '';
    this.received.set(formatMoney(inMinor, currency), inMinor, `${formatCount(ins)} incoming transaction${ins === 1 ? '' : 's'}${note}`);
    this.spent.set(formatMoney(outMinor, currency), outMinor, `${formatCount(outs)} outgoing transaction${outs === 1 ? '' : 's'}${note}`);
  }

  private renderCurrencyPicker(currencies: string[]): void {
    if (currencies.length < 2) {
      replace(this.currencyPicker);
      return;
    }
    replace(
      this.currencyPicker,
      currencies.map((c) =>
        h(
          'button',
          {
            type: 'button',
            class: 'seg',
            'aria-pressed': c === this.currency ? 'true' : 'false',
            onclick: () => {
              this.currency = c;
              this.renderCurrencyPicker(currencies);
              this.renderChart();
              void this.loadLimits();
              if (this.walletHistory.setCurrency(c)) void this.walletHistory.first();
            },
          },
          c,
        ),
      ),
    );
  }

  private async loadHistory(): Promise<void> {
    const seq = ++this.historySeq;
    try {
      const items: Txn[] = [];
      let cursor: string | null = null;
      let complete = false;
      for (let i = 0; i < HISTORY_PAGES_MAX; i++) {
        const page = await this.api.transactions({ userId: this.userId, size: HISTORY_PAGE_SIZE, cursor });
        items.push(...page.items);
        cursor = page.nextCursor;
        if (!cursor) {
          complete = true;
          break;
        }
      }
      if (seq !== this.historySeq) return;
      this.history = { items, complete };
      this.chartError.hidden = true;
    } catch (e) {
      if (seq !== this.historySeq) return;
      if (e instanceof ApiError && e.status === 401) return;
      const message = describeError(e);
      this.chartError.textContent = `Could not load the balance history. ${message}`;
      this.chartError.hidden = false;
      if (!this.history) {
        this.received.setError(message);
        this.spent.setError(message);
      }
    }
  }

  private renderChart(): void {
    if (!this.history) return;
    const currency = this.currency ?? this.history.items[0]?.currency ?? null;
    this.renderFlows(currency);
    if (!currency) {
      this.chartNote.textContent = '\u00a0';
      this.chart.setData([]);
      return;
    }
    const current = this.wallet?.balances.find((b) => b.currency === currency)?.balance_minor ?? 0;
    const series = balanceSeries(this.history, this.userId, currency, current, Date.now() / 1000);
    const count = series.filter((p) => p.txn).length;
    this.chartNote.textContent = count
      ? `${currency} · ${this.history.complete ? 'all' : 'last'} ${count} transaction${count === 1 ? '' : 's'}`
      : '\u00a0';
    this.chart.setData(
      series.map((p) => ({
        x: p.x,
        y: p.y,
        title: p.txn ? formatDateTime(p.txn.created_at) : p.x >= Date.now() / 1000 - 1 ? 'Now' : 'Before',
        detail: p.txn
          ? `${typeLabel(p.txn.type)} ${formatMoney(walletDelta(p.txn, this.userId, currency), currency, true)}`
          : undefined,
      })),
    );
  }
}
