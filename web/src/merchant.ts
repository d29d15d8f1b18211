// A merchant's view, signed in with its API key: today's figures, its tier (fee rate, limits and
// what the day and month used of them, history) with the tier recommendation, its
// pre-authorizations, and its payments with their refunds.

import { Api, ApiError, MerchantDetail, MerchantLimits, MetricsToday, TierRecommendation, describeError } from './api';
import { PAGE_SIZE } from './admin';
import { StatCard } from './card';
import { h, replace, uid } from './dom';
import { formatBasisPoints, formatCount, formatDateTime, formatDay, formatMajor, formatMoney, tierLabel } from './format';
import type { BursarEvent } from './live';
import { MerchantPayments } from './payments';
import { MerchantPreauths } from './preauths';
import type { View } from './view';

const ACTION_TEXT: Record<TierRecommendation['action'], string> = {
  upgrade: 'Upgrade',
  downgrade: 'Downgrade',
  none: 'Keep',
};

// A usage bar: `percent` of a limit, with the figures under it. `data` replaces the default
// data-value (the percent) or adds raw figures.
function usage(label: string, percent: number, detail: string, testId: string, data: Record<string, number> = {}): HTMLElement {
  const labelId = uid('usage');
  const width = Math.max(0, Math.min(100, percent));
  const tone = percent >= 80 ? 'meter-high' : percent >= 50 ? 'meter-mid' : '';
  return h(
    'div',
    { class: `usage ${tone}`.trim(), 'data-testid': testId, 'data-value': percent, ...data },
    h('div', { class: 'usage-line' }, h('span', { id: labelId }, label), h('strong', null, `${formatCount(percent)} %`)),
    h(
      'div',
      {
        class: 'bar meter',
        role: 'meter',
        'aria-labelledby': labelId,
        'aria-valuemin': 0,
        'aria-valuemax': Math.max(100, percent),
        'aria-valuenow': percent,
        'aria-valuetext': `${percent} %: ${detail}`,
      },
      h('span', { style: `width: ${width.toFixed(1)}%` }),
    ),
    h('p', { class: 'muted small' }, detail),
  );
}

export class MerchantView implements View {
  readonly el: HTMLElement;
  readonly title = 'Merchant overview';
  private readonly volume = new StatCard("Today's volume", 'card-volume', 'volume');
  private readonly count = new StatCard('Transactions today', 'card-txn-count', 'count', 'tone-amber');
  private readonly subtitle: HTMLElement;
  private readonly tierBody: HTMLElement;
  private readonly tierBadge: HTMLElement;
  private readonly recBody: HTMLElement;
  private readonly payments: MerchantPayments;
  private readonly preauths: MerchantPreauths;
  private detail: MerchantDetail | null = null;
  private limits: MerchantLimits | null = null;
  private preauthTiers: string[] | null = null; // the tiers that take pre-authorizations
  private limitsError: unknown = null;
  private currency: string | null = null; // the platform's, from the recommendation or metrics

