// The transactions table: filters by user and merchant, cursor pagination (a stack of cursors:
// Next pushes the page's nextCursor, Previous pops), and live refresh of the first page.

import { Api, ApiError, Txn, describeError } from './api';
import { h, replace, uid } from './dom';
import { formatDateTime, formatMoney, formatShortDateTime, normalizeId } from './format';

export interface TxnTableOptions {
  api: Api;
  pageSize: number;
  // The user view: only this user's rows, amounts signed from their wallet's side, no user filter.
  ownUserId?: string;
  title?: string;
}

const TYPE_LABELS: Record<string, string> = {
  TOPUP: 'Top-up',
  PAY: 'Payment',
  TRANSFER: 'Transfer',
  REFUND: 'Refund',
  PAYOUT: 'Payout',
};

export function typeLabel(type: string): string {
  return TYPE_LABELS[type] ?? type.charAt(0) + type.slice(1).toLowerCase();
}

// What a transaction did to `userId`'s wallets (credits minus debits), in its currency.
export function walletDelta(txn: Txn, userId: string, currency = txn.currency): number {
  const account = `${userId}/wallet/${currency}`;
  let delta = 0;
  for (const p of txn.postings ?? []) {
    if (p.account_id !== account) continue;
    delta += p.direction === 'credit' ? p.amount_minor : -p.amount_minor;
  }
  return delta;
}

// A user or merchant as people know them: the name, with the id beside it (the filters take ids).
export function party(name: string | null | undefined, id: string): HTMLElement {
  if (!name) return h('span', { class: 'party' }, h('span', { class: 'party-id mono' }, id));
  return h(
    'span',
    { class: 'party', title: id },
    h('span', { class: 'party-name' }, name),
    h('span', { class: 'party-id mono' }, id),
  );
}

// The name the rows give for the filtered user or merchant, if they show one.
function nameOf(items: Txn[], id: string, kind: 'user' | 'merchant'): string | null {
  for (const t of items) {
    if (kind === 'merchant' && t.merchant_id === id && t.merchant_name) return t.merchant_name;
    if (kind === 'user' && t.user_id === id && t.user_name) return t.user_name;
    if (kind === 'user' && t.to_user_id === id && t.to_user_name) return t.to_user_name;
  }
  return null;
}

export class TxnTable {
  readonly el: HTMLElement;
  private cursors: (string | null)[] = [null];
  private nextCursor: string | null = null;
  private filters = { userId: '', merchantId: '' };
  private shownIds = new Set<string>();
  private requestSeq = 0;
  private hasLoaded = false;
  private filterNames = { user: null as string | null, merchant: null as string | null };
  // The user view shows what left or reached the wallet: no fee column (the merchant bears it).
  private readonly columns: string[];

  private readonly tbody: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly alert: HTMLDivElement;
  private readonly pageInfo: HTMLSpanElement;
  private readonly prevButton: HTMLButtonElement;
  private readonly nextButton: HTMLButtonElement;
  private readonly newPill: HTMLButtonElement;
  private readonly userInput: HTMLInputElement | null = null;
  private readonly merchantInput: HTMLInputElement;
  private readonly formError: HTMLParagraphElement;

