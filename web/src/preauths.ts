// Pre-authorizations (docs/api.md "Pre-authorizations"): the merchant's own list
// (GET /v1/preauths) with a status filter, and for each open one a capture form
// (POST /v1/preauths/{id}/capture) and a cancel with a confirmation (POST /v1/preauths/{id}/cancel),
// each with an Idempotency-Key; and a user's open pre-authorizations.
//
// Authorizing, cancelling and the expiry move no money, so they give no event on the stream
// (docs/events.md): the merchant's list is also read again every PREAUTH_POLL_MS while the page is
// visible (the user's view polls its wallet, whose frozen amount they change).

import {
  Api,
  ApiError,
  PREAUTH_STATUSES,
  Preauth,
  PreauthCapture,
  PreauthPage,
  PreauthStatus,
  RetryKey,
  describeError,
  isOpenPreauth,
} from './api';
import { h, replace, uid } from './dom';
import { decimalToMinor, exponentOf, formatDateTime, formatMoney, formatShortDateTime, minorToDecimal, tierLabel } from './format';
import { CursorPager } from './pager';
import { party } from './transactions';

export const PREAUTH_POLL_MS = 5000;

export const STATUS_LABELS: Record<PreauthStatus, string> = {
  authorized: 'Authorized',
  partially_captured: 'Partly captured',
  captured: 'Captured',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

const idNumber = (id: string) => Number(id.replace(/^pa_/, '')) || 0;

function statusBadge(status: PreauthStatus, testId: string): HTMLElement {
  return h(
    'span',
    { class: `badge badge-preauth badge-${status.replace('_', '-')}`, 'data-testid': testId, 'data-status': status },
    STATUS_LABELS[status] ?? status,
  );
}

// A money cell with its raw minor units in data-value; `dash` shows 0 as "—".
function moneyCell(label: string, testId: string, minor: number, currency: string, dash = false, strong = false): HTMLTableCellElement {
  return h(
    'td',
    { class: `num${dash && minor === 0 ? ' muted' : ''}`, 'data-label': label, 'data-testid': testId, 'data-value': minor },
    dash && minor === 0 ? '—' : strong ? h('span', { class: 'amount' }, formatMoney(minor, currency)) : formatMoney(minor, currency),
  );
}

function timeCell(label: string, testId: string, unixSeconds: number, note?: string | null): HTMLTableCellElement {
  return h(
    'td',
    { class: 'col-time', 'data-label': label, 'data-testid': testId, 'data-value': unixSeconds },
    h(
      'span',
      null,
      h('time', { datetime: new Date(unixSeconds * 1000).toISOString(), title: formatDateTime(unixSeconds) }, formatShortDateTime(unixSeconds)),
      note ? h('span', { class: 'refund-note muted small' }, note) : null,
    ),
  );
}

// The message of a failed write, as the form shows it.
function errorText(e: unknown): string {
  return e instanceof ApiError && e.status >= 400 && e.status < 500 ? e.message : describeError(e);
}

// What is open under a row: the capture form or the cancel confirmation.
interface RowForm {
  readonly kind: 'capture' | 'cancel';
  readonly row: HTMLTableRowElement;
  readonly id: string; // the form element's id, for aria-controls
  update(preauth: Preauth): void;
  focus(): void;
}

// The capture form under a row: the amount (default: all that is left) and "final".
class CaptureForm implements RowForm {
  readonly kind = 'capture';
  readonly row: HTMLTableRowElement;
  readonly id: string;
  private readonly amount: HTMLInputElement;
  private readonly final: HTMLInputElement;
  private readonly submit: HTMLButtonElement;
  private readonly error: HTMLElement;
  private readonly left: HTMLElement;
  private busy = false;
  private readonly key = new RetryKey();

  constructor(
    private preauth: Preauth,
    private readonly api: Api,
    colspan: number,
    private readonly onDone: (answer: PreauthCapture) => void,
    private readonly onClose: () => void,
  ) {
    this.id = uid('capture');
    const amountId = `${this.id}-amount`;
    const finalId = `${this.id}-final`;
    const helpId = `${this.id}-help`;
    const exp = exponentOf(preauth.currency);
    this.amount = h('input', {
      id: amountId,
      name: 'amount',
      type: 'text',
      inputmode: exp > 0 ? 'decimal' : 'numeric',
      autocomplete: 'off',
      required: true,
      'aria-describedby': helpId,
      'data-testid': 'capture-amount',
    });
    this.amount.value = minorToDecimal(preauth.remaining_minor, exp);
    this.final = h('input', { id: finalId, name: 'final', type: 'checkbox', 'aria-describedby': helpId, 'data-testid': 'capture-final' });
    this.submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'capture-submit' }, 'Capture');
    this.error = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'capture-error' });
    this.left = h('p', { id: helpId, class: 'muted small' });
    const form = h(
      'form',
      { class: 'refund-form action-form', id: this.id, 'aria-label': `Capture ${preauth.preauth_id}`, novalidate: true, 'data-testid': 'capture-form' },
      h('div', { class: 'field' }, h('label', { for: amountId }, `Amount (${preauth.currency})`), this.amount),
      h('div', { class: 'field-check' }, this.final, h('label', { for: finalId }, 'Final: release the rest')),
      h(
        'div',
        { class: 'refund-actions' },
        this.submit,
        h('button', { type: 'button', class: 'btn', 'data-testid': 'capture-close', onclick: () => this.onClose() }, 'Close'),
      ),
      this.left,
      this.error,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
    this.row = h('tr', { class: 'refund-row action-row', 'data-preauth-id': preauth.preauth_id }, h('td', { colspan }, form));
    this.update(preauth);
  }

  focus(): void {
    this.amount.focus();
    this.amount.select();
  }

  update(preauth: Preauth): void {
    this.preauth = preauth;
    const c = preauth.currency;
    this.left.textContent =
      `Left to capture: ${formatMoney(preauth.remaining_minor, c)} of ${formatMoney(preauth.amount_minor, c)}. ` +
      `Without “final”, what is not captured stays reserved until it expires (${formatDateTime(preauth.expires_at)}).`;
  }

  private showError(text: string, param: string | null): void {
    this.error.textContent = text;
    this.error.hidden = false;
    for (const [el, name] of [[this.amount, 'amount_minor'], [this.final, 'final']] as const) {
      if (param === name) el.setAttribute('aria-invalid', 'true');
      else el.removeAttribute('aria-invalid');
    }
  }

  private async send(): Promise<void> {
    if (this.busy) return; // a double click captures once
    const c = this.preauth.currency;
    const exp = exponentOf(c);
    const text = this.amount.value.trim();
    let amountMinor: bigint | undefined;
    if (text) {
      const value = decimalToMinor(text, exp);
      if (value === null || value <= 0n) {
        const example = minorToDecimal(this.preauth.remaining_minor, exp);
        this.showError(
          exp > 0 ? `Enter an amount in ${c} with at most ${exp} decimals, like ${example}.` : `Enter a whole amount in ${c}, like ${example}.`,
          'amount_minor',
        );
        return;
      }
      amountMinor = value; // more than is left: the API says so
    }
    const final = this.final.checked;
    const key = this.key.for(`${this.preauth.preauth_id}|${amountMinor ?? 'all'}|${final}`);
    this.busy = true;
    this.submit.disabled = true;
    this.submit.textContent = 'Capturing…';
    this.error.hidden = true;
    try {
      const answer = await this.api.capturePreauth(this.preauth.preauth_id, { amountMinor, final }, key);
      this.key.settle();
      this.onDone(answer);
    } catch (e) {
      this.key.settle(e);
      if (e instanceof ApiError && e.status === 401) return; // back to login
      this.showError(errorText(e), e instanceof ApiError ? e.param : null);
    } finally {
      this.busy = false;
      this.submit.disabled = false;
      this.submit.textContent = 'Capture';
    }
  }
}