  constructor(
    private readonly api: Api,
    private readonly merchantId: string,
    name: string,
  ) {
    this.subtitle = h('p', { class: 'page-subtitle', 'data-testid': 'merchant-subtitle' }, name ? `${name} · ${merchantId}` : merchantId);
    this.tierBadge = h('span', { class: 'tier-badge', 'data-testid': 'tier-name' });
    this.tierBody = h('div', null, h('div', { class: 'skeleton skeleton-block' }));
    this.recBody = h('div', null, h('div', { class: 'skeleton skeleton-block' }));
    this.payments = new MerchantPayments(api, merchantId, PAGE_SIZE);
    this.preauths = new MerchantPreauths({
      api,
      pageSize: PAGE_SIZE,
      payerName: (userId) => this.payments.userName(userId),
      // A capture is a payment: the list and the limits' usage are read again at once.
      onChange: () => void Promise.all([this.payments.refreshLive(), this.loadTier()]),
    });
    this.el = h(
      'div',
      { class: 'view' },
      h('div', { class: 'page-head' }, h('h1', null, this.title), this.subtitle),
      h('section', { class: 'stats', 'aria-label': "Today's figures" }, this.volume.el, this.count.el),
      h(
        'div',
        { class: 'split split-even' },
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'tier-title', 'data-testid': 'tier-card' },
          h(
            'div',
            { class: 'card-header' },
            h('div', null, h('h2', { id: 'tier-title' }, 'Your tier'), h('p', { class: 'muted' }, 'Fee rate and limits')),
            this.tierBadge,
          ),
          this.tierBody,
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'rec-title', 'data-testid': 'recommendation' },
          h(
            'div',
            { class: 'card-header' },
            h('div', null, h('h2', { id: 'rec-title' }, 'Tier recommendation'), h('p', { class: 'muted' }, 'From your payments of the last 30 days')),
          ),
          this.recBody,
        ),
      ),
      this.preauths.el,
      this.payments.el,
    );
  }

  async load(): Promise<void> {
    await Promise.all([this.loadToday(), this.loadTier(), this.payments.load(), this.preauths.load()]);
  }

  async refresh(): Promise<void> {
    await Promise.all([this.loadToday(), this.loadTier(), this.payments.refreshLive(), this.preauths.refreshLive()]);
  }

  // Polling: the merchant's own figures of today tell whether anything moved.
  async signal(): Promise<string> {
    const today = await this.api.metricsToday();
    this.applyToday(today);
    return `${today.date}|${today.txn_count}|${today.total_amount_minor}`;
  }

  wants(event: BursarEvent): boolean {
    return !event.merchant_id || event.merchant_id === this.merchantId;
  }

  destroy(): void {
    this.preauths.destroy();
  }

  private async loadToday(): Promise<void> {
    try {
      this.applyToday(await this.api.metricsToday());
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      for (const card of [this.volume, this.count]) card.setError(describeError(e));
    }
  }

  private applyToday(m: MetricsToday): void {
    this.currency ??= m.currency;
    this.volume.set(formatMoney(m.total_amount_minor, m.currency), m.total_amount_minor, `${formatDay(m.date, 'long')} · payments less refunds`);
    this.count.set(formatCount(m.txn_count), m.txn_count, 'Payments and refunds');
  }

  private async loadTier(): Promise<void> {
    const [detail, rec] = await Promise.allSettled([this.api.merchant(this.merchantId), this.api.tierRecommendation(this.merchantId)]);
    if (rec.status === 'fulfilled') this.currency = rec.value.currency;
    if (detail.status === 'fulfilled') {
      this.detail = detail.value;
      // The limits in force and what the day and month used, in the merchant's own currency.
      try {
        this.limits = await this.api.merchantLimits(this.merchantId, detail.value.currency);
        this.limitsError = null;
      } catch (e) {
        if (isUnauthorized(e)) return;
        this.limitsError = e;
      }
      this.subtitle.textContent = `${detail.value.name} · ${detail.value.merchant_id}`;
      this.renderTier(detail.value);
    } else if (!isUnauthorized(detail.reason)) {
      replace(this.tierBody, h('div', { class: 'alert', role: 'alert' }, `Could not load your tier. ${describeError(detail.reason)}`));
    }
    if (rec.status === 'fulfilled') {
      this.renderRecommendation(rec.value);
    } else if (!isUnauthorized(rec.reason)) {
      replace(this.recBody, h('div', { class: 'alert', role: 'alert' }, `Could not load the recommendation. ${describeError(rec.reason)}`));
    }
  }

  private async loadPreauthTiers(): Promise<string[]> {
    if (this.preauthTiers) return this.preauthTiers;
    try {
      this.preauthTiers = (await this.api.tiers()).filter((t) => t.pre_authorization).map((t) => t.name);
    } catch {
      return []; // unknown: nothing is said
    }
    return this.preauthTiers;
  }

  private renderTier(d: MerchantDetail): void {
    void this.loadPreauthTiers().then((tiers) => this.preauths.setTier(d.tier, tiers));
    const c = this.limits?.currency ?? d.currency ?? this.currency ?? 'JPY';
    this.tierBadge.textContent = tierLabel(d.tier);
    this.tierBadge.dataset.tier = d.tier;
    const fact = (label: string, value: string, testId: string, raw: number) =>
      h('div', { class: 'fact' }, h('dt', null, label), h('dd', { 'data-testid': testId, 'data-value': raw }, value));
    const history = d.tier_history ?? [];
    replace(
      this.tierBody,
      h(
        'dl',
        { class: 'facts' },
        fact('Fee rate', formatBasisPoints(d.fee_rate_basis_points), 'tier-fee-rate', d.fee_rate_basis_points),
        fact('Daily limit', formatMajor(d.limits.daily, c), 'limit-daily', d.limits.daily),
        fact('Monthly limit', formatMajor(d.limits.monthly, c), 'limit-monthly', d.limits.monthly),
        fact('Single payment', formatMajor(d.limits.single_payment, c), 'limit-single', d.limits.single_payment),
      ),
      h('h3', { class: 'subhead' }, `Used of the limits · ${c}`),
      this.limitBars(),
      h('h3', { class: 'subhead' }, 'Tier history'),
      history.length === 0
        ? h('p', { class: 'muted small', 'data-testid': 'tier-history-empty' }, `On ${tierLabel(d.tier)} since the start (${formatDateTime(d.created_at)}).`)
        : h(
            'ol',
            { class: 'tier-history', 'data-testid': 'tier-history' },
            history
              .slice()
              .reverse()
              .map((r) =>
                h(
                  'li',
                  { 'data-testid': 'tier-history-item' },
                  h('span', { class: 'tier-change' }, `${tierLabel(r.from)} → ${tierLabel(r.to)}`),
                  h('span', { class: 'muted small' }, ` · ${formatDateTime(r.at)} · by ${r.actor}`),
                  r.reason ? h('p', { class: 'small' }, r.reason) : null,
                ),
              ),
          ),
    );
  }

  // Today's and this month's usage (GET /v1/merchants/{id}/limits) as bars: data-value is what
  // the window used, data-limit the limit, both in minor units.
  private limitBars(): HTMLElement {
    if (!this.limits) {
      return this.limitsError
        ? h('div', { class: 'alert', role: 'alert', 'data-testid': 'limit-usage-error' }, `Could not load the limit usage. ${describeError(this.limitsError)}`)
        : h('p', { class: 'muted small' }, '—');
    }
    const c = this.limits.currency;
    const bars = (['daily', 'monthly'] as const).map((name) => {
      const w = this.limits!.limits.find((x) => x.window === name);
      if (!w) return null;
      const percent = w.limit_minor > 0 ? Math.round((w.used_minor * 1000) / w.limit_minor) / 10 : 0;
      return usage(
        name === 'daily' ? 'Today' : 'This month',
        percent,
        `${formatMoney(w.used_minor, c)} of ${formatMoney(w.limit_minor, c)} used · ${formatMoney(w.remaining_minor, c)} left`,
        `limit-usage-${name}`,
        { 'data-value': w.used_minor, 'data-limit': w.limit_minor, 'data-remaining': w.remaining_minor, 'data-percent': percent },
      );
    });
    return h('div', { class: 'limit-usage', 'data-currency': c }, bars);
  }

  private renderRecommendation(r: TierRecommendation): void {
    const c = r.currency;
    const limits = this.detail && this.detail.tier === r.current ? this.detail.limits : null;
    const of = (minor: number, limit: number | undefined, what: string) =>
      limit === undefined ? formatMoney(minor, c) : `${formatMoney(minor, c)} of the ${what} limit ${formatMajor(limit, c)}`;
    let fees: string | null = null;
    if (r.action !== 'none' && r.fee_saved_minor > 0) {
      fees = `Fees over these ${r.days} days would have been ${formatMoney(r.fee_saved_minor, c)} less on ${tierLabel(r.recommended)}.`;
    } else if (r.action !== 'none' && r.fee_saved_minor < 0) {
      fees = `Fees over these ${r.days} days would have been ${formatMoney(-r.fee_saved_minor, c)} more on ${tierLabel(r.recommended)}.`;
    }
    this.recBody.parentElement!.dataset.action = r.action;
    replace(
      this.recBody,
      h(
        'p',
        { class: 'rec-action', 'data-testid': 'recommendation-action', 'data-action': r.action },
        h('span', { class: `badge rec-${r.action}` }, ACTION_TEXT[r.action]),
        ' ',
        r.action === 'none'
          ? h('span', null, h('strong', { 'data-testid': 'recommended-tier', 'data-tier': r.recommended }, tierLabel(r.recommended)), ' fits')
          : h('span', null, 'to ', h('strong', { 'data-testid': 'recommended-tier', 'data-tier': r.recommended }, tierLabel(r.recommended))),
      ),
      usage('Peak day', r.peak_day_percent, of(r.peak_day_minor, limits?.daily, 'daily'), 'usage-day'),
      usage(`${r.days} days`, r.month_percent, of(r.month_minor, limits?.monthly, 'monthly'), 'usage-month'),
      fees ? h('p', { class: 'small', 'data-testid': 'recommendation-fees' }, fees) : null,
      h('p', { class: 'muted small rec-reason', 'data-testid': 'recommendation-reason' }, r.reason),
    );
  }
}

function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiError && e.status === 401;
}