  constructor(private readonly options: TxnTableOptions) {
    const own = options.ownUserId;
    const userId = uid('filter-user');
    const merchantId = uid('filter-merchant');
    const errorId = uid('filter-error');
    this.merchantInput = h('input', {
      id: merchantId,
      name: 'merchant_id',
      type: 'text',
      inputmode: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'mch_1',
      'aria-describedby': errorId,
      'data-testid': 'filter-merchant',
    });
    if (!own) {
      this.userInput = h('input', {
        id: userId,
        name: 'user_id',
        type: 'text',
        autocomplete: 'off',
        spellcheck: 'false',
        placeholder: 'usr_1',
        'aria-describedby': errorId,
        'data-testid': 'filter-user',
      });
    }
    this.formError = h('p', { id: errorId, class: 'field-error', 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter transactions', novalidate: true },
      this.userInput
        ? h('div', { class: 'field' }, h('label', { for: userId }, 'User'), this.userInput)
        : null,
      h('div', { class: 'field' }, h('label', { for: merchantId }, 'Merchant'), this.merchantInput),
      h(
        'div',
        { class: 'filter-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'filter-apply' }, 'Apply'),
        h(
          'button',
          { type: 'button', class: 'btn', 'data-testid': 'filter-clear', onclick: () => this.clearFilters() },
          'Clear',
        ),
      ),
      this.formError,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.applyFilters();
    });

    this.tbody = h('tbody');
    this.columns = own
      ? ['Time', 'Type', 'Amount', 'User', 'Merchant']
      : ['Time', 'Type', 'Amount', 'Fee', 'User', 'Merchant'];
    const headers = this.columns;
    this.table = h(
      'table',
      { class: 'txn-table', 'data-testid': 'txn-table' },
      h('caption', { class: 'visually-hidden' }, 'Transactions, newest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          headers.map((label) =>
            h('th', { scope: 'col', class: label === 'Amount' || label === 'Fee' ? 'num' : null }, label),
          ),
        ),
      ),
      this.tbody,
    );
    this.alert = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'txn-error' });
    this.newPill = h(
      'button',
      {
        type: 'button',
        class: 'new-pill',
        hidden: true,
        'data-testid': 'txn-new',
        onclick: () => this.firstPage(),
      },
      'New transactions · back to the newest',
    );
    this.pageInfo = h('span', { class: 'page-info', 'aria-live': 'polite', 'data-testid': 'page-info' });
    this.prevButton = h(
      'button',
      {
        type: 'button',
        class: 'btn',
        'aria-label': 'Previous page (newer transactions)',
        'data-testid': 'page-prev',
        disabled: true,
        onclick: () => this.previousPage(),
      },
      '‹ Previous',
    );
    this.nextButton = h(
      'button',
      {
        type: 'button',
        class: 'btn',
        'aria-label': 'Next page (older transactions)',
        'data-testid': 'page-next',
        disabled: true,
        onclick: () => this.nextPage(),
      },
      'Next ›',
    );

    this.el = h(
      'section',
      { class: 'card table-card', 'aria-labelledby': `${userId}-title` },
      h(
        'div',
        { class: 'card-header' },
        h(
          'div',
          null,
          h('h2', { id: `${userId}-title` }, options.title ?? 'Transactions'),
          h('p', { class: 'muted' }, 'Newest first'),
        ),
        form,
      ),
      this.alert,
      this.newPill,
      h('div', { class: 'table-wrap' }, this.table),
      h(
        'div',
        { class: 'pager' },
        this.pageInfo,
        h('div', { class: 'pager-buttons' }, this.prevButton, this.nextButton),
      ),
    );
    this.renderSkeleton();
  }

  get page(): number {
    return this.cursors.length;
  }

  // Loads the page on top of the cursor stack.
  load(): Promise<void> {
    return this.fetchPage(this.cursors, false);
  }

  // A live change: the first page is reloaded when shown; elsewhere a pill offers to go back.
  async refreshLive(): Promise<void> {
    if (this.cursors.length === 1) await this.fetchPage(this.cursors, true);
    else this.newPill.hidden = false;
  }

  private firstPage(): Promise<void> {
    return this.fetchPage([null], false);
  }

  private nextPage(): Promise<void> {
    if (!this.nextCursor) return Promise.resolve();
    return this.fetchPage([...this.cursors, this.nextCursor], false);
  }

  private previousPage(): Promise<void> {
    if (this.cursors.length <= 1) return Promise.resolve();
    return this.fetchPage(this.cursors.slice(0, -1), false);
  }

  private applyFilters(): void {
    const user = this.userInput ? normalizeId(this.userInput.value, 'usr_') : '';
    const merchant = normalizeId(this.merchantInput.value, 'mch_');
    this.userInput?.removeAttribute('aria-invalid');
    this.merchantInput.removeAttribute('aria-invalid');
    if (user === null) {
      this.userInput?.setAttribute('aria-invalid', 'true');
      this.formError.textContent = 'A user id looks like usr_12 (or just 12).';
      return;
    }
    if (merchant === null) {
      this.merchantInput.setAttribute('aria-invalid', 'true');
      this.formError.textContent = 'A merchant id looks like mch_3 (or just 3).';
      return;
    }
    this.formError.textContent = '';
    if (this.userInput) this.userInput.value = user;
    this.merchantInput.value = merchant;
    this.filters = { userId: user, merchantId: merchant };
    void this.fetchPage([null], false);
  }

  private clearFilters(): void {
    if (this.userInput) this.userInput.value = '';
    this.merchantInput.value = '';
    this.formError.textContent = '';
    this.userInput?.removeAttribute('aria-invalid');
    this.merchantInput.removeAttribute('aria-invalid');
    this.filters = { userId: '', merchantId: '' };
    void this.fetchPage([null], false);
  }

  private async fetchPage(cursors: (string | null)[], live: boolean): Promise<void> {
    const seq = ++this.requestSeq;
    if (!live) {
      this.table.setAttribute('aria-busy', 'true');
      this.el.classList.add('is-loading');
      this.prevButton.disabled = true;
      this.nextButton.disabled = true;
    }
    try {
      const page = await this.options.api.transactions({
        userId: this.options.ownUserId ?? this.filters.userId,
        merchantId: this.filters.merchantId,
        size: this.options.pageSize,
        cursor: cursors[cursors.length - 1],
      });
      if (seq !== this.requestSeq) return;
      const wasFirst = this.cursors.length === 1;
      this.cursors = cursors;
      this.nextCursor = page.nextCursor;
      if (cursors.length === 1) this.newPill.hidden = true;
      this.alert.hidden = true;
      this.filterNames = {
        user: this.filters.userId ? nameOf(page.items, this.filters.userId, 'user') : null,
        merchant: this.filters.merchantId ? nameOf(page.items, this.filters.merchantId, 'merchant') : null,
      };
      this.renderRows(page.items, live && wasFirst && this.hasLoaded);
      this.hasLoaded = true;
    } catch (e) {
      if (seq !== this.requestSeq) return;
      if (e instanceof ApiError && e.status === 401) return; // back to login
      replace(
        this.alert,
        h('span', null, `Could not load transactions. ${describeError(e)}`),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => void this.load() }, 'Retry'),
      );
      this.alert.hidden = false;
      if (!this.hasLoaded) this.renderMessage('Transactions are not available right now.');
    } finally {
      if (seq === this.requestSeq) {
        this.table.removeAttribute('aria-busy');
        this.el.classList.remove('is-loading');
        this.updatePager();
      }
    }
  }

  private updatePager(): void {
    this.prevButton.disabled = this.cursors.length <= 1;
    this.nextButton.disabled = !this.nextCursor;
    // The filters as people know them: by name, with the id.
    const shown = (id: string, name: string | null) => (name ? `${name} (${id})` : id);
    const filters = [
      this.filters.userId ? shown(this.filters.userId, this.filterNames.user) : '',
      this.filters.merchantId ? shown(this.filters.merchantId, this.filterNames.merchant) : '',
    ].filter(Boolean);
    this.pageInfo.textContent = `Page ${this.cursors.length}${filters.length ? ` · ${filters.join(' · ')}` : ''}`;
  }

  private renderSkeleton(): void {
    replace(
      this.tbody,
      Array.from({ length: 3 }, () =>
        h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' }, this.columns.map(() => h('td', null, h('span', { class: 'skeleton' })))),
      ),
    );
  }

  private renderMessage(text: string, testId = 'txn-empty'): void {
    replace(
      this.tbody,
      h('tr', { class: 'empty-row' }, h('td', { colspan: this.columns.length, 'data-testid': testId }, h('div', { class: 'empty' }, text))),
    );
  }

  private renderRows(items: Txn[], highlightNew: boolean): void {
    if (items.length === 0) {
      const filtered = this.filters.userId || this.filters.merchantId;
      this.renderMessage(filtered ? 'No transactions match these filters.' : 'No transactions yet.');
      this.shownIds = new Set();
      return;
    }
    const previous = this.shownIds;
    this.shownIds = new Set(items.map((t) => t.txn_id));
    replace(
      this.tbody,
      items.map((t) => this.row(t, highlightNew && !previous.has(t.txn_id))),
    );
  }

  private row(t: Txn, isNew: boolean): HTMLTableRowElement {
    const own = this.options.ownUserId;
    let amount: HTMLElement;
    if (own) {
      const delta = walletDelta(t, own);
      const signed = delta !== 0 ? delta : -t.amount_minor;
      amount = h(
        'span',
        { class: signed > 0 ? 'amount credit' : 'amount debit' },
        formatMoney(signed, t.currency, true),
      );
    } else {
      amount = h('span', { class: 'amount' }, formatMoney(t.amount_minor, t.currency));
    }
    const user =
      t.type === 'TRANSFER' && t.to_user_id
        ? h(
            'span',
            { class: 'parties' },
            party(t.user_name, t.user_id),
            h('span', { class: 'arrow', 'aria-label': 'to' }, ' → '),
            party(t.to_user_name, t.to_user_id),
          )
        : party(t.user_name, t.user_id);
    const iso = new Date(t.created_at * 1000).toISOString();
    return h(
      'tr',
      { class: isNew ? 'row-new' : null, 'data-testid': 'txn-row', 'data-txn-id': t.txn_id },
      h(
        'td',
        { class: 'col-time', 'data-label': 'Time' },
        h('time', { datetime: iso, title: formatDateTime(t.created_at) }, formatShortDateTime(t.created_at)),
      ),
      h(
        'td',
        { class: 'col-type', 'data-label': 'Type' },
        h('span', { class: `badge badge-${t.type.toLowerCase()}`, title: t.txn_id }, typeLabel(t.type)),
      ),
      h('td', { class: 'num col-amount', 'data-label': 'Amount' }, amount),
      own
        ? null
        : h(
            'td',
            { class: 'num muted col-fee', 'data-label': 'Fee' },
            t.fee_minor ? formatMoney(t.fee_minor, t.currency) : '—',
          ),
      h('td', { class: 'col-user', 'data-label': 'User', 'data-testid': 'txn-user' }, user),
      h(
        'td',
        { class: 'col-merchant', 'data-label': 'Merchant', 'data-testid': 'txn-merchant' },
        t.merchant_id ? party(t.merchant_name, t.merchant_id) : '—',
      ),
    );
  }
}