// The confirmation under a row before a cancel: what goes back to the payer.
class CancelConfirm implements RowForm {
  readonly kind = 'cancel';
  readonly row: HTMLTableRowElement;
  readonly id: string;
  private readonly text: HTMLElement;
  private readonly submit: HTMLButtonElement;
  private readonly keep: HTMLButtonElement;
  private readonly error: HTMLElement;
  private busy = false;
  private readonly key = new RetryKey();

  constructor(
    private preauth: Preauth,
    private readonly api: Api,
    colspan: number,
    private readonly onDone: (preauth: Preauth) => void,
    private readonly onClose: () => void,
  ) {
    this.id = uid('cancel');
    const textId = `${this.id}-text`;
    this.text = h('p', { id: textId, class: 'confirm-text' });
    this.submit = h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'cancel-confirm' }, 'Cancel pre-authorization');
    this.keep = h('button', { type: 'button', class: 'btn', 'data-testid': 'cancel-keep', onclick: () => this.onClose() }, 'Keep it');
    this.error = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'cancel-error' });
    const form = h(
      'form',
      {
        class: 'refund-form action-form',
        id: this.id,
        role: 'group',
        'aria-label': `Cancel ${preauth.preauth_id}?`,
        'aria-describedby': textId,
        novalidate: true,
        'data-testid': 'cancel-form',
      },
      this.text,
      h('div', { class: 'refund-actions' }, this.submit, this.keep),
      this.error,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
    this.row = h('tr', { class: 'refund-row action-row', 'data-preauth-id': preauth.preauth_id }, h('td', { colspan }, form));
    this.update(preauth);
  }

  focus(): void {
    this.keep.focus(); // the safe choice first
  }

  update(preauth: Preauth): void {
    this.preauth = preauth;
    const left = formatMoney(preauth.remaining_minor, preauth.currency);
    this.text.textContent =
      `Cancel ${preauth.preauth_id}? The ${left} still reserved goes back to the payer's available balance` +
      (preauth.captured_minor > 0 ? '; the captures made stay.' : '.');
  }

  private async send(): Promise<void> {
    if (this.busy) return;
    const key = this.key.for(`${this.preauth.preauth_id}|cancel`);
    this.busy = true;
    this.submit.disabled = true;
    this.submit.textContent = 'Cancelling…';
    this.error.hidden = true;
    try {
      const preauth = await this.api.cancelPreauth(this.preauth.preauth_id, key);
      this.key.settle();
      this.onDone(preauth);
    } catch (e) {
      this.key.settle(e);
      if (e instanceof ApiError && e.status === 401) return;
      this.error.textContent = errorText(e);
      this.error.hidden = false;
    } finally {
      this.busy = false;
      this.submit.disabled = false;
      this.submit.textContent = 'Cancel pre-authorization';
    }
  }
}

