// The signed-in session, kept in sessionStorage: it lasts as long as the tab and is not shared
// with other tabs or left behind when the browser closes.

export type Role = 'admin' | 'user' | 'merchant';

export interface Session {
  token: string; // a user's session token, the admin token or a merchant's API key
  role: Role;
  userId?: string; // role 'user'
  email?: string; // role 'user'
  expiresAt?: number; // Unix seconds, role 'user'
  merchantId?: string; // role 'merchant'
  merchantName?: string; // role 'merchant'
}

const KEY = 'bursar.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || !s.token) return null;
    if (s.role !== 'admin' && s.role !== 'user' && s.role !== 'merchant') return null;
    if (s.role === 'user' && typeof s.userId !== 'string') return null;
    if (s.role === 'merchant' && typeof s.merchantId !== 'string') return null;
    if (s.expiresAt && s.expiresAt * 1000 < Date.now()) return null;
    return s as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // Storage may be disabled (private modes): the session then lasts until reload.
  }
}

export function clearSession(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // see saveSession
  }
}
