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
  payment_id?: string; // REFUND only: the payment refunded
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

export interface TierLimits {
  daily: number; // major units of the merchant's currency
  monthly: number;
  single_payment: number;
}

export interface TierChangeRecord {
  at: number;
  from: string;
  to: string;
  reason: string;
  actor: string;
}

export interface MerchantDetail {
  merchant_id: string;
  name: string;
  tier: string;
  currency?: string | null; // the merchant's own; null for one created before merchants had one
  fee_rate_basis_points: number;
  limits: TierLimits;
  usage?: { currency: string; daily_used_minor: number; monthly_used_minor: number };
  created_at: number;
  tier_history: TierChangeRecord[];
}

// One limit window in minor units of a currency (docs/api.md "Limits").
export interface LimitWindow {
  window: 'single' | 'daily' | 'monthly';
  limit_minor: number;
  used_minor: number; // always 0 for single
  remaining_minor: number;
}

export interface MerchantLimits {
  merchant_id: string;
  currency: string;
  limits: LimitWindow[]; // single, daily, monthly
  overrides: { single_payment: number | null; daily: number | null; monthly: number | null };
}

export interface UserLimits {
  user_id: string;
  currency: string;
  limits: LimitWindow[]; // single, daily
  overrides: { single_payment: number | null; daily: number | null };
}

export type PreauthStatus = 'authorized' | 'partially_captured' | 'captured' | 'cancelled' | 'expired';

export const PREAUTH_STATUSES: PreauthStatus[] = ['authorized', 'partially_captured', 'captured', 'cancelled', 'expired'];

// A pre-authorization (docs/api.md "Pre-authorizations"): an amount of a wallet reserved for a
// merchant, which captures it in parts or lets it go.
export interface Preauth {
  preauth_id: string;
  status: PreauthStatus;
  user_id: string;
  merchant_id: string;
  amount_minor: number;
  captured_minor: number;
  released_minor: number;
  remaining_minor: number; // 0 once closed
  currency: string;
  reference: string | null;
  created_at: number;
  expires_at: number;
  closed_at: number | null;
  captures: string[]; // the capture payments' txn ids, oldest first
}

export interface PreauthPage {
  items: Preauth[];
  nextCursor: string | null;
}

export interface PreauthQuery {
  status?: PreauthStatus | null;
  userId?: string;
  merchantId?: string;
  size?: number;
  cursor?: string | null;
}

// A capture's answer: the pre-authorization after it and the payment it made.
export interface PreauthCapture {
  preauth: Preauth;
  capture: { txn_id: string; amount_minor: number; fee_minor: number; net_minor: number; currency: string; created_at: number };
}

// What a capture asks for: all that is left when `amountMinor` is absent; `final` releases the rest.
export interface CaptureRequest {
  amountMinor?: bigint;
  final?: boolean;
}

export const isOpenPreauth = (p: Preauth): boolean => p.status === 'authorized' || p.status === 'partially_captured';

export interface TierRecommendation {
  merchant_id: string;
  currency: string;
  days: number;
  current: string;
  action: 'none' | 'upgrade' | 'downgrade';
  recommended: string;
  peak_day_minor: number;
  month_minor: number;
  peak_day_percent: number;
  month_percent: number;
  fee_saved_minor: number; // negative: the recommended tier would have cost more
  reason: string;
}

export interface Tier {
  name: string;
  daily_limit: number; // major units
  monthly_limit: number;
  single_payment_limit: number;
  fee_rate_basis_points: number;
  settlement_cycle: string;
  multi_currency: boolean;
  pre_authorization: boolean;
  api_requests_per_minute: number;
  support_response_hours: number;
  refund_fee_policy?: string; // proportional, none
}

export interface TierChanged {
  merchant_id: string;
  tier: string;
  changed_at: number;
}

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