const COLUMNS = ['Pre-auth', 'Payer', 'Amount', 'Captured', 'Released', 'Remaining', 'Status', 'Expires', 'Actions'];
const NUMERIC = new Set(['Amount', 'Captured', 'Released', 'Remaining']);

export interface MerchantPreauthsOptions {
  api: Api;
  pageSize: number;
  payerName: (userId: string) => string | null; // a pre-authorization carries the payer's id only
  onChange: () => void; // a capture or a cancel went through: payments and limits moved
}

// The merchant's pre-authorizations, newest first, with the status filter and the actions.
export class MerchantPreauths {
  readonly el: HTMLElement;
  private readonly api: Api;
  private readonly pager: CursorPager<PreauthPage>;
  private readonly tbody: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly alert: HTMLElement;
  private readonly message: HTMLElement;
  private readonly filter: HTMLSelectElement;
  private readonly tierNote: HTMLElement;
  private status: PreauthStatus | null = null;
  private page: PreauthPage | null = null;
  private pageKey = ''; // the page's JSON: a poll that finds nothing new renders nothing
  private forms = new Map<string, RowForm>(); // open forms, by pre-authorization id
  private shown = new Set<string>();
  private loading = false;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly options: MerchantPreauthsOptions) {
    this.api = options.api;
    const titleId = uid('preauths-title');
    const filterId = uid('preauth-filter');
    this.filter = h(
      'select',
      { id: filterId, name: 'status', 'data-testid': 'preauth-filter' },
      h('option', { value: '' }, 'All'),
      PREAUTH_STATUSES.map((s) => h('option', { value: s }, STATUS_LABELS[s])),
    );
    this.filter.addEventListener('change', () => {
      this.status = (this.filter.value || null) as PreauthStatus | null;
      void this.pager.first();
    });
    this.tbody = h('tbody');
    this.table = h(
      'table',
      { class: 'txn-table data-table preauth-table', 'data-testid': 'preauth-table' },
      h('caption', { class: 'visually-hidden' }, 'Pre-authorizations, newest first'),
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
    this.alert = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'preauths-error' });
    this.message = h('p', { class: 'refund-status', role: 'status', 'data-testid': 'preauth-message' });
    this.tierNote = h('p', { class: 'muted small tier-note', hidden: true, 'data-testid': 'preauth-tier-note' });
    this.pager = new CursorPager<PreauthPage>({
      noun: 'pre-authorizations',
      testId: 'preauths',
      fetch: (cursor) => this.api.preauths({ status: this.status, size: options.pageSize, cursor }),
      render: (page, live) => this.render(page, live),
      fail: (e) => {
        replace(
          this.alert,
          h('span', null, `Could not load the pre-authorizations. ${describeError(e)}`),
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => void this.pager.reload() }, 'Retry'),
        );
        this.alert.hidden = false;
        if (!this.page) this.empty('Pre-authorizations are not available right now.');
      },
      busy: (on) => {
        this.loading = on;
        this.el.classList.toggle('is-loading', on);
        if (on) this.table.setAttribute('aria-busy', 'true');
        else this.table.removeAttribute('aria-busy');
      },
    });
    this.el = h(
      'section',
      { class: 'card table-card', 'aria-labelledby': titleId, 'data-testid': 'preauths' },
      h(
        'div',
        { class: 'card-header' },
        h(
          'div',
          null,
          h('h2', { id: titleId }, 'Pre-authorizations'),
          h('p', { class: 'muted' }, 'Amounts reserved in your customers’ wallets, newest first: capture them or let them go'),
        ),
        h('div', { class: 'field field-inline' }, h('label', { for: filterId }, 'Status'), this.filter),
      ),
      this.tierNote,
      this.alert,
      this.message,
      h('div', { class: 'table-wrap' }, this.table),
      this.pager.el,
    );
    replace(
      this.tbody,
      h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' }, COLUMNS.map(() => h('td', null, h('span', { class: 'skeleton' })))),
    );
  }

  // The merchant's tier and the tiers that take pre-authorizations (GET /v1/tiers): a tier that
  // does not is told so (what it has may still be captured and cancelled).
  setTier(tier: string, allowing: string[]): void {
    const allowed = allowing.length === 0 || allowing.includes(tier);
    this.tierNote.hidden = allowed;
    this.tierNote.textContent = allowed
      ? ''
      : `${tierLabel(tier)} takes no new pre-authorizations: they need ${allowing.map(tierLabel).join(' or ')}. Those you have can still be captured or cancelled.`;
  }

  load(): Promise<void> {
    if (!this.timer) {
      this.timer = setInterval(() => {
        if (document.visibilityState === 'visible' && !this.loading) void this.pager.reload(true);
      }, PREAUTH_POLL_MS);
    }
    return this.pager.reload();
  }

  // After a change: the page shown is read again in place (its rows' statuses may have moved).
  refreshLive(): Promise<void> {
    return this.loading ? Promise.resolve() : this.pager.reload(true);
  }

  destroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private empty(text: string): void {
    replace(
      this.tbody,
      h('tr', { class: 'empty-row' }, h('td', { colspan: COLUMNS.length, 'data-testid': 'preauths-empty' }, h('div', { class: 'empty' }, text))),
    );
  }

  private render(page: PreauthPage, live: boolean): void {
    // The payers' names come from the payments read so far: a name learnt since is news too.
    const key = JSON.stringify(page) + page.items.map((p) => this.options.payerName(p.user_id) ?? '').join('|');
    if (live && this.page && key === this.pageKey) return; // nothing moved
    const highlight = live && this.page !== null;
    this.page = page;
    this.pageKey = key;
    this.alert.hidden = true;
    // Open forms stay, for the pre-authorizations still open on the page.
    for (const [id, form] of [...this.forms]) {
      const p = page.items.find((x) => x.preauth_id === id);
      if (p && isOpenPreauth(p)) form.update(p);
      else this.forms.delete(id);
    }
    if (page.items.length === 0) {
      this.shown = new Set();
      this.empty(this.status ? `No ${STATUS_LABELS[this.status].toLowerCase()} pre-authorizations.` : 'No pre-authorizations yet.');
      return;
    }
    const before = this.shown;
    this.shown = new Set(page.items.map((p) => p.preauth_id));
    // Replacing the rows moves an open form: keep the caret where it was.
    const active = document.activeElement;
    const keep = active instanceof HTMLElement && this.tbody.contains(active) && active.closest('.action-row') ? active : null;
    const selection = keep instanceof HTMLInputElement && keep.type === 'text' ? ([keep.selectionStart, keep.selectionEnd] as const) : null;
    replace(
      this.tbody,
      page.items.map((p) => {
        const row = this.row(p, highlight && !before.has(p.preauth_id));
        const form = this.forms.get(p.preauth_id);
        return form ? [row, form.row] : row;
      }),
    );
    if (keep?.isConnected) {
      keep.focus();
      if (selection && keep instanceof HTMLInputElement) keep.setSelectionRange(selection[0], selection[1]);
    }
  }

  private rowOf(id: string): HTMLTableRowElement | null {
    return this.tbody.querySelector<HTMLTableRowElement>(`tr[data-testid="preauth-row"][data-preauth-id="${CSS.escape(id)}"]`);
  }

  private buttonOf(id: string, kind: RowForm['kind']): HTMLButtonElement | null {
    return this.rowOf(id)?.querySelector<HTMLButtonElement>(`[data-testid="preauth-${kind}-open"]`) ?? null;
  }

  private open(p: Preauth, kind: RowForm['kind']): void {
    const current = this.forms.get(p.preauth_id);
    this.closeForm(p.preauth_id, false);
    if (current?.kind === kind) {
      this.buttonOf(p.preauth_id, kind)?.focus(); // the same button again closes it
      return;
    }
    const close = () => this.closeForm(p.preauth_id, true);
    const form: RowForm =
      kind === 'capture'
        ? new CaptureForm(p, this.api, COLUMNS.length, (answer) => this.captured(answer), close)
        : new CancelConfirm(p, this.api, COLUMNS.length, (preauth) => this.cancelled(preauth), close);
    this.forms.set(p.preauth_id, form);
    this.rowOf(p.preauth_id)?.after(form.row);
    const button = this.buttonOf(p.preauth_id, kind);
    button?.setAttribute('aria-expanded', 'true');
    button?.setAttribute('aria-controls', form.id);
    this.message.textContent = '';
    form.focus();
  }

  private closeForm(id: string, focus: boolean): void {
    const form = this.forms.get(id);
    if (!form) return;
    this.forms.delete(id);
    form.row.remove();
    const button = this.buttonOf(id, form.kind);
    if (button) {
      button.setAttribute('aria-expanded', 'false');
      if (focus) button.focus();
    }
  }

  // The answer's pre-authorization replaces its row at once; the list is read again.
  private replaced(p: Preauth): void {
    const page = this.page;
    const index = page?.items.findIndex((x) => x.preauth_id === p.preauth_id) ?? -1;
    if (page && index >= 0) page.items[index] = p;
    this.forms.get(p.preauth_id)?.row.remove();
    this.forms.delete(p.preauth_id);
    this.rowOf(p.preauth_id)?.replaceWith(this.row(p, false));
    const next = this.buttonOf(p.preauth_id, 'capture');
    if (next) next.focus();
    void this.pager.reload(true);
    this.options.onChange();
  }

  private captured(answer: PreauthCapture): void {
    const { preauth: p, capture } = answer;
    const c = capture.currency;
    let rest: string;
    if (isOpenPreauth(p)) rest = `${formatMoney(p.remaining_minor, c)} is still reserved.`;
    else if (p.released_minor > 0) rest = `${formatMoney(p.released_minor, c)} went back to the payer.`;
    else rest = 'Nothing is left.';
    this.message.textContent =
      `Captured ${formatMoney(capture.amount_minor, c)} of ${p.preauth_id} as payment ${capture.txn_id} ` +
      `(fee ${formatMoney(capture.fee_minor, c)}). ${rest}`;
    this.replaced(p);
  }

  private cancelled(p: Preauth): void {
    this.message.textContent = `Cancelled ${p.preauth_id}: ${formatMoney(p.released_minor, p.currency)} went back to the payer.`;
    this.replaced(p);
  }

  private row(p: Preauth, isNew: boolean): HTMLTableRowElement {
    const c = p.currency;
    const open = isOpenPreauth(p);
    const actions = open
      ? h(
          'div',
          { class: 'row-actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              'aria-label': `Capture ${p.preauth_id}`,
              'aria-expanded': this.forms.get(p.preauth_id)?.kind === 'capture' ? 'true' : 'false',
              'data-testid': 'preauth-capture-open',
              onclick: () => this.open(p, 'capture'),
            },
            'Capture',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              'aria-label': `Cancel ${p.preauth_id}`,
              'aria-expanded': this.forms.get(p.preauth_id)?.kind === 'cancel' ? 'true' : 'false',
              'data-testid': 'preauth-cancel-open',
              onclick: () => this.open(p, 'cancel'),
            },
            'Cancel',
          ),
        )
      : null;
    const closedNote = p.closed_at !== null ? `closed ${formatShortDateTime(p.closed_at)}` : null;
    return h(
      'tr',
      { class: isNew ? 'row-new' : null, 'data-testid': 'preauth-row', 'data-preauth-id': p.preauth_id, 'data-status': p.status },
      h(
        'td',
        { class: 'col-type', 'data-label': 'Pre-authorization' },
        h(
          'span',
          null,
          h('span', { class: 'mono', 'data-testid': 'preauth-id' }, p.preauth_id),
          // The merchant's own order or booking number, under the id.
          p.reference
            ? h('span', { class: 'refund-note muted small' }, 'ref ', h('span', { class: 'mono', 'data-testid': 'preauth-reference' }, p.reference))
            : null,
        ),
      ),
      h('td', { class: 'col-user', 'data-label': 'Payer', 'data-testid': 'preauth-payer' }, party(this.options.payerName(p.user_id), p.user_id)),
      moneyCell('Amount', 'preauth-amount', p.amount_minor, c, false, true),
      moneyCell('Captured', 'preauth-captured', p.captured_minor, c, true),
      moneyCell('Released', 'preauth-released', p.released_minor, c, true),
      moneyCell('Remaining', 'preauth-remaining', p.remaining_minor, c, true, true),
      h('td', { 'data-label': 'Status' }, statusBadge(p.status, 'preauth-status')),
      timeCell('Expires', 'preauth-expires', p.expires_at, closedNote),
      h('td', { class: 'col-action', 'data-label': 'Actions' }, actions),
    );
  }
}

