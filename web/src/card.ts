// A figure card: a label, a big value and a line under it. `data-value` holds the raw number so
// tests and scripts need not parse formatted text.

import { h, replace } from './dom';
import { IconName, icon } from './icons';

export class StatCard {
  readonly el: HTMLElement;
  private readonly value: HTMLElement;
  private readonly sub: HTMLElement;

  constructor(label: string, testId: string, iconName: IconName, tone = '') {
    this.value = h('p', { class: 'stat-value', 'data-testid': `${testId}-value` });
    this.sub = h('p', { class: 'stat-sub' });
    this.el = h(
      'article',
      { class: `card stat-card ${tone}`.trim(), 'data-testid': testId, 'aria-busy': 'true' },
      h(
        'div',
        { class: 'stat-head' },
        h('h3', { class: 'stat-label' }, label),
        h('span', { class: 'stat-icon', 'aria-hidden': 'true' }, icon(iconName)),
      ),
      this.value,
      this.sub,
    );
    this.value.append(h('span', { class: 'skeleton skeleton-value' }));
  }

  set(text: string, raw: number | string, sub: string | Node = ''): void {
    const changed = this.el.dataset.value !== undefined && this.el.dataset.value !== String(raw);
    this.el.dataset.value = String(raw);
    this.el.removeAttribute('aria-busy');
    this.el.classList.remove('is-error');
    this.value.textContent = text;
    replace(this.sub, sub);
    if (changed) {
      // Restart the pulse animation.
      this.el.classList.remove('pulse');
      void this.el.offsetWidth;
      this.el.classList.add('pulse');
    }
  }

  setError(message: string): void {
    this.el.removeAttribute('aria-busy');
    this.el.classList.add('is-error');
    if (this.el.dataset.value === undefined) this.value.textContent = '—';
    replace(this.sub, h('span', { class: 'error-text' }, message));
  }
}
