// Entry point: the login screen or the dashboard, depending on the session in sessionStorage.

import './styles.css';
import { mountDashboard } from './dashboard';
import { mountLogin } from './login';
import { Session, clearSession, loadSession, saveSession } from './session';

const root = document.getElementById('app')!;
let current: { destroy(): void } | null = null;

function showLogin(message?: string): void {
  current?.destroy();
  current = mountLogin(root, {
    message,
    onLoggedIn: (session) => {
      saveSession(session);
      showDashboard(session);
    },
  });
}

function showDashboard(session: Session): void {
  current?.destroy();
  current = mountDashboard(root, session, {
    onLogout: () => {
      clearSession();
      showLogin();
    },
    onUnauthorized: () => {
      clearSession();
      showLogin('Your session has ended. Please sign in again.');
    },
  });
}

const session = loadSession();
if (session) showDashboard(session);
else showLogin();
