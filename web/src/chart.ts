// A line chart drawn as inline SVG, sized to its container (redrawn on resize), with a
// hover/touch tooltip and keyboard focus on points. No chart library.

import { h, svg, replace } from './dom';

export interface ChartPoint {
  x: number;
  y: number;
  title: string; // tooltip heading, e.g. the date
  detail?: string; // tooltip second line
}

export interface ChartOptions {
  ariaLabel: string;
  testId: string;
  formatY: (y: number) => string; // tooltip value
  formatYTick: (y: number) => string; // axis labels (compact)
  // 'points': one label per point (thinned to fit), from formatX; 'time': evenly spaced times.
  xAxis: 'points' | 'time';
  formatX: (x: number, span: number) => string; // span: the x range shown
  zeroBased: boolean;
  step?: boolean; // step-after line (balances change in steps)
  emptyText: string;
}

interface Scale {
  (v: number): number;
}

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const nice = residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1;
  return nice * magnitude;
}

function yDomain(points: ChartPoint[], zeroBased: boolean): { min: number; max: number; step: number } {
  let lo = Math.min(...points.map((p) => p.y));
  let hi = Math.max(...points.map((p) => p.y));
  if (zeroBased) lo = Math.min(0, lo);
  if (hi === lo) {
    hi = lo === 0 ? 1 : hi + Math.abs(hi) * 0.1;
    if (!zeroBased) lo = lo - Math.abs(lo) * 0.1;
  }
  const step = niceStep(hi - lo, 4);
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  return { min, max, step };
}

export class LineChart {
  readonly el: HTMLElement;
  private points: ChartPoint[] = [];
  private loaded = false;
  private readonly plot: HTMLDivElement;
  private readonly tooltip: HTMLDivElement;
  private readonly observer: ResizeObserver | null = null;
  private lastWidth = 0;
  private frame = 0;

  constructor(private readonly options: ChartOptions) {
    this.plot = h('div', { class: 'chart-plot' });
    this.tooltip = h('div', { class: 'chart-tooltip', role: 'status', 'aria-live': 'off', hidden: true });
    this.el = h('div', { class: 'chart', 'data-testid': options.testId }, this.plot, this.tooltip);
    if (typeof ResizeObserver !== 'undefined') {
      this.observer = new ResizeObserver(() => {
        const width = this.plot.clientWidth;
        if (width === this.lastWidth) return;
        cancelAnimationFrame(this.frame);
        this.frame = requestAnimationFrame(() => this.render());
      });
      this.observer.observe(this.plot);
    }
    this.renderLoading();
  }

  setData(points: ChartPoint[]): void {
    this.points = [...points].sort((a, b) => a.x - b.x);
    this.loaded = true;
    this.render();
  }

  destroy(): void {
    this.observer?.disconnect();
    cancelAnimationFrame(this.frame);
  }

  private renderLoading(): void {
    replace(this.plot, h('div', { class: 'chart-empty skeleton', 'aria-busy': 'true' }, 'Loading…'));
  }

