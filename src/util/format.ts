/**
 * Number and text formatting shared by the experiments, the CLI and the progress bar: percentages,
 * plurals, durations, significant digits, CSV. Pure functions of their arguments; nothing here
 * touches files or the process, so the core (the eqs. 4–9 analysis) and a browser page may use it.
 */

/** A fraction as a percentage with two decimals: 0.4012 → '40.12%'; null → '-'. */
export function percent(v: number | null): string {
  return v === null ? '-' : `${(100 * v).toFixed(2)}%`;
}

/** A relative error as a signed percentage: 0.0123 → '+1.23%', −0.25 → '-25.0%' (two decimals below 10%). */
export function signedPercent(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return `${v >= 0 ? '+' : '-'}${Math.abs(100 * v).toFixed(Math.abs(v) < 0.1 ? 2 : 1)}%`;
}

/** "1 epoch", "3 epochs". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** 4 significant digits; exponent form outside [1e-3, 1e5): 1234.5678 → '1235', 1e-7 → '1.00e-7'. */
export function formatSignificant(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(2) : String(+v.toPrecision(4));
}

/** A rate or a loss for a progress line: no decimals from 100, two from 1, else 3 significant digits. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** A duration as m:ss or h:mm:ss (rounded to the second); '--:--' when unknown (not finite). */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** One CSV field: empty for null, quoted (with doubled quotes) when it holds a quote, comma or newline. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV text: the header line, then one line per row, each line ending in a newline. */
export function csv(header: readonly string[], rows: readonly (string | number | null)[][]): string {
  return [header.join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\n') + '\n';
}

/**
 * A value as an error message shows it: JSON, except that NaN and ±Infinity stay themselves
 * (JSON.stringify writes them as null, so "got null" would hide what was passed).
 */
export function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `\u0000${v}` : v)) ?? String(value);
  return text.replace(/"\\u0000([^"]*)"/g, '$1');
}
