// The login screen: a user's email and password, the admin token pasted, or a merchant's API key.

import { ApiError, describeError, login, probeAdminToken, probeMerchantKey } from './api';
import { h, uid } from './dom';
import type { Session } from './session';

export interface LoginHandlers {
  onLoggedIn: (session: Session) => void;
  message?: string;
}

export function mountLogin(root: HTMLElement, handlers: LoginHandlers): { destroy(): void } {
  document.title = 'Sign in · Bursar';
  const error = h('div', { class: 'alert', role: 'alert', 'data-testid': 'login-error', hidden: !handlers.message });
  if (handlers.message) error.textContent = handlers.message;
  const showError = (text: string) => {
    error.textContent = text;
    error.hidden = false;
  };

  // Email + password.
  const emailId = uid('email');
  const passwordId = uid('password');
  const email = h('input', { id: emailId, name: 'email', type: 'email', autocomplete: 'username', required: true, 'data-testid': 'login-email' });
  const password = h('input', {
    id: passwordId,
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'login-password',
  });
  const emailSubmit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'login-submit' }, 'Sign in');
  const emailForm = h(
    'form',
    { class: 'login-form', 'aria-label': 'Sign in with email', 'data-testid': 'login-form' },
    h('div', { class: 'field' }, h('label', { for: emailId }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: passwordId }, 'Password'), password),
    emailSubmit,
  );
  emailForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!email.value.trim() || !password.value) {
      showError('Enter your email and password.');
      return;
    }
    emailSubmit.disabled = true;
    emailSubmit.textContent = 'Signing in…';
    try {
      const answer = await login(email.value.trim(), password.value);
      handlers.onLoggedIn({
        token: answer.token,
        role: 'user',
        userId: answer.user_id,
        email: email.value.trim(),
        expiresAt: answer.expires_at,
      });
    } catch (err) {
      showError(
        err instanceof ApiError && (err.status === 401 || err.status === 400)
          ? 'Wrong email or password.'
          : describeError(err),
      );
      emailSubmit.disabled = false;
      emailSubmit.textContent = 'Sign in';
    }
  });

  // Admin token.
  const tokenId = uid('token');
  const tokenHelp = uid('token-help');
  const token = h('input', {
    id: tokenId,
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': tokenHelp,
    'data-testid': 'login-token',
  });
  const tokenSubmit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'login-token-submit' }, 'Open the platform view');
  const tokenForm = h(
    'form',
    { class: 'login-form', 'aria-label': 'Sign in with the admin token', 'data-testid': 'token-form' },
    h('div', { class: 'field' }, h('label', { for: tokenId }, 'Admin token'), token),
    h(
      'p',
      { id: tokenHelp, class: 'help' },
      'bursar serve prints it on its first start and keeps it in ',
      h('code', null, '<data dir>/admin-token'),
      '.',
    ),
    tokenSubmit,
  );
  tokenForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = token.value.trim();
    if (!value) {
      showError('Paste the admin token.');
      return;
    }
    tokenSubmit.disabled = true;
    tokenSubmit.textContent = 'Checking…';
    try {
      await probeAdminToken(value);
      handlers.onLoggedIn({ token: value, role: 'admin' });
    } catch (err) {
      let text = describeError(err);
      if (err instanceof ApiError && err.status === 401) text = 'This token is not valid.';
      if (err instanceof ApiError && err.status === 403) {
        text = 'This is not the admin token. Users sign in with their email, merchants with their API key.';
      }
      showError(text);
      tokenSubmit.disabled = false;
      tokenSubmit.textContent = 'Open the platform view';
    }
  });

  // Merchant API key.
  const keyId = uid('key');
  const keyHelp = uid('key-help');
  const key = h('input', {
    id: keyId,
    name: 'api_key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': keyHelp,
    'data-testid': 'login-key',
  });
  const keyLabel = 'Open the merchant view';
  const keySubmit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'login-key-submit' }, keyLabel);
  const keyForm = h(
    'form',
    { class: 'login-form', 'aria-label': 'Sign in with a merchant API key', 'data-testid': 'key-form' },
    h('div', { class: 'field' }, h('label', { for: keyId }, 'Merchant API key'), key),
    h('p', { id: keyHelp, class: 'help' }, 'The secret key ', h('code', null, 'sk_…'), ' given once when the merchant was created.'),
    keySubmit,
  );
  keyForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = key.value.trim();
    if (!value) {
      showError('Paste the merchant API key.');
      return;
    }
    keySubmit.disabled = true;
    keySubmit.textContent = 'Checking…';
    try {
      const merchant = await probeMerchantKey(value);
      handlers.onLoggedIn({ token: value, role: 'merchant', merchantId: merchant.merchant_id, merchantName: merchant.name });
    } catch (err) {
      let text = describeError(err);
      if (err instanceof ApiError && err.status === 401) text = 'This API key is not valid.';
      if (err instanceof ApiError && (err.status === 403 || err.status === 404)) {
        text = 'This is not a merchant API key. The admin uses the admin token, users their email.';
      }
      showError(text);
      keySubmit.disabled = false;
      keySubmit.textContent = keyLabel;
    }
  });

  // Tabs.
  type Panel = 'email' | 'token' | 'key';
  const order: Panel[] = ['email', 'token', 'key'];
  const labels: Record<Panel, string> = { email: 'Email', token: 'Admin token', key: 'Merchant API key' };
  const forms: Record<Panel, HTMLFormElement> = { email: emailForm, token: tokenForm, key: keyForm };
  const tabs = order.map((k) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${k}`,
        class: 'tab',
        'aria-controls': `panel-${k}`,
        'aria-selected': k === 'email' ? 'true' : 'false',
        tabindex: k === 'email' ? 0 : -1,
        'data-testid': `tab-${k}`,
      },
      labels[k],
    ),
  );
  const select = (k: Panel, focus: boolean) => {
    tabs.forEach((tab) => {
      const on = tab.id === `tab-${k}`;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
    });
    for (const p of order) forms[p].parentElement!.hidden = p !== k;
    error.hidden = true;
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(order[i]!, false));
    tab.addEventListener('keydown', (e) => {
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (e.key === 'Home' || e.key === 'End' || step) {
        e.preventDefault();
        const next = e.key === 'Home' ? 0 : e.key === 'End' ? order.length - 1 : (i + step + order.length) % order.length;
        select(order[next]!, true);
      }
    });
  });

  const screen = h(
    'main',
    { class: 'login-screen' },
    h(
      'div',
      { class: 'login-card card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'logo logo-lg', 'aria-hidden': 'true' }, 'B'), h('div', null, h('h1', null, 'Bursar'), h('p', { class: 'muted' }, 'Payments dashboard'))),
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'How to sign in' }, tabs),
      error,
      h('div', { role: 'tabpanel', id: 'panel-email', 'aria-labelledby': 'tab-email' }, emailForm),
      h('div', { role: 'tabpanel', id: 'panel-token', 'aria-labelledby': 'tab-token', hidden: true }, tokenForm),
      h('div', { role: 'tabpanel', id: 'panel-key', 'aria-labelledby': 'tab-key', hidden: true }, keyForm),
    ),
    h('p', { class: 'login-foot muted' }, 'Your session stays in this tab only.'),
  );
  root.replaceChildren(screen);
  email.focus();
  return { destroy() {} };
}
