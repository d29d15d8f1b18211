// The HTTP API (docs/api.md) as typed calls. Every failure becomes an ApiError, never an
// unhandled exception: status 0 for network failures and timeouts. A 401 also calls
// `onUnauthorized`, which sends the dashboard back to the login screen.

export interface MetricsToday {
  date: string;
  currency: string;
  dau: number;
  total_amount_minor: number;
  txn_count: number;
  top_merchants: { merchant_id: string; name?: string | null; amount_minor: number }[];
}

export interface DailyPoint {
  date: string;
  amount_minor: number;
  txn_count: number;
  dau: number;
}

export interface MetricsDaily {
  currency: string;
  days: DailyPoint[]; // oldest first
}

export interface Posting {
  account_id: string;
  direction: 'debit' | 'credit';
  amount_minor: number;
}

export interface Txn {
  txn_id: string;
  type: string;
  status: string;
  amount_minor: number;
  fee_minor: number;
  currency: string;
  user_id: string;
  user_name?: string | null;
  merchant_id: string | null;
  merchant_name?: string | null; // null when no merchant
  to_user_id: string | null;
  to_user_name?: string | null; // null when no recipient
  created_at: number; // Unix seconds
  postings: Posting[];
}

export interface TxnPage {
  items: Txn[];
  nextCursor: string | null;
}

export interface Balance {
  currency: string;
  balance_minor: number;
  available_minor: number;
  frozen_minor: number;
}

export interface Wallet {
  user_id: string;
  balances: Balance[];
}

export interface LoginAnswer {
  token: string;
  user_id: string;
  expires_at: number;
}

export interface TxnQuery {
  userId?: string;
  merchantId?: string;
  size?: number;
  cursor?: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }
}

const TIMEOUT_MS = 10_000;

async function send<T>(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: 'no-store',
    });
  } catch (e) {
    const timedOut = controller.signal.aborted;
    throw new ApiError(
      0,
      timedOut ? 'TIMEOUT' : 'NETWORK',
      timedOut ? 'The server did not answer in time.' : 'Cannot reach the server.',
    );
  } finally {
    clearTimeout(timer);
  }
  let data: unknown = null;
  const text = await response.text().catch(() => '');
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
    );
  }
  return data as T;
}

// Email + password → a user's bearer token.
export function login(email: string, password: string): Promise<LoginAnswer> {
  return send<LoginAnswer>('POST', '/v1/users/login', null, { email, password });
}

// What a pasted token is: 'admin' when it may read the platform's metrics and every user's
// transactions. Throws ApiError (401 for an unknown token, 403 for a user's or merchant's).
export async function probeAdminToken(token: string): Promise<void> {
  await send<MetricsToday>('GET', '/v1/metrics/today', token);
  // A merchant's key reads its own metrics too, but not another merchant's transactions.
  await send<TxnPage>('GET', '/v1/ledger/transactions?size=1&merchant_id=mch_999999999', token);
}

export class Api {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await send<T>(method, path, this.token, body);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.onUnauthorized();
      throw e;
    }
  }

  metricsToday(): Promise<MetricsToday> {
    return this.request('GET', '/v1/metrics/today');
  }

  metricsDaily(days: 7 | 30): Promise<MetricsDaily> {
    return this.request('GET', `/v1/metrics/daily?days=${days}`);
  }

  wallet(userId: string): Promise<Wallet> {
    return this.request('GET', `/v1/wallets/${encodeURIComponent(userId)}`);
  }

  transactions(q: TxnQuery): Promise<TxnPage> {
    const params = new URLSearchParams();
    if (q.userId) params.set('user_id', q.userId);
    if (q.merchantId) params.set('merchant_id', q.merchantId);
    if (q.size) params.set('size', String(q.size));
    if (q.cursor) params.set('cursor', q.cursor);
    const query = params.toString();
    return this.request('GET', `/v1/ledger/transactions${query ? `?${query}` : ''}`);
  }

  async logout(): Promise<void> {
    await send('POST', '/v1/users/logout', this.token).catch(() => undefined);
  }
}

// Human text for an error shown in the page.
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.isNetwork) return `${e.message} Check that bursar is running.`;
    if (e.status === 403) return 'You are not allowed to see this.';
    if (e.status === 503) return 'The server is busy or catching up. Retrying shortly.';
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