export interface Refund {
  refund_id: string;
  payment_id: string;
  status: string;
  amount_minor: number;
  fee_returned_minor: number;
  net_minor: number;
  currency: string;
  reason: RefundReason | null;
  user_id: string;
  merchant_id: string;
  created_at: number;
}

export interface Payment {
  txn_id: string;
  status: string;
  amount_minor: number;
  fee_minor: number;
  net_minor: number;
  currency: string;
  user_id: string;
  merchant_id: string;
  created_at: number;
  amount_refunded_minor: number;
  refunds: Refund[]; // oldest first
}

export interface PaymentList {
  items: Payment[];
  not_found: string[];
}

// What a refund asks for: all that is left when `amountMinor` is absent.
export interface RefundRequest {
  amountMinor?: bigint;
  reason?: RefundReason;
}

export interface HistoryItem {
  txn_id: string;
  type: string;
  amount_minor: number;
  fee_minor: number;
  currency: string;
  change_minor: number; // signed: what the movement did to the wallet
  balance_after_minor: number;
  user_id: string;
  merchant_id: string | null;
  to_user_id: string | null;
  payment_id?: string; // REFUND only
  created_at: number;
}

export interface HistoryPage {
  items: HistoryItem[];
  nextCursor: string | null;
}

export interface HistoryQuery {
  currency?: string | null;
  size?: number;
  cursor?: string | null;
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
    readonly param: string | null = null, // the field or header at fault
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }
}

const TIMEOUT_MS = 10_000;

// The Idempotency-Key of a write whose outcome may be unknown. The same request again (a retry
// after a network failure, a timeout, a 5xx or a key still in use) reuses the key, so it cannot
// happen twice; another request, a success or any other answer ends it.
export class RetryKey {
  private pending: { fingerprint: string; key: string } | null = null;

  // The key for the request `fingerprint` names (its target and parameters).
  for(fingerprint: string): string {
    if (!this.pending || this.pending.fingerprint !== fingerprint) {
      this.pending = { fingerprint, key: newIdempotencyKey() };
    }
    return this.pending.key;
  }

  // After the answer: `error` undefined for a success.
  settle(error?: unknown): void {
    const unknown =
      error !== undefined &&
      (!(error instanceof ApiError) || error.status === 0 || error.status >= 500 || error.code === 'IDEMPOTENCY_KEY_IN_USE');
    if (!unknown) this.pending = null;
  }
}

// JSON text of `value`; a bigint is written as a bare number, with all its digits (amounts of
// currencies with many minor digits go beyond 2^53).
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `\u0000big:${v}` : v)).replace(
    /"\\u0000big:(-?\d+)"/g,
    '$1',
  );
}

// A fresh Idempotency-Key: a random UUID (v4). crypto.randomUUID needs a secure context
// (https or localhost); getRandomValues works everywhere.
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function send<T>(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...extraHeaders };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : toJson(body),
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
    const error = (data as { error?: { code?: string; message?: string; param?: string | null } } | null)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
      error?.param ?? null,
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

// The merchant a pasted API key belongs to. Throws ApiError: 401 for an unknown key, 404 for a
// token that is not a merchant's (the admin's, a user's).
export function probeMerchantKey(key: string): Promise<MerchantDetail> {
  return send<MerchantDetail>('GET', '/v1/merchants/me', key);
}

// GET /v1/payments?ids= takes at most this many ids (kPaymentIdsMax).
export const PAYMENT_IDS_MAX = 100;

export class Api {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    try {
      return await send<T>(method, path, this.token, body, headers);
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

  walletHistory(userId: string, q: HistoryQuery): Promise<HistoryPage> {
    const params = new URLSearchParams();
    if (q.currency) params.set('currency', q.currency);
    if (q.size) params.set('size', String(q.size));
    if (q.cursor) params.set('cursor', q.cursor);
    const query = params.toString();
    return this.request('GET', `/v1/wallets/${encodeURIComponent(userId)}/history${query ? `?${query}` : ''}`);
  }

