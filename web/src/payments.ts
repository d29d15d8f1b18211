// A merchant's payments (GET /v1/ledger/transactions?merchant_id=, PAY and REFUND rows) with what
// each payment has had refunded (GET /v1/payments?ids=), and a refund form per payment
// (POST /v1/payments/{id}/refunds with an Idempotency-Key).

import { Api, ApiError, Payment, Refund, RefundReason, RetryKey, Txn, TxnPage, describeError } from './api';
import { h, replace, uid } from './dom';
import { decimalToMinor, exponentOf, formatDateTime, formatMoney, formatShortDateTime, minorToDecimal } from './format';
import { CursorPager } from './pager';
import { party, typeLabel } from './transactions';

const COLUMNS = ['Time', 'Type', 'Payer', 'Amount', 'Fee', 'Net', 'Refunded', 'Actions'];
const NUMERIC = new Set(['Amount', 'Fee', 'Net', 'Refunded']);

const REASONS: { value: '' | RefundReason; label: string }[] = [
  { value: '', label: 'None' },
  { value: 'duplicate', label: 'Duplicate' },
  { value: 'fraudulent', label: 'Fraudulent' },
  { value: 'requested_by_customer', label: 'Requested by customer' },
];

interface PaymentsPage extends TxnPage {
  details: Map<string, Payment>;
  detailsError: unknown; // the refunds could not be read: no refund buttons
}

const leftOf = (p: Payment) => p.amount_minor - (p.amount_refunded_minor ?? 0);

// What a transaction did to the merchant's balance (its postings), or null without postings.
function merchantDelta(t: Txn, merchantId: string): number | null {
  const account = `${merchantId}/${t.currency}`;
  let delta: number | null = null;
  for (const p of t.postings ?? []) {
    if (p.account_id !== account) continue;
    delta = (delta ?? 0) + (p.direction === 'credit' ? p.amount_minor : -p.amount_minor);
  }
  return delta;
}

// The form under a payment's row: amount (default: all that is left) and reason.
class RefundForm {
  readonly row: HTMLTableRowElement;
  private readonly amount: HTMLInputElement;
  private readonly reason: HTMLSelectElement;
  private readonly submit: HTMLButtonElement;
  private readonly error: HTMLElement;
  private readonly left: HTMLElement;
  private busy = false;
  // The key of the refund being asked for: kept for a retry of the same request whose outcome is
  // unknown (network failure, timeout, 5xx), so it cannot refund twice; new for anything else.
  private readonly key = new RetryKey();

  constructor(
    private payment: Payment,
    private readonly api: Api,
    private readonly onDone: (refund: Refund) => void,
    private readonly onCancel: () => void,
  ) {
    const formId = uid('refund');
    const amountId = `${formId}-amount`;
    const reasonId = `${formId}-reason`;
    const helpId = `${formId}-help`;
    const exp = exponentOf(payment.currency);
    this.amount = h('input', {
      id: amountId,
      name: 'amount',
      type: 'text',
      inputmode: exp > 0 ? 'decimal' : 'numeric',
      autocomplete: 'off',
      required: true,
      'aria-describedby': helpId,
      'data-testid': 'refund-amount',
    });
    this.amount.value = minorToDecimal(leftOf(payment), exp);
    this.reason = h(
      'select',
      { id: reasonId, name: 'reason', 'data-testid': 'refund-reason' },
      REASONS.map((r) => h('option', { value: r.value }, r.label)),
    );
    this.submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'refund-submit' }, 'Refund');
    this.error = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'refund-error' });
    this.left = h('p', { id: helpId, class: 'muted small' });
    const form = h(
      'form',
      { class: 'refund-form', id: formId, 'aria-label': `Refund ${payment.txn_id}`, novalidate: true, 'data-testid': 'refund-form' },
      h('div', { class: 'field' }, h('label', { for: amountId }, `Amount (${payment.currency})`), this.amount),
      h('div', { class: 'field' }, h('label', { for: reasonId }, 'Reason'), this.reason),
      h(
        'div',
        { class: 'refund-actions' },
        this.submit,
        h('button', { type: 'button', class: 'btn', 'data-testid': 'refund-cancel', onclick: () => this.onCancel() }, 'Cancel'),
      ),
      this.left,
      this.error,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
    this.row = h(
      'tr',
      { class: 'refund-row', 'data-payment-id': payment.txn_id },
      h('td', { colspan: COLUMNS.length }, form),
    );
    this.update(payment);
  }

  get id(): string {
    return this.row.querySelector('form')!.id;
  }

  focus(): void {
    this.amount.focus();
    this.amount.select();
  }

  // The payment as read again: what is left may have changed.
  update(payment: Payment): void {
    this.payment = payment;
    const c = payment.currency;
    this.left.textContent = `Left to refund: ${formatMoney(leftOf(payment), c)} of ${formatMoney(payment.amount_minor, c)}. The fee goes back in proportion.`;
  }

  private showError(text: string, param: string | null): void {
    this.error.textContent = text;
    this.error.hidden = false;
    for (const [el, name] of [[this.amount, 'amount_minor'], [this.reason, 'reason']] as const) {
      if (param === name) el.setAttribute('aria-invalid', 'true');
      else el.removeAttribute('aria-invalid');
    }
  }

  private async send(): Promise<void> {
    if (this.busy) return; // a double click sends once
    const exp = exponentOf(this.payment.currency);
    const text = this.amount.value.trim();
    let amountMinor: bigint | undefined;
    if (text) {
      const value = decimalToMinor(text, exp);
      if (value === null || value <= 0n) {
        this.showError(
          exp > 0
            ? `Enter an amount in ${this.payment.currency} with at most ${exp} decimals, like ${minorToDecimal(leftOf(this.payment), exp)}.`
            : `Enter a whole amount in ${this.payment.currency}, like ${leftOf(this.payment)}.`,
          'amount_minor',
        );
        return;
      }
      amountMinor = value;
    }
    const reason = (this.reason.value || undefined) as RefundReason | undefined;
    const key = this.key.for(`${this.payment.txn_id}|${amountMinor ?? 'all'}|${reason ?? ''}`);
    this.busy = true;
    this.submit.disabled = true;
    this.submit.textContent = 'Refunding…';
    this.error.hidden = true;
    try {
      const refund = await this.api.refund(this.payment.txn_id, { amountMinor, reason }, key);
      this.key.settle();
      this.onDone(refund);
    } catch (e) {
      this.key.settle(e);
      if (e instanceof ApiError && e.status === 401) return; // back to login
      const known = e instanceof ApiError && e.status >= 400 && e.status < 500;
      this.showError(known ? (e as ApiError).message : describeError(e), e instanceof ApiError ? e.param : null);
    } finally {
      this.busy = false;
      this.submit.disabled = false;
      this.submit.textContent = 'Refund';
    }
  }
}