const OPEN_COLUMNS = ['Pre-auth', 'Merchant', 'Amount', 'Captured', 'Remaining', 'Status', 'Expires'];
const OPEN_NUMERIC = new Set(['Amount', 'Captured', 'Remaining']);
const OPEN_SIZE = 100; // of each open status

// A user's open pre-authorizations (authorized and partially captured), newest first.
export class UserOpenPreauths {
  readonly el: HTMLElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly alert: HTMLElement;
  private readonly note: HTMLElement;
  private key: string | null = null;
  private seq = 0;

  constructor(
    private readonly api: Api,
    private readonly merchantName: (merchantId: string) => string | null,
  ) {
    const titleId = uid('open-preauths-title');
    this.note = h('p', { class: 'muted' }, 'Amounts reserved for merchants: not available until captured or let go');
    this.tbody = h('tbody');
    this.table = h(
      'table',
      { class: 'txn-table data-table', 'data-testid': 'open-preauth-table' },
      h('caption', { class: 'visually-hidden' }, 'Open pre-authorizations, newest first'),
      h('thead', null, h('tr', null, OPEN_COLUMNS.map((c) => h('th', { scope: 'col', class: OPEN_NUMERIC.has(c) ? 'num' : null }, c)))),
      this.tbody,
    );
    this.alert = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'open-preauths-error' });
    this.el = h(
      'section',
      { class: 'card table-card', 'aria-labelledby': titleId, 'data-testid': 'open-preauths' },
      h('div', { class: 'card-header' }, h('div', null, h('h2', { id: titleId }, 'Open pre-authorizations'), this.note)),
      this.alert,
      h('div', { class: 'table-wrap' }, this.table),
    );
    replace(
      this.tbody,
      h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' }, OPEN_COLUMNS.map(() => h('td', null, h('span', { class: 'skeleton' })))),
    );
  }

  // Both open statuses, newest first (two lists: the API filters by one status at a time).
  async load(): Promise<void> {
    const seq = ++this.seq;
    try {
      const pages = await Promise.all(
        (['authorized', 'partially_captured'] as const).map((status) => this.api.preauths({ status, size: OPEN_SIZE })),
      );
      if (seq !== this.seq) return;
      const items = pages.flatMap((p) => p.items).sort((a, b) => idNumber(b.preauth_id) - idNumber(a.preauth_id));
      this.alert.hidden = true;
      this.render(items, pages.some((p) => p.nextCursor !== null));
    } catch (e) {
      if (seq !== this.seq) return;
      if (e instanceof ApiError && e.status === 401) return;
      replace(
        this.alert,
        h('span', null, `Could not load your pre-authorizations. ${describeError(e)}`),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => void this.load() }, 'Retry'),
      );
      this.alert.hidden = false;
      if (this.key === null) this.empty('Pre-authorizations are not available right now.');
    }
  }

  private empty(text: string): void {
    replace(
      this.tbody,
      h('tr', { class: 'empty-row' }, h('td', { colspan: OPEN_COLUMNS.length, 'data-testid': 'open-preauths-empty' }, h('div', { class: 'empty' }, text))),
    );
  }

  private render(items: Preauth[], more: boolean): void {
    const key = JSON.stringify(items) + String(more) + items.map((p) => this.merchantName(p.merchant_id) ?? '').join('|');
    if (key === this.key) return;
    this.key = key;
    // What is reserved, by currency.
    const reserved = new Map<string, number>();
    for (const p of items) reserved.set(p.currency, (reserved.get(p.currency) ?? 0) + p.remaining_minor);
    this.note.textContent =
      items.length === 0
        ? 'Amounts reserved for merchants: not available until captured or let go'
        : `${[...reserved].map(([c, m]) => formatMoney(m, c)).join(' + ')} reserved in ${items.length} pre-authorization${items.length === 1 ? '' : 's'}` +
          (more ? ` (the newest ${OPEN_SIZE} of each status)` : '');
    if (items.length === 0) {
      this.empty('No open pre-authorizations.');
      return;
    }
    replace(
      this.tbody,
      items.map((p) =>
        h(
          'tr',
          { 'data-testid': 'open-preauth-row', 'data-preauth-id': p.preauth_id, 'data-status': p.status },
          h(
            'td',
            { class: 'col-type', 'data-label': 'Pre-authorization' },
            h('span', null, h('span', { class: 'mono' }, p.preauth_id), p.reference ? h('span', { class: 'party-id' }, p.reference) : null),
          ),
          h('td', { class: 'col-merchant', 'data-label': 'Merchant', 'data-testid': 'open-preauth-merchant' }, party(this.merchantName(p.merchant_id), p.merchant_id)),
          moneyCell('Amount', 'open-preauth-amount', p.amount_minor, p.currency),
          moneyCell('Captured', 'open-preauth-captured', p.captured_minor, p.currency, true),
          moneyCell('Remaining', 'open-preauth-remaining', p.remaining_minor, p.currency, false, true),
          h('td', { 'data-label': 'Status' }, statusBadge(p.status, 'open-preauth-status')),
          timeCell('Expires', 'open-preauth-expires', p.expires_at),
        ),
      ),
    );
  }
}
