// A wallet's history in one currency (GET /v1/wallets/{id}/history): every movement, newest
// first, with what it changed and the balance after it; Older and Newer page through it.

import { Api, HistoryItem, HistoryPage, describeError } from './api';
import { h, replace, uid } from './dom';
import { formatDateTime, formatMoney, formatShortDateTime } from './format';
import { CursorPager } from './pager';
import { typeLabel } from './transactions';

const COLUMNS = ['Time', 'Type', 'Details', 'Change', 'Balance after'];

export class WalletHistory {
  readonly el: HTMLElement;
  private currency: string | null = null;
  private shown = new Set<string>();
  private loaded = false;
  private readonly pager: CursorPager<HistoryPage>;
  private readonly tbody: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly alert: HTMLElement;
  private readonly note: HTMLElement;
  private readonly newPill: HTMLButtonElement;

  constructor(
    private readonly api: Api,
    private readonly userId: string,
    pageSize: number,
  ) {
    const titleId = uid('history-title');
    this.note = h('p', { class: 'muted' }, 'Every movement of your wallet, newest first');
    this.tbody = h('tbody');
    this.table = h(
      'table',
      { class: 'txn-table data-table', 'data-testid': 'history-table' },
      h('caption', { class: 'visually-hidden' }, 'Wallet history, newest first'),
      h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col', class: c === 'Change' || c === 'Balance after' ? 'num' : null }, c)))),
      this.tbody,
    );
    this.alert = h('div', { class: 'alert', role: 'alert', hidden: true, 'data-testid': 'history-error' });
    this.newPill = h(
      'button',
      { type: 'button', class: 'new-pill', hidden: true, 'data-testid': 'history-new', onclick: () => void this.pager.first() },
      'New movements · back to the newest',
    );
    this.pager = new CursorPager<HistoryPage>({
      noun: 'movements',
      testId: 'history',
      fetch: (cursor) => this.api.walletHistory(this.userId, { currency: this.currency, size: pageSize, cursor }),
      render: (page, live) => this.render(page, live),
      fail: (e) => {
        replace(
          this.alert,
          h('span', null, `Could not load the history. ${describeError(e)}`),
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => void this.pager.reload() }, 'Retry'),
        );
        this.alert.hidden = false;
        if (!this.loaded) this.message('The history is not available right now.');
      },
      busy: (on) => {
        this.el.classList.toggle('is-loading', on);
        if (on) this.table.setAttribute('aria-busy', 'true');
        else this.table.removeAttribute('aria-busy');
      },
    });
    this.el = h(
      'section',
      { class: 'card table-card', 'aria-labelledby': titleId, 'data-testid': 'history' },
      h('div', { class: 'card-header' }, h('div', null, h('h2', { id: titleId }, 'History'), this.note)),
      this.alert,
      this.newPill,
      h('div', { class: 'table-wrap' }, this.table),
      this.pager.el,
    );
    replace(
      this.tbody,
      h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' }, COLUMNS.map(() => h('td', null, h('span', { class: 'skeleton' })))),
    );
  }

  // The currency shown (null: the server's default). Answers whether it changed; the caller
  // then shows the newest page with first().
  setCurrency(currency: string | null): boolean {
    if (currency === this.currency) return false;
    this.currency = currency;
    this.note.textContent = currency
      ? `Every movement of your ${currency} wallet, newest first`
      : 'Every movement of your wallet, newest first';
    return true;
  }

  load(): Promise<void> {
    return this.pager.reload();
  }

  first(): Promise<void> {
    return this.pager.first();
  }

  // After a change: the newest page is reloaded when shown; elsewhere a pill offers to go back.
  async refreshLive(): Promise<void> {
    if (this.pager.onFirstPage) await this.pager.reload(true);
    else this.newPill.hidden = false;
  }

  private message(text: string, testId = 'history-empty'): void {
    replace(
      this.tbody,
      h('tr', { class: 'empty-row' }, h('td', { colspan: COLUMNS.length, 'data-testid': testId }, h('div', { class: 'empty' }, text))),
    );
  }

  private render(page: HistoryPage, live: boolean): void {
    this.alert.hidden = true;
    if (this.pager.onFirstPage) this.newPill.hidden = true;
    const highlight = live && this.loaded;
    this.loaded = true;
    if (page.items.length === 0) {
      this.shown = new Set();
      this.message(this.currency ? `No movements in ${this.currency} yet.` : 'No movements yet.');
      return;
    }
    const before = this.shown;
    this.shown = new Set(page.items.map((m) => m.txn_id));
    replace(this.tbody, page.items.map((m) => this.row(m, highlight && !before.has(m.txn_id))));
  }

  private detail(m: HistoryItem): string {
    switch (m.type) {
      case 'REFUND':
        return m.payment_id ? `Refund of ${m.payment_id}` : 'Refund';
      case 'PAY':
        return m.merchant_id ? `Payment to ${m.merchant_id}` : 'Payment';
      case 'TRANSFER':
        return m.user_id === this.userId ? `To ${m.to_user_id ?? '—'}` : `From ${m.user_id}`;
      case 'TOPUP':
        return 'Money in';
      default:
        return m.txn_id;
    }
  }

  private row(m: HistoryItem, isNew: boolean): HTMLTableRowElement {
    return h(
      'tr',
      { class: isNew ? 'row-new' : null, 'data-testid': 'history-row', 'data-txn-id': m.txn_id, 'data-type': m.type },
      h(
        'td',
        { class: 'col-time', 'data-label': 'Time' },
        h('time', { datetime: new Date(m.created_at * 1000).toISOString(), title: formatDateTime(m.created_at) }, formatShortDateTime(m.created_at)),
      ),
      h(
        'td',
        { class: 'col-type', 'data-label': 'Type' },
        h('span', { class: `badge badge-${m.type.toLowerCase()}`, title: m.txn_id }, typeLabel(m.type)),
      ),
      h(
        'td',
        { class: 'col-detail', 'data-label': 'Details', 'data-testid': 'history-detail' },
        h('span', null, this.detail(m), h('span', { class: 'party-id mono' }, m.txn_id)),
      ),
      h(
        'td',
        { class: 'num col-change', 'data-label': 'Change', 'data-testid': 'history-change', 'data-value': m.change_minor },
        h('span', { class: m.change_minor > 0 ? 'amount credit' : 'amount' }, formatMoney(m.change_minor, m.currency, true)),
      ),
      h(
        'td',
        { class: 'num col-balance', 'data-label': 'Balance after', 'data-testid': 'history-balance', 'data-value': m.balance_after_minor },
        formatMoney(m.balance_after_minor, m.currency),
      ),
    );
  }
}