export class MerchantPayments {
  readonly el: HTMLElement;
  private readonly pager: CursorPager<PaymentsPage>;
  private readonly tbody: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly alert: HTMLElement;
  private readonly status: HTMLElement;
  private readonly newPill: HTMLButtonElement;
  private page: PaymentsPage | null = null;
  private forms = new Map<string, RefundForm>(); // open refund forms, by payment id
  private shown = new Set<string>();
  private readonly userNames = new Map<string, string>(); // payers' names seen on the pages read

  constructor(
    private readonly api: Api,
    private readonly merchantId: string,
    pageSize: number,
  ) {
    const titleId = uid('payments-title');
    this.tbody = h('tbody');
    this.table = h(
      'table',
      { class: 'txn-table data-table payments-table', 'data-testid': 'payment-table' },
      h('caption', { class: 'visually-hidden' }, 'Payments and refunds, newest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          COLUMNS.map((c) =>
            h('th', { scope: 'col', class: NUMERIC.has(c) ? 'num' : null }, c === 'Actions' ? h('span', { class: 'visually-hidden' }, c) : c),
          ),
        ),
      ),
      this.tbody,
    );
    this.alert = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'payments-error' });
    this.status = h('p', { class: 'refund-status', role: 'status', 'data-testid': 'refund-status' });
    this.newPill = h(
      'button',
      { type: 'button', class: 'new-pill', hidden: true, 'data-testid': 'payments-new', onclick: () => void this.pager.first() },
      'New payments · back to the newest',
    );
    this.pager = new CursorPager<PaymentsPage>({
      noun: 'payments',
      testId: 'payments',
      fetch: (cursor) => this.fetch(cursor, pageSize),
      render: (page, live) => this.render(page, live),
      fail: (e) => {
        replace(
          this.alert,
          h('span', null, `Could not load the payments. ${describeError(e)}`),
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => void this.pager.reload() }, 'Retry'),
        );
        this.alert.hidden = false;
        if (!this.page) this.message('Payments are not available right now.');
      },
      busy: (on) => {
        this.el.classList.toggle('is-loading', on);
        if (on) this.table.setAttribute('aria-busy', 'true');
        else this.table.removeAttribute('aria-busy');
      },
    });
    this.el = h(
      'section',
      { class: 'card table-card', 'aria-labelledby': titleId, 'data-testid': 'payments' },
      h(
        'div',
        { class: 'card-header' },
        h('div', null, h('h2', { id: titleId }, 'Payments'), h('p', { class: 'muted' }, 'Newest first, with their refunds')),
      ),
      this.alert,
      this.status,
      this.newPill,
      h('div', { class: 'table-wrap' }, this.table),
      this.pager.el,
    );
    replace(
      this.tbody,
      h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' }, COLUMNS.map(() => h('td', null, h('span', { class: 'skeleton' })))),
    );
  }

  load(): Promise<void> {
    return this.pager.reload();
  }

  // A payer's name as the payments read so far have it (a pre-authorization carries only the id).
  userName(userId: string): string | null {
    return this.userNames.get(userId) ?? null;
  }

  // After a change: the newest page is reloaded when shown; elsewhere a pill offers to go back.
  async refreshLive(): Promise<void> {
    if (this.pager.onFirstPage) await this.pager.reload(true);
    else this.newPill.hidden = false;
  }

  private async fetch(cursor: string | null, size: number): Promise<PaymentsPage> {
    const page = await this.api.transactions({ merchantId: this.merchantId, size, cursor });
    for (const t of page.items) if (t.user_name) this.userNames.set(t.user_id, t.user_name);
    const ids = page.items.filter((t) => t.type === 'PAY').map((t) => t.txn_id);
    const details = new Map<string, Payment>();
    let detailsError: unknown = null;
    if (ids.length) {
      try {
        for (const p of await this.api.payments(ids)) details.set(p.txn_id, p);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        detailsError = e;
      }
    }
    return { ...page, details, detailsError };
  }

  private message(text: string): void {
    replace(
      this.tbody,
      h('tr', { class: 'empty-row' }, h('td', { colspan: COLUMNS.length, 'data-testid': 'payments-empty' }, h('div', { class: 'empty' }, text))),
    );
  }

  private render(page: PaymentsPage, live: boolean): void {
    const highlight = live && this.page !== null;
    this.page = page;
    if (this.pager.onFirstPage) this.newPill.hidden = true;
    if (page.detailsError) {
      replace(this.alert, h('span', null, `Could not read the refunds of these payments. ${describeError(page.detailsError)}`));
      this.alert.hidden = false;
    } else {
      this.alert.hidden = true;
    }
    // Refund forms stay open across refreshes, for the payments still on the page.
    for (const [id, form] of [...this.forms]) {
      const payment = page.details.get(id);
      if (payment && leftOf(payment) > 0) form.update(payment);
      else this.forms.delete(id);
    }
    if (page.items.length === 0) {
      this.shown = new Set();
      this.message('No payments yet.');
      return;
    }
    const before = this.shown;
    this.shown = new Set(page.items.map((t) => t.txn_id));
    // Replacing the rows moves an open form: keep the caret where it was.
    const active = document.activeElement;
    const keep = active instanceof HTMLElement && this.tbody.contains(active) && active.closest('.refund-row') ? active : null;
    const selection =
      keep instanceof HTMLInputElement ? [keep.selectionStart, keep.selectionEnd] as const : null;
    replace(
      this.tbody,
      page.items.map((t) => {
        const row = this.row(t, highlight && !before.has(t.txn_id));
        const form = this.forms.get(t.txn_id);
        return form ? [row, form.row] : row;
      }),
    );
    if (keep?.isConnected) {
      keep.focus();
      if (selection && keep instanceof HTMLInputElement) keep.setSelectionRange(selection[0], selection[1]);
    }
  }

  private rowOf(paymentId: string): HTMLTableRowElement | null {
    return this.tbody.querySelector<HTMLTableRowElement>(`tr[data-testid="payment-row"][data-txn-id="${CSS.escape(paymentId)}"]`);
  }

  private toggleForm(payment: Payment): void {
    const open = this.forms.get(payment.txn_id);
    if (open) {
      this.closeForm(payment.txn_id);
      return;
    }
    const form = new RefundForm(
      payment,
      this.api,
      (refund) => this.refunded(refund),
      () => this.closeForm(payment.txn_id),
    );
    this.forms.set(payment.txn_id, form);
    const row = this.rowOf(payment.txn_id);
    if (row) {
      row.after(form.row);
      const button = row.querySelector<HTMLButtonElement>('[data-testid="refund-open"]');
      button?.setAttribute('aria-expanded', 'true');
      button?.setAttribute('aria-controls', form.id);
    }
    this.status.textContent = '';
    form.focus();
  }

  private closeForm(paymentId: string): void {
    const form = this.forms.get(paymentId);
    if (!form) return;
    this.forms.delete(paymentId);
    form.row.remove();
    const button = this.rowOf(paymentId)?.querySelector<HTMLButtonElement>('[data-testid="refund-open"]');
    if (button) {
      button.setAttribute('aria-expanded', 'false');
      if (!button.disabled) button.focus();
    }
  }

  // A refund went through: the row shows it at once; the list is read again for its REFUND row.
  private refunded(refund: Refund): void {
    const page = this.page;
    const payment = page?.details.get(refund.payment_id);
    if (page && payment && !payment.refunds.some((r) => r.refund_id === refund.refund_id)) {
      payment.amount_refunded_minor = (payment.amount_refunded_minor ?? 0) + refund.amount_minor;
      payment.refunds = [...payment.refunds, refund];
    }
    this.forms.get(refund.payment_id)?.row.remove();
    this.forms.delete(refund.payment_id);
    const old = this.rowOf(refund.payment_id);
    const txn = page?.items.find((t) => t.txn_id === refund.payment_id);
    if (old && txn) old.replaceWith(this.row(txn, false));
    this.status.textContent = `Refunded ${formatMoney(refund.amount_minor, refund.currency)} of ${refund.payment_id} (${refund.refund_id}).`;
    const button = this.rowOf(refund.payment_id)?.querySelector<HTMLButtonElement>('[data-testid="refund-open"]');
    if (button && !button.disabled) button.focus();
    if (this.pager.onFirstPage) void this.pager.reload(true);
  }

  private row(t: Txn, isNew: boolean): HTMLTableRowElement {
    const refund = t.type === 'REFUND';
    const c = t.currency;
    const delta = merchantDelta(t, this.merchantId);
    let amount: number;
    let fee: number;
    let net: number;
    if (refund) {
      // What went back: the payer got the amount, the platform returned part of its fee.
      amount = -t.amount_minor;
      net = delta ?? -(t.amount_minor - t.fee_minor);
      fee = amount - net;
    } else {
      amount = t.amount_minor;
      fee = t.fee_minor;
      net = delta ?? t.amount_minor - t.fee_minor;
    }
    const payment = refund ? undefined : this.page?.details.get(t.txn_id);
    let refundedCell: HTMLElement;
    let action: HTMLElement | null = null;
    if (refund) {
      refundedCell = h('td', { class: 'num col-refunded', 'data-label': 'Refunded' }, h('span', { class: 'muted' }, `of ${t.payment_id ?? '—'}`));
    } else if (!payment) {
      refundedCell = h('td', { class: 'num col-refunded muted', 'data-label': 'Refunded', 'data-testid': 'payment-refunded', title: 'Not known right now' }, '?');
    } else {
      const refunded = payment.amount_refunded_minor ?? 0;
      const full = refunded >= payment.amount_minor;
      const count = payment.refunds?.length ?? 0;
      refundedCell = h(
        'td',
        { class: 'num col-refunded', 'data-label': 'Refunded', 'data-testid': 'payment-refunded', 'data-value': refunded },
        refunded === 0
          ? h('span', { class: 'muted' }, '—')
          : h(
              'span',
              null,
              h('span', { class: 'amount' }, formatMoney(refunded, c)),
              h('span', { class: 'refund-note muted small' }, full ? 'in full' : `${count} refund${count === 1 ? '' : 's'}`),
            ),
      );
      action = h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small',
          disabled: full,
          'aria-label': full ? `${t.txn_id} is refunded in full` : `Refund ${t.txn_id}`,
          'aria-expanded': this.forms.has(t.txn_id) ? 'true' : 'false',
          'data-testid': 'refund-open',
          onclick: () => this.toggleForm(payment),
        },
        full ? 'Refunded' : 'Refund',
      );
    }
    if (!action && !refund) {
      action = h('button', { type: 'button', class: 'btn btn-small', disabled: true, 'data-testid': 'refund-open', title: 'The refunds could not be read' }, 'Refund');
    }
    return h(
      'tr',
      { class: isNew ? 'row-new' : null, 'data-testid': 'payment-row', 'data-txn-id': t.txn_id, 'data-type': t.type },
      h(
        'td',
        { class: 'col-time', 'data-label': 'Time' },
        h('time', { datetime: new Date(t.created_at * 1000).toISOString(), title: formatDateTime(t.created_at) }, formatShortDateTime(t.created_at)),
      ),
      h(
        'td',
        { class: 'col-type', 'data-label': 'Type' },
        h('span', null, h('span', { class: `badge badge-${t.type.toLowerCase()}` }, typeLabel(t.type)), h('span', { class: 'party-id mono' }, t.txn_id)),
      ),
      h('td', { class: 'col-user', 'data-label': 'Payer', 'data-testid': 'payment-payer' }, party(t.user_name, t.user_id)),
      h('td', { class: 'num col-amount', 'data-label': 'Amount', 'data-testid': 'payment-amount', 'data-value': amount }, h('span', { class: 'amount' }, formatMoney(amount, c))),
      h('td', { class: 'num muted', 'data-label': 'Fee', 'data-testid': 'payment-fee', 'data-value': fee }, fee ? formatMoney(fee, c) : '—'),
      h('td', { class: 'num', 'data-label': 'Net', 'data-testid': 'payment-net', 'data-value': net }, formatMoney(net, c)),
      refundedCell,
      h('td', { class: 'col-action', 'data-label': 'Actions' }, action),
    );
  }
}
