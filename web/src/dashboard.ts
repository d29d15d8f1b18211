// The signed-in shell: header (who, live indicator, logout), the admin's, a merchant's or a
// user's view, and live updates (WebSocket, or polling when the socket cannot be opened).

import { Api } from './api';
import { AdminView } from './admin';
import { h } from './dom';
import { formatClock } from './format';
import { LiveState, LiveUpdates, coalesce } from './live';
import { MerchantView } from './merchant';
import type { Session } from './session';
import { UserView } from './user';
import type { View } from './view';

export interface DashboardHandlers {
  onLogout: () => void;
  onUnauthorized: () => void;
}

const REFRESH_DEBOUNCE_MS = 200;

const STATE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting',
  live: 'Live',
  polling: 'Polling',
  offline: 'Offline',
};

export function mountDashboard(root: HTMLElement, session: Session, handlers: DashboardHandlers): { destroy(): void } {
  let destroyed = false;
  const api = new Api(session.token, () => {
    if (!destroyed) handlers.onUnauthorized();
  });
  const view: View =
    session.role === 'admin'
      ? new AdminView(api)
      : session.role === 'merchant'
        ? new MerchantView(api, session.merchantId!, session.merchantName ?? '')
        : new UserView(api, session.userId!, session.email ?? session.userId!);

  const indicatorText = h('span', { class: 'live-text' }, STATE_TEXT.connecting);
  const updated = h('span', { class: 'live-updated' });
  const indicator = h(
    'div',
    {
      class: 'live',
      role: 'status',
      'aria-live': 'polite',
      'data-testid': 'live-indicator',
      'data-state': 'connecting',
      title: 'Connecting to the live stream…',
    },
    h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
    indicatorText,
    updated,
  );
  const markUpdated = () => {
    updated.textContent = ` · ${formatClock(new Date())}`;
  };

  const logout = h(
    'button',
    { type: 'button', class: 'btn btn-ghost', 'data-testid': 'logout', 'aria-label': 'Log out' },
    'Log out',
  );
  logout.addEventListener('click', () => {
    logout.disabled = true;
    if (session.role === 'user') void api.logout();
    handlers.onLogout();
  });

  const who =
    session.role === 'admin'
      ? h('span', { class: 'who' }, h('span', { class: 'role-badge' }, 'Admin'), h('span', { class: 'who-name' }, 'Platform'))
      : session.role === 'merchant'
        ? h(
            'span',
            { class: 'who' },
            h('span', { class: 'role-badge role-merchant' }, 'Merchant'),
            h('span', { class: 'who-name' }, session.merchantName ? `${session.merchantName} · ${session.merchantId}` : session.merchantId ?? ''),
          )
        : h('span', { class: 'who' }, h('span', { class: 'role-badge role-user' }, 'User'), h('span', { class: 'who-name' }, session.email ?? session.userId ?? ''));

  const header = h(
    'header',
    { class: 'topbar' },
    h(
      'div',
      { class: 'topbar-inner' },
      h('a', { class: 'brand', href: '/', 'aria-label': 'Bursar dashboard home' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, 'B'), h('span', null, 'Bursar')),
      who,
      h('div', { class: 'topbar-right' }, indicator, logout),
    ),
  );
  const banner = h(
    'div',
    { class: 'offline-banner', role: 'alert', hidden: true, 'data-testid': 'offline-banner' },
    'Cannot reach the server. The figures below may be out of date; retrying every 2 s.',
  );
  const main = h('main', { class: 'container', id: 'main' }, view.el);
  root.replaceChildren(header, banner, main);
  document.title = `${view.title} · Bursar`;

  const refresh = coalesce(async () => {
    if (destroyed) return;
    await view.refresh();
    markUpdated();
  }, REFRESH_DEBOUNCE_MS);

  let lastSignal: string | null = null;
  const live = new LiveUpdates({
    token: session.token,
    onEvent: (event) => {
      if (view.wants(event)) refresh.trigger();
    },
    onResync: () => refresh.trigger(),
    poll: async () => {
      const signal = await view.signal();
      if (signal === lastSignal) return false;
      const first = lastSignal === null;
      lastSignal = signal;
      if (!first) {
        await view.refresh();
        markUpdated();
      }
      return true;
    },
    onState: (state, detail) => {
      indicator.dataset.state = state;
      indicator.title = detail;
      indicatorText.textContent = STATE_TEXT[state];
      indicator.setAttribute('aria-label', detail);
      banner.hidden = state !== 'offline';
    },
  });

  void view.load().then(markUpdated);
  live.start();

  return {
    destroy() {
      destroyed = true;
      refresh.cancel();
      live.stop();
      view.destroy();
    },
  };
}
