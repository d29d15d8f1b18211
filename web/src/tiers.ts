// The admin's tiers: the product's table (GET /v1/tiers) and a form that moves a merchant to
// another tier (PUT /v1/merchants/{id}/tier), showing the answer or the API's error.

import { Api, ApiError, Tier, describeError } from './api';
import { h, replace, uid } from './dom';
import { formatBasisPoints, formatCount, formatDateTime, normalizeId, tierLabel } from './format';

const TIER_NAMES = ['starter', 'business', 'enterprise', 'premium'];

const COLUMNS: { label: string; num?: boolean; cell: (t: Tier) => string }[] = [
  { label: 'Tier', cell: (t) => tierLabel(t.name) },
  { label: 'Daily limit', num: true, cell: (t) => formatCount(t.daily_limit) },
  { label: 'Monthly limit', num: true, cell: (t) => formatCount(t.monthly_limit) },
  { label: 'Single payment', num: true, cell: (t) => formatCount(t.single_payment_limit) },
  { label: 'Fee rate', num: true, cell: (t) => formatBasisPoints(t.fee_rate_basis_points) },
  { label: 'Settlement', cell: (t) => t.settlement_cycle },
  { label: 'Multi-currency', cell: (t) => (t.multi_currency ? 'Yes' : 'No') },
  { label: 'Pre-authorization', cell: (t) => (t.pre_authorization ? 'Yes' : 'No') },
  { label: 'API requests / min', num: true, cell: (t) => formatCount(t.api_requests_per_minute) },
  { label: 'Support response', num: true, cell: (t) => `${formatCount(t.support_response_hours)} h` },
  { label: 'Refund fee policy', cell: (t) => t.refund_fee_policy ?? '—' },
];

export class TiersSection {
  readonly el: HTMLElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly loadError: HTMLElement;
  private readonly merchant: HTMLInputElement;
  private readonly tier: HTMLSelectElement;
  private readonly reason: HTMLInputElement;
  private readonly submit: HTMLButtonElement;
  private readonly result: HTMLElement;
  private readonly error: HTMLElement;
  private busy = false;

  constructor(private readonly api: Api) {
    const titleId = uid('tiers-title');
    const formTitleId = uid('tier-form-title');
    this.tbody = h('tbody');
    this.loadError = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'tier-table-error' });
    const merchantId = uid('tier-merchant');
    const tierId = uid('tier-select');
    const reasonId = uid('tier-reason');
    this.merchant = h('input', {
      id: merchantId,
      name: 'merchant_id',
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'mch_1',
      required: true,
      'data-testid': 'tier-change-merchant',
    });
    this.tier = h(
      'select',
      { id: tierId, name: 'tier', required: true, 'data-testid': 'tier-change-tier' },
      TIER_NAMES.map((t) => h('option', { value: t }, tierLabel(t))),
    );
    this.reason = h('input', {
      id: reasonId,
      name: 'reason',
      type: 'text',
      autocomplete: 'off',
      maxlength: 500,
      required: true,
      placeholder: 'Why, for the tier history',
      'data-testid': 'tier-change-reason',
    });
    this.submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'tier-change-submit' }, 'Change tier');
    this.result = h('p', { class: 'tier-result', role: 'status', 'data-testid': 'tier-change-result' });
    this.error = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'tier-change-error' });
    const form = h(
      'form',
      { class: 'tier-form', 'aria-labelledby': formTitleId, novalidate: true, 'data-testid': 'tier-change-form' },
      h('div', { class: 'field' }, h('label', { for: merchantId }, 'Merchant id'), this.merchant),
      h('div', { class: 'field' }, h('label', { for: tierId }, 'New tier'), this.tier),
      h('div', { class: 'field field-wide' }, h('label', { for: reasonId }, 'Reason'), this.reason),
      h('div', { class: 'filter-actions' }, this.submit),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.change();
    });
    this.el = h(
      'section',
      { class: 'card table-card', 'aria-labelledby': titleId, 'data-testid': 'tiers' },
      h(
        'div',
        { class: 'card-header' },
        h('div', null, h('h2', { id: titleId }, 'Tiers'), h('p', { class: 'muted' }, 'What each merchant tier allows; limits in major units')),
      ),
      this.loadError,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'txn-table data-table tier-table', 'data-testid': 'tier-table' },
          h('caption', { class: 'visually-hidden' }, 'Merchant tiers'),
          h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
          this.tbody,
        ),
      ),
      h('h3', { class: 'subhead', id: formTitleId }, "Change a merchant's tier"),
      form,
      this.error,
      this.result,
    );
    replace(
      this.tbody,
      h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' }, COLUMNS.map(() => h('td', null, h('span', { class: 'skeleton' })))),
    );
  }

  async load(): Promise<void> {
    try {
      const tiers = await this.api.tiers();
      this.loadError.hidden = true;
      replace(
        this.tbody,
        tiers.map((t) =>
          h(
            'tr',
            { 'data-testid': 'tier-row', 'data-tier': t.name },
            COLUMNS.map((c, i) =>
              i === 0
                ? h('th', { scope: 'row', 'data-label': c.label }, c.cell(t))
                : h('td', { class: c.num ? 'num' : null, 'data-label': c.label }, c.cell(t)),
            ),
          ),
        ),
      );
      if (tiers.length) {
        const chosen = this.tier.value;
        replace(this.tier, tiers.map((t) => h('option', { value: t.name }, tierLabel(t.name))));
        if (tiers.some((t) => t.name === chosen)) this.tier.value = chosen;
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      this.loadError.textContent = `Could not load the tiers. ${describeError(e)}`;
      this.loadError.hidden = false;
      replace(this.tbody);
    }
  }

  private fail(text: string, param: string | null): void {
    this.error.textContent = text;
    this.error.hidden = false;
    const fields: [HTMLElement, string][] = [
      [this.merchant, 'id'],
      [this.tier, 'tier'],
      [this.reason, 'reason'],
    ];
    for (const [el, name] of fields) {
      if (name === param) el.setAttribute('aria-invalid', 'true');
      else el.removeAttribute('aria-invalid');
    }
  }

  private async change(): Promise<void> {
    if (this.busy) return;
    this.result.textContent = '';
    const id = normalizeId(this.merchant.value, 'mch_');
    if (!id) {
      this.fail('A merchant id looks like mch_3 (or just 3).', 'id');
      return;
    }
    this.merchant.value = id;
    const reason = this.reason.value.trim();
    if (!reason) {
      this.fail('Give a reason: it goes into the tier history.', 'reason');
      return;
    }
    this.busy = true;
    this.submit.disabled = true;
    this.error.hidden = true;
    try {
      const answer = await this.api.setTier(id, this.tier.value, reason);
      for (const el of [this.merchant, this.tier, this.reason]) el.removeAttribute('aria-invalid');
      // The merchant's name, for the answer; the change stands without it.
      const name = await this.api.merchant(answer.merchant_id).then((m) => m.name, () => null);
      this.result.dataset.tier = answer.tier;
      this.result.dataset.merchantId = answer.merchant_id;
      replace(
        this.result,
        `${name ? `${name} (${answer.merchant_id})` : answer.merchant_id} is now on `,
        h('strong', { 'data-testid': 'tier-change-new' }, tierLabel(answer.tier)),
        ` since ${formatDateTime(answer.changed_at)}.`,
      );
      this.reason.value = '';
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      const known = e instanceof ApiError && e.status >= 400 && e.status < 500;
      this.fail(known ? (e as ApiError).message : describeError(e), e instanceof ApiError ? e.param : null);
    } finally {
      this.busy = false;
      this.submit.disabled = false;
    }
  }
}
