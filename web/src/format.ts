// Number, money and date formatting in the browser's locale. Amounts arrive as integers in minor
// units; the currency's exponent (number of minor-unit digits) turns them into major units:
// JPY 0, USD 2, BTC 8. The table mirrors src/ledger/currency.cc.

const EXPONENTS: Record<string, number> = {
  JPY: 0,
  USD: 2,
  EUR: 2,
  GBP: 2,
  CNY: 2,
  KRW: 0,
  SGD: 2,
  CHF: 2,
  HKD: 2,
  BHD: 3,
  BTC: 8,
  ETH: 18,
  USDC: 6,
  USDT: 6,
};

export function exponentOf(currency: string): number {
  const known = EXPONENTS[currency];
  if (known !== undefined) return known;
  try {
    // An ISO 4217 code the server may add later: the locale data knows its digits.
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

// Exact decimal text of `minor` / 10^exp ("-12.34"), without going through floating point.
export function minorToDecimal(minor: number | bigint, exp: number): string {
  let digits: string;
  if (typeof minor === 'bigint') digits = minor.toString();
  else if (Number.isSafeInteger(minor)) digits = BigInt(minor).toString();
  else digits = BigInt(Math.trunc(minor)).toString(); // beyond 2^53 JSON already lost digits
  const negative = digits.startsWith('-');
  if (negative) digits = digits.slice(1);
  if (exp <= 0) return (negative ? '-' : '') + digits;
  digits = digits.padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp);
  const fraction = digits.slice(digits.length - exp);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

interface MoneyFormatter {
  format(decimal: string): string;
}

const moneyFormatters = new Map<string, MoneyFormatter>();

function moneyFormatter(currency: string, signed: boolean): MoneyFormatter {
  const key = `${currency}|${signed}`;
  const cached = moneyFormatters.get(key);
  if (cached) return cached;
  const exp = exponentOf(currency);
  const common: Intl.NumberFormatOptions = {
    minimumFractionDigits: exp,
    maximumFractionDigits: exp,
    signDisplay: signed ? 'exceptZero' : 'auto',
  };
  let formatter: MoneyFormatter;
  try {
    const nf = new Intl.NumberFormat(undefined, { ...common, style: 'currency', currency });
    // Intl formats a decimal string exactly (no float rounding) where supported.
    formatter = { format: (d) => nf.format(d as unknown as number) };
  } catch {
    // Codes Intl does not accept (USDC, USDT): a number followed by the code.
    const nf = new Intl.NumberFormat(undefined, common);
    formatter = { format: (d) => `${nf.format(d as unknown as number)} ${currency}` };
  }
  moneyFormatters.set(key, formatter);
  return formatter;
}

// "¥12,345", "$123.45", "BTC 0.00012345"; `signed` adds "+" to positive amounts.
export function formatMoney(minor: number | bigint, currency: string, signed = false): string {
  return moneyFormatter(currency, signed).format(minorToDecimal(minor, exponentOf(currency)));
}

// Short money for chart axes: "¥1.2M", "$12K".
export function formatMoneyCompact(minor: number, currency: string): string {
  const major = minor / 10 ** exponentOf(currency);
  try {
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency,
      notation: 'compact',
      maximumFractionDigits: 1,
    }).format(major);
  } catch {
    const nf = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
    return `${nf.format(major)} ${currency}`;
  }
}

const countFormat = new Intl.NumberFormat();
export function formatCount(n: number): string {
  return countFormat.format(n);
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
});
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const shortDateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

// A Unix time in seconds, in the browser's locale and time zone.
export function formatDateTime(unixSeconds: number): string {
  return dateTimeFormat.format(new Date(unixSeconds * 1000));
}

export function formatShortDateTime(unixSeconds: number): string {
  return shortDateTimeFormat.format(new Date(unixSeconds * 1000));
}

// An axis label for a time, as precise as the range shown needs.
export function formatAxisTime(unixSeconds: number, spanSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  if (spanSeconds < 180) {
    return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  if (spanSeconds < 2 * 86400) return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function formatClock(date: Date): string {
  return timeFormat.format(date);
}

// "2026-11-25" (a calendar day of the server's metrics) as a local date label; the day is the
// server's, so it is not shifted into the browser's zone.
export function formatDay(day: string, style: 'short' | 'long' = 'short'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Intl.DateTimeFormat(
    undefined,
    style === 'short'
      ? { month: 'short', day: 'numeric' }
      : { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' },
  ).format(date);
}

// Accepts "12" or "usr_12" and answers "usr_12"; null when it is not an id.
export function normalizeId(input: string, prefix: 'usr_' | 'mch_'): string | null {
  const text = input.trim();
  if (!text) return '';
  const m = new RegExp(`^(?:${prefix})?([1-9][0-9]{0,18})$`, 'i').exec(text);
  return m ? `${prefix}${m[1]}` : null;
}

// "12.34" in a currency with `exp` minor digits → 1234n, exactly; null when the text is not a
// plain non-negative amount with at most `exp` decimals (grouping spaces and commas allowed).
export function decimalToMinor(text: string, exp: number): bigint | null {
  const clean = text.trim().replace(/[\s,_]/g, '');
  const m = /^(\d*)(?:\.(\d*))?$/.exec(clean);
  if (!m || (!m[1] && !m[2])) return null;
  const fraction = m[2] ?? '';
  if (fraction.length > exp) return null;
  return BigInt((m[1] || '0') + fraction.padEnd(exp, '0'));
}

// Whole major units ("100000" of the tier limits) as money: "¥100,000", "$500,000".
export function formatMajor(major: number, currency: string): string {
  return formatMoney(BigInt(Math.trunc(major)) * 10n ** BigInt(exponentOf(currency)), currency);
}

// Basis points as a percentage: 80 → "0.8 %", 45 → "0.45 %".
export function formatBasisPoints(bps: number): string {
  return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(bps / 100)} %`;
}

// A tier's name as a label: "business" → "Business".
export function tierLabel(tier: string): string {
  return tier ? tier.charAt(0).toUpperCase() + tier.slice(1) : tier;
}
