// The admin's view of the platform: today's figures, daily volume (7 / 30 days), top merchants,
// every transaction, and the merchant tiers with a form to change a merchant's tier.

import { Api, ApiError, MetricsDaily, MetricsToday, describeError } from './api';
import { StatCard } from './card';
import { LineChart } from './chart';
import { h, replace } from './dom';
import { formatCount, formatDay, formatMoney, formatMoneyCompact } from './format';
import type { BursarEvent } from './live';
import { TiersSection } from './tiers';
import { TxnTable, party } from './transactions';
import type { View } from './view';

export const PAGE_SIZE = 10;

export class AdminView implements View {
  readonly el: HTMLElement;
  readonly title = 'Platform overview';
  private readonly volume = new StatCard("Today's volume", 'card-volume', 'volume');
  private readonly count = new StatCard('Transactions today', 'card-txn-count', 'count', 'tone-amber');
  private readonly dau = new StatCard('Daily active users', 'card-dau', 'users', 'tone-green');
  private readonly chart: LineChart;
  private readonly chartNote: HTMLElement;
  private readonly chartError: HTMLElement;
  private readonly merchants: HTMLElement;
  private readonly table: TxnTable;
  private readonly tiers: TiersSection;
  private readonly subtitle: HTMLElement;
  private readonly rangeButtons: HTMLButtonElement[];
  private days: 7 | 30 = 7;
  private currency = 'JPY';
  private dailySeq = 0;

