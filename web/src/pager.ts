// Keyset pagination for a list that runs newest first: a stack of cursors (Older pushes the
// page's nextCursor, Newer pops), the two buttons and the page number. The owner fetches and
// renders; an answer that arrives after a later request is dropped.

import { ApiError } from './api';
import { h } from './dom';

export interface CursorPagerOptions<P extends { nextCursor: string | null }> {
  noun: string; // "payments": the buttons' accessible names say which way they go
  testId: string; // "payments": payments-newer, payments-older, payments-page-info
  fetch: (cursor: string | null) => Promise<P>;
  // `live`: a refresh of the page shown after a change, not a move.
  render: (page: P, live: boolean) => void;
  fail: (error: unknown) => void;
  busy?: (on: boolean) => void;
}

export class CursorPager<P extends { nextCursor: string | null }> {
  readonly el: HTMLElement;
  private cursors: (string | null)[] = [null];
  private nextCursor: string | null = null;
  private seq = 0;
  private readonly info: HTMLElement;
  private readonly newer: HTMLButtonElement;
  private readonly older: HTMLButtonElement;

  constructor(private readonly options: CursorPagerOptions<P>) {
    this.info = h('span', { class: 'page-info', 'aria-live': 'polite', 'data-testid': `${options.testId}-page-info` });
    this.newer = h(
      'button',
      {
        type: 'button',
        class: 'btn',
        'aria-label': `Newer ${options.noun}`,
        'data-testid': `${options.testId}-newer`,
        disabled: true,
        onclick: () => void this.show(this.cursors.slice(0, -1), false),
      },
      '‹ Newer',
    );
    this.older = h(
      'button',
      {
        type: 'button',
        class: 'btn',
        'aria-label': `Older ${options.noun}`,
        'data-testid': `${options.testId}-older`,
        disabled: true,
        onclick: () => {
          if (this.nextCursor) void this.show([...this.cursors, this.nextCursor], false);
        },
      },
      'Older ›',
    );
    this.el = h('div', { class: 'pager' }, this.info, h('div', { class: 'pager-buttons' }, this.newer, this.older));
  }

  get onFirstPage(): boolean {
    return this.cursors.length === 1;
  }

  // The page shown, again (`live`: after a change, without the loading look).
  reload(live = false): Promise<void> {
    return this.show(this.cursors, live);
  }

  first(): Promise<void> {
    return this.show([null], false);
  }

  private async show(cursors: (string | null)[], live: boolean): Promise<void> {
    if (cursors.length === 0) return;
    const seq = ++this.seq;
    if (!live) {
      this.options.busy?.(true);
      this.newer.disabled = true;
      this.older.disabled = true;
    }
    try {
      const page = await this.options.fetch(cursors[cursors.length - 1] ?? null);
      if (seq !== this.seq) return;
      this.cursors = cursors;
      this.nextCursor = page.nextCursor;
      this.options.render(page, live);
    } catch (e) {
      if (seq !== this.seq) return;
      if (e instanceof ApiError && e.status === 401) return; // back to login
      this.options.fail(e);
    } finally {
      if (seq === this.seq) {
        this.options.busy?.(false);
        this.newer.disabled = this.cursors.length <= 1;
        this.older.disabled = !this.nextCursor;
        this.info.textContent = `Page ${this.cursors.length}`;
      }
    }
  }
}