  private render(): void {
    if (!this.loaded) return;
    const width = Math.max(240, this.plot.clientWidth || 640);
    this.lastWidth = this.plot.clientWidth;
    this.tooltip.hidden = true;
    const points = this.points;
    if (points.length === 0) {
      this.el.dataset.empty = 'true';
      replace(this.plot, h('div', { class: 'chart-empty' }, this.options.emptyText));
      return;
    }
    delete this.el.dataset.empty;
    const o = this.options;
    const height = width < 480 ? 200 : 260;
    const { min, max, step } = yDomain(points, o.zeroBased);
    const yTicks: number[] = [];
    for (let v = min; v <= max + step / 2; v += step) yTicks.push(v);
    const tickLabels = yTicks.map((v) => o.formatYTick(v));
    const left = Math.min(96, 12 + Math.max(...tickLabels.map((t) => t.length)) * 7);
    const margin = { top: 14, right: 16, bottom: 28, left };
    const innerW = width - margin.left - margin.right;
    const innerH = height - margin.top - margin.bottom;
    let x0 = points[0]!.x;
    let x1 = points[points.length - 1]!.x;
    if (x0 === x1) {
      x0 -= 1;
      x1 += 1;
    }
    const sx: Scale = (v) => margin.left + ((v - x0) / (x1 - x0)) * innerW;
    const sy: Scale = (v) => margin.top + innerH - ((v - min) / (max - min)) * innerH;

    // Line and area.
    let d = '';
    points.forEach((p, i) => {
      const x = sx(p.x).toFixed(1);
      const y = sy(p.y).toFixed(1);
      if (i === 0) d += `M${x},${y}`;
      else if (o.step) d += `H${x}V${y}`;
      else d += `L${x},${y}`;
    });
    const baseline = sy(Math.max(min, Math.min(0, max))).toFixed(1);
    const area = `${d}V${baseline}H${sx(points[0]!.x).toFixed(1)}Z`;
    const gradientId = `${o.testId}-fill`;

    const grid = yTicks.map((v, i) =>
      svg(
        'g',
        { class: 'chart-grid' },
        svg('line', { x1: margin.left, x2: width - margin.right, y1: sy(v), y2: sy(v) }),
        svg('text', { x: margin.left - 8, y: sy(v), dy: '0.32em', 'text-anchor': 'end' }, tickLabels[i]),
      ),
    );

    // X labels.
    const xLabels: { x: number; label: string }[] = [];
    if (o.xAxis === 'points') {
      const every = Math.max(1, Math.ceil((points.length * 64) / innerW));
      for (let i = points.length - 1; i >= 0; i -= every) {
        xLabels.push({ x: points[i]!.x, label: o.formatX(points[i]!.x, x1 - x0) });
      }
    } else {
      const count = Math.max(2, Math.min(5, Math.floor(innerW / 110)));
      for (let i = 0; i < count; i++) {
        const v = x0 + ((x1 - x0) * i) / (count - 1);
        const label = o.formatX(v, x1 - x0);
        if (xLabels[xLabels.length - 1]?.label !== label) xLabels.push({ x: v, label });
      }
    }
    const xAxis = xLabels.map(({ x, label }, i) => {
      const px = sx(x);
      const anchor =
        px < margin.left + 24 ? 'start' : px > width - margin.right - 24 ? 'end' : 'middle';
      return svg(
        'text',
        { class: 'chart-xlabel', x: px, y: height - 8, 'text-anchor': anchor, 'data-i': i },
        label,
      );
    });

    const showDots = points.length <= 40;
    const dots = showDots
      ? points.map((p) => svg('circle', { class: 'chart-dot', cx: sx(p.x), cy: sy(p.y), r: 3 }))
      : [];

    const guide = svg('line', {
      class: 'chart-guide',
      y1: margin.top,
      y2: margin.top + innerH,
      x1: 0,
      x2: 0,
      visibility: 'hidden',
    });
    const marker = svg('circle', { class: 'chart-marker', r: 5, cx: 0, cy: 0, visibility: 'hidden' });

    const chart = svg(
      'svg',
      {
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        role: 'img',
        'aria-label': o.ariaLabel,
        tabindex: 0,
      },
      svg(
        'defs',
        null,
        svg(
          'linearGradient',
          { id: gradientId, x1: 0, x2: 0, y1: 0, y2: 1 },
          svg('stop', { offset: '0%', style: 'stop-color: var(--accent); stop-opacity: 0.22' }),
          svg('stop', { offset: '100%', style: 'stop-color: var(--accent); stop-opacity: 0' }),
        ),
      ),
      grid,
      svg('path', { class: 'chart-area', d: area, fill: `url(#${gradientId})` }),
      svg('path', { class: 'chart-line', d }),
      dots,
      xAxis,
      guide,
      marker,
    );

    const show = (index: number) => {
      const p = points[index];
      if (!p) return;
      const px = sx(p.x);
      const py = sy(p.y);
      guide.setAttribute('x1', String(px));
      guide.setAttribute('x2', String(px));
      guide.setAttribute('visibility', 'visible');
      marker.setAttribute('cx', String(px));
      marker.setAttribute('cy', String(py));
      marker.setAttribute('visibility', 'visible');
      replace(
        this.tooltip,
        h('div', { class: 'chart-tooltip-title' }, p.title),
        h('div', { class: 'chart-tooltip-value' }, o.formatY(p.y)),
        p.detail ? h('div', { class: 'chart-tooltip-detail' }, p.detail) : null,
      );
      this.tooltip.hidden = false;
      const tipWidth = this.tooltip.offsetWidth;
      const leftPx = Math.min(Math.max(0, px - tipWidth / 2), width - tipWidth);
      this.tooltip.style.left = `${leftPx}px`;
      const tipHeight = this.tooltip.offsetHeight;
      // Above the point when there is room, else below it.
      const above = py - tipHeight - 12;
      this.tooltip.style.top = `${above >= 0 ? above : Math.min(py + 12, height - tipHeight)}px`;
    };
    const hide = () => {
      guide.setAttribute('visibility', 'hidden');
      marker.setAttribute('visibility', 'hidden');
      this.tooltip.hidden = true;
    };
    const nearest = (clientX: number): number => {
      const rect = chart.getBoundingClientRect();
      const x = ((clientX - rect.left) / rect.width) * width;
      let best = 0;
      let bestDistance = Infinity;
      points.forEach((p, i) => {
        const distance = Math.abs(sx(p.x) - x);
        if (distance < bestDistance) {
          best = i;
          bestDistance = distance;
        }
      });
      return best;
    };
    let focused = points.length - 1;
    chart.addEventListener('pointermove', (e) => show(nearest(e.clientX)));
    chart.addEventListener('pointerdown', (e) => show(nearest(e.clientX)));
    chart.addEventListener('pointerleave', hide);
    chart.addEventListener('focus', () => show(focused));
    chart.addEventListener('blur', hide);
    chart.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowLeft') focused = Math.max(0, focused - 1);
      else if (e.key === 'ArrowRight') focused = Math.min(points.length - 1, focused + 1);
      else return;
      e.preventDefault();
      show(focused);
    });
    replace(this.plot, chart);
  }
}