  constructor(private readonly api: Api) {
    this.chart = new LineChart({
      ariaLabel: 'Daily payment volume',
      testId: 'chart-daily',
      formatY: (y) => formatMoney(y, this.currency),
      formatYTick: (y) => formatMoneyCompact(y, this.currency),
      xAxis: 'points',
      formatX: (x) => this.dayLabel(x),
      zeroBased: true,
      emptyText: 'No payments in this period yet.',
    });
    this.chartNote = h('p', { class: 'muted' }, '\u00a0');
    this.chartError = h('div', { class: 'alert', role: 'alert', hidden: true });
    this.rangeButtons = ([7, 30] as const).map((days) =>
      h(
        'button',
        {
          type: 'button',
          class: 'seg',
          'aria-pressed': days === this.days ? 'true' : 'false',
          'data-testid': `range-${days}`,
          onclick: () => this.setRange(days),
        },
        `${days} days`,
      ),
    );
    this.merchants = h('div', { class: 'merchants', 'data-testid': 'top-merchants' });
    this.merchants.append(h('div', { class: 'skeleton skeleton-block' }));
    this.table = new TxnTable({ api, pageSize: PAGE_SIZE, title: 'All transactions' });
    this.subtitle = h('p', { class: 'page-subtitle' }, 'Today');
    this.tiers = new TiersSection(api);

    this.el = h(
      'div',
      { class: 'view' },
      h('div', { class: 'page-head' }, h('h1', null, this.title), this.subtitle),
      h('section', { class: 'stats', 'aria-label': "Today's figures" }, this.volume.el, this.count.el, this.dau.el),
      h(
        'div',
        { class: 'split' },
        h(
          'section',
          { class: 'card chart-card', 'aria-labelledby': 'daily-title' },
          h(
            'div',
            { class: 'card-header' },
            h('div', null, h('h2', { id: 'daily-title' }, 'Daily volume'), this.chartNote),
            h('div', { class: 'segmented', role: 'group', 'aria-label': 'Period' }, this.rangeButtons),
          ),
          this.chartError,
          this.chart.el,
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'merchants-title' },
          h(
            'div',
            { class: 'card-header' },
            h('div', null, h('h2', { id: 'merchants-title' }, 'Top merchants'), h('p', { class: 'muted' }, 'By payment volume today')),
          ),
          this.merchants,
        ),
      ),
      this.table.el,
      this.tiers.el,
    );
  }

  private dailyData: MetricsDaily | null = null;

  private dayLabel(x: number): string {
    const day = this.dailyData?.days[x];
    return day ? formatDay(day.date) : '';
  }

  async load(): Promise<void> {
    await Promise.all([this.loadToday(), this.loadDaily(), this.table.load(), this.tiers.load()]);
  }

  async refresh(): Promise<void> {
    await Promise.all([this.loadToday(), this.loadDaily(), this.table.refreshLive()]);
  }

  // Polling: today's figures tell whether anything moved.
  async signal(): Promise<string> {
    const today = await this.api.metricsToday();
    this.applyToday(today);
    return `${today.date}|${today.txn_count}|${today.total_amount_minor}|${today.dau}`;
  }

  wants(_event: BursarEvent): boolean {
    return true;
  }

  destroy(): void {
    this.chart.destroy();
  }

  private setRange(days: 7 | 30): void {
    if (this.days === days) return;
    this.days = days;
    for (const button of this.rangeButtons) {
      button.setAttribute('aria-pressed', button.dataset.testid === `range-${days}` ? 'true' : 'false');
    }
    void this.loadDaily();
  }

  private async loadToday(): Promise<void> {
    try {
      this.applyToday(await this.api.metricsToday());
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      const message = describeError(e);
      for (const card of [this.volume, this.count, this.dau]) card.setError(message);
      if (!this.merchants.querySelector('li')) {
        replace(this.merchants, h('div', { class: 'empty error-text' }, message));
      }
    }
  }

  private applyToday(m: MetricsToday): void {
    this.currency = m.currency;
    this.subtitle.textContent = `Today · ${formatDay(m.date, 'long')} · figures in ${m.currency}`;
    this.volume.set(formatMoney(m.total_amount_minor, m.currency), m.total_amount_minor, 'Payments, in ' + m.currency);
    this.count.set(formatCount(m.txn_count), m.txn_count, 'Top-ups, payments and transfers');
    this.dau.set(formatCount(m.dau), m.dau, 'Users who moved money today');
    this.renderMerchants(m);
  }

  private renderMerchants(m: MetricsToday): void {
    const top = m.top_merchants ?? [];
    if (top.length === 0) {
      replace(this.merchants, h('div', { class: 'empty', 'data-testid': 'top-merchants-empty' }, 'No payments today yet.'));
      return;
    }
    const max = Math.max(...top.map((t) => t.amount_minor), 1);
    const total = m.total_amount_minor || top.reduce((s, t) => s + t.amount_minor, 0);
    replace(
      this.merchants,
      h(
        'ol',
        { class: 'merchant-list' },
        top.map((t, i) =>
          h(
            'li',
            { 'data-testid': 'top-merchant' },
            h('span', { class: 'rank', 'aria-hidden': 'true' }, String(i + 1)),
            h(
              'div',
              { class: 'merchant-main' },
              h(
                'div',
                { class: 'merchant-line' },
                party(t.name, t.merchant_id),
                h('span', { class: 'merchant-amount' }, formatMoney(t.amount_minor, m.currency)),
              ),
              h(
                'div',
                { class: 'bar', role: 'presentation' },
                h('span', { style: `width: ${Math.max(2, (t.amount_minor / max) * 100).toFixed(1)}%` }),
              ),
              h('div', { class: 'muted small' }, total ? `${((t.amount_minor / total) * 100).toFixed(1)}% of today's volume` : ''),
            ),
          ),
        ),
      ),
    );
  }

  private async loadDaily(): Promise<void> {
    const seq = ++this.dailySeq;
    const days = this.days;
    try {
      const daily = await this.api.metricsDaily(days);
      if (seq !== this.dailySeq) return;
      this.dailyData = daily;
      this.currency = daily.currency;
      this.chartError.hidden = true;
      const total = daily.days.reduce((s, d) => s + d.amount_minor, 0);
      const count = daily.days.reduce((s, d) => s + d.txn_count, 0);
      this.chartNote.textContent = `${formatMoney(total, daily.currency)} over ${days} days · ${formatCount(count)} transactions`;
      this.chart.setData(
        daily.days.map((d, i) => ({
          x: i,
          y: d.amount_minor,
          title: formatDay(d.date, 'long'),
          detail: `${formatCount(d.txn_count)} transactions · ${formatCount(d.dau)} active users`,
        })),
      );
    } catch (e) {
      if (seq !== this.dailySeq) return;
      if (e instanceof ApiError && e.status === 401) return;
      this.chartError.textContent = `Could not load the daily volume. ${describeError(e)}`;
      this.chartError.hidden = false;
    }
  }
}