  merchant(merchantId: string): Promise<MerchantDetail> {
    return this.request('GET', `/v1/merchants/${encodeURIComponent(merchantId)}`);
  }

  tierRecommendation(merchantId: string): Promise<TierRecommendation> {
    return this.request('GET', `/v1/merchants/${encodeURIComponent(merchantId)}/tier-recommendation`);
  }

  async tiers(): Promise<Tier[]> {
    const answer = await this.request<{ tiers: Tier[] }>('GET', '/v1/tiers');
    return answer.tiers ?? [];
  }

  setTier(merchantId: string, tier: string, reason: string): Promise<TierChanged> {
    return this.request('PUT', `/v1/merchants/${encodeURIComponent(merchantId)}/tier`, { tier, reason });
  }

  // Up to PAYMENT_IDS_MAX payments with their refunds, in one request per 100 ids.
  async payments(ids: string[]): Promise<Payment[]> {
    const items: Payment[] = [];
    for (let i = 0; i < ids.length; i += PAYMENT_IDS_MAX) {
      const chunk = ids.slice(i, i + PAYMENT_IDS_MAX);
      const list = await this.request<PaymentList>('GET', `/v1/payments?ids=${chunk.map(encodeURIComponent).join(',')}`);
      items.push(...(list.items ?? []));
    }
    return items;
  }

  // `idempotencyKey` makes a retry (or a double click) refund once.
  refund(paymentId: string, request: RefundRequest, idempotencyKey: string): Promise<Refund> {
    const body: Record<string, unknown> = {};
    if (request.amountMinor !== undefined) body.amount_minor = request.amountMinor;
    if (request.reason) body.reason = request.reason;
    return this.request('POST', `/v1/payments/${encodeURIComponent(paymentId)}/refunds`, body, {
      'Idempotency-Key': idempotencyKey,
    });
  }

  merchantLimits(merchantId: string, currency?: string | null): Promise<MerchantLimits> {
    const query = currency ? `?currency=${encodeURIComponent(currency)}` : '';
    return this.request('GET', `/v1/merchants/${encodeURIComponent(merchantId)}/limits${query}`);
  }

  userLimits(userId: string, currency?: string | null): Promise<UserLimits> {
    const query = currency ? `?currency=${encodeURIComponent(currency)}` : '';
    return this.request('GET', `/v1/users/${encodeURIComponent(userId)}/limits${query}`);
  }

  // A merchant's key lists its own, a user's token theirs, newest first.
  preauths(q: PreauthQuery): Promise<PreauthPage> {
    const params = new URLSearchParams();
    if (q.status) params.set('status', q.status);
    if (q.userId) params.set('user_id', q.userId);
    if (q.merchantId) params.set('merchant_id', q.merchantId);
    if (q.size) params.set('size', String(q.size));
    if (q.cursor) params.set('cursor', q.cursor);
    const query = params.toString();
    return this.request('GET', `/v1/preauths${query ? `?${query}` : ''}`);
  }

  // `{}` captures all that is left; `idempotencyKey` makes a retry (or a double click) capture once.
  capturePreauth(preauthId: string, request: CaptureRequest, idempotencyKey: string): Promise<PreauthCapture> {
    const body: Record<string, unknown> = {};
    if (request.amountMinor !== undefined) {
      body.amount_minor = request.amountMinor;
      body.final = request.final === true;
    } else if (request.final) {
      body.final = true;
    }
    return this.request('POST', `/v1/preauths/${encodeURIComponent(preauthId)}/capture`, body, {
      'Idempotency-Key': idempotencyKey,
    });
  }

  cancelPreauth(preauthId: string, idempotencyKey: string): Promise<Preauth> {
    return this.request('POST', `/v1/preauths/${encodeURIComponent(preauthId)}/cancel`, {}, {
      'Idempotency-Key': idempotencyKey,
    });
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
