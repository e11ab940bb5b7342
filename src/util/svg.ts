/**
 * A small SVG line-chart writer: several series over one x axis, a linear or logarithmic y axis,
 * an optional shaded band per series (a confidence interval, or min–max over seeds), axis labels,
 * a title and a legend. The output is a standalone SVG document (a string), deterministic for the
 * same input, so figures can be committed and diffed.
 *
 *   const svg = lineChart(
 *     [{ name: 'measured', x: [1, 2, 3], y: [2, 2.1, 1.9], band: { lower: [1.8, 1.9, 1.7], upper: [2.2, 2.3, 2.1] } },
 *      { name: 'eq. (6)', x: [1, 2, 3], y: [2, 4, 6], dash: true }],
 *     { title: 'Var[x_l]', xLabel: 'layer l', yLabel: 'variance', yScale: 'log' });
 *
 * Points that cannot be drawn (a non-finite value, or y ≤ 0 on a log axis) leave a gap in their
 * line rather than failing, so one bad value does not hide the rest of a figure.
 */

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** A shaded region around the line, drawn under it: lower[i] ≤ upper[i] at x[i]. */
  band?: { lower: readonly number[]; upper: readonly number[] };
  /** Any SVG colour; by default the next colour of a 10-colour palette. */
  color?: string;
  /** Dashed line (true: a default dash pattern, or an SVG dasharray such as '2 3'). */
  dash?: boolean | string;
  /** Draw a small circle at each point. Default true when the series has at most 40 points. */
  markers?: boolean;
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  yScale?: 'linear' | 'log';
  /** Overall size in pixels (default 720 × 400; the legend is drawn inside this width). */
  width?: number;
  height?: number;
  /** Explicit x tick positions (e.g. whole layer numbers); otherwise chosen automatically. */
  xTicks?: readonly number[];
  /** Force the axis ranges (otherwise the data's range, padded a little). */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const FONT = 'font-family="sans-serif" font-size="12"';

/** Draws the series as an SVG document. Throws when a series' arrays disagree in length. */
export function lineChart(series: readonly Series[], options: LineChartOptions = {}): string {
  const logY = (options.yScale ?? 'linear') === 'log';
  for (const s of series) checkSeries(s);
  const width = options.width ?? 720;
  const height = options.height ?? 400;

  // Layout: a legend column on the right, room for tick labels on the left and below.
  const legendWidth = series.length === 0 ? 0 : Math.min(220, 34 + 6.6 * Math.max(...series.map((s) => s.name.length)));
  const margin = { left: 70, right: 16 + legendWidth, top: options.title ? 34 : 14, bottom: options.xLabel ? 48 : 30 };
  const plotW = Math.max(40, width - margin.left - margin.right);
  const plotH = Math.max(40, height - margin.top - margin.bottom);

  const drawable = (y: number): boolean => Number.isFinite(y) && (!logY || y > 0);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    s.x.forEach((x, i) => {
      if (!Number.isFinite(x)) return;
      xs.push(x);
      for (const y of [s.y[i], s.band?.lower[i], s.band?.upper[i]]) if (y !== undefined && drawable(y)) ys.push(y);
    });
  }
  const [x0, x1] = options.xRange ?? padRange(xs, false, 0);
  const [y0, y1] = options.yRange ?? padRange(ys, logY, 0.05);
  if (logY && !(y0 > 0)) throw new Error(`lineChart: a log y axis needs a positive range; got yRange [${y0}, ${y1}]`);

  const sx = (x: number): number => margin.left + ((x - x0) / (x1 - x0)) * plotW;
  const ty = (y: number): number => (logY ? Math.log10(y) : y);
  const sy = (y: number): number => margin.top + plotH - ((ty(y) - ty(y0)) / (ty(y1) - ty(y0))) * plotH;
  const f = (v: number): string => v.toFixed(2);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  if (options.title) out.push(`<text x="${f(margin.left + plotW / 2)}" y="20" text-anchor="middle" ${FONT} font-weight="bold">${escapeXml(options.title)}</text>`);

  // Grid, ticks and tick labels.
  const xTicks = (options.xTicks ?? linearTicks(x0, x1)).filter((t) => t >= x0 - 1e-9 * Math.abs(x1 - x0) && t <= x1 + 1e-9 * Math.abs(x1 - x0));
  const yTicks = (logY ? logTicks(y0, y1) : linearTicks(y0, y1)).filter((t) => t >= y0 && t <= y1);
  for (const t of xTicks) {
    out.push(`<line x1="${f(sx(t))}" y1="${margin.top}" x2="${f(sx(t))}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f(sx(t))}" y="${margin.top + plotH + 16}" text-anchor="middle" ${FONT}>${formatTick(t)}</text>`);
  }
  for (const t of yTicks) {
    out.push(`<line x1="${margin.left}" y1="${f(sy(t))}" x2="${margin.left + plotW}" y2="${f(sy(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end" ${FONT}>${formatTick(t)}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  if (options.xLabel) out.push(`<text x="${f(margin.left + plotW / 2)}" y="${height - 10}" text-anchor="middle" ${FONT}>${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) {
    const cy = margin.top + plotH / 2;
    out.push(`<text x="16" y="${f(cy)}" text-anchor="middle" transform="rotate(-90 16 ${f(cy)})" ${FONT}>${escapeXml(options.yLabel)}${logY ? ' (log scale)' : ''}</text>`);
  }

  // Series, clipped to the plot area: bands first (under every line), then lines and markers.
  out.push(`<defs><clipPath id="plot"><rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}"/></clipPath></defs>`);
  out.push('<g clip-path="url(#plot)">');
  const colors = series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  series.forEach((s, i) => {
    if (!s.band) return;
    for (const run of runs(s.x.length, (j) => Number.isFinite(s.x[j]) && drawable(s.band!.lower[j]) && drawable(s.band!.upper[j]))) {
      const upper = run.map((j) => `${f(sx(s.x[j]))},${f(sy(s.band!.upper[j]))}`);
      const lower = run.map((j) => `${f(sx(s.x[j]))},${f(sy(s.band!.lower[j]))}`).reverse();
      out.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${colors[i]}" fill-opacity="0.18" stroke="none"/>`);
    }
  });
  series.forEach((s, i) => {
    const dash = s.dash === true ? ' stroke-dasharray="6 4"' : typeof s.dash === 'string' ? ` stroke-dasharray="${escapeXml(s.dash)}"` : '';
    for (const run of runs(s.x.length, (j) => Number.isFinite(s.x[j]) && drawable(s.y[j]))) {
      const points = run.map((j) => `${f(sx(s.x[j]))},${f(sy(s.y[j]))}`).join(' ');
      out.push(`<polyline points="${points}" fill="none" stroke="${colors[i]}" stroke-width="2"${dash}/>`);
      if (s.markers ?? s.x.length <= 40) {
        for (const j of run) out.push(`<circle cx="${f(sx(s.x[j]))}" cy="${f(sy(s.y[j]))}" r="2.5" fill="${colors[i]}"/>`);
      }
    }
  });
  out.push('</g>');

  // Legend: one row per series, a short line sample (and band swatch) then the name.
  const lx = margin.left + plotW + 14;
  series.forEach((s, i) => {
    const y = margin.top + 10 + i * 18;
    if (s.band) out.push(`<rect x="${lx}" y="${y - 6}" width="22" height="12" fill="${colors[i]}" fill-opacity="0.18"/>`);
    const dash = s.dash === true ? ' stroke-dasharray="6 4"' : typeof s.dash === 'string' ? ` stroke-dasharray="${escapeXml(s.dash)}"` : '';
    out.push(`<line x1="${lx}" y1="${y}" x2="${lx + 22}" y2="${y}" stroke="${colors[i]}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 28}" y="${y + 4}" ${FONT}>${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function checkSeries(s: Series): void {
  if (s.x.length !== s.y.length) throw new Error(`lineChart: series '${s.name}' has ${s.x.length} x values but ${s.y.length} y values`);
  if (s.band && (s.band.lower.length !== s.x.length || s.band.upper.length !== s.x.length)) {
    throw new Error(`lineChart: series '${s.name}' band needs ${s.x.length} lower and upper values; got ${s.band.lower.length} and ${s.band.upper.length}`);
  }
}

/** Maximal runs of consecutive indices where `ok` holds (a gap splits a line). */
function runs(n: number, ok: (i: number) => boolean): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  for (let i = 0; i < n; i++) {
    if (ok(i)) {
      cur.push(i);
    } else if (cur.length > 0) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** The data's range, widened by `pad` of its span (in log space on a log axis); never empty. */
function padRange(values: readonly number[], log: boolean, pad: number): [number, number] {
  if (values.length === 0) return log ? [1, 10] : [0, 1];
  const t = log ? values.map(Math.log10) : values;
  let lo = Math.min(...t);
  let hi = Math.max(...t);
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const w = log ? 0.5 : Math.max(Math.abs(hi) * 0.1, 0.5);
    lo -= w;
    hi += w;
  } else {
    const w = (hi - lo) * pad;
    lo -= w;
    hi += w;
  }
  return log ? [10 ** lo, 10 ** hi] : [lo, hi];
}

/** "Nice" ticks (1, 2 or 5 × 10ᵏ apart), about six across [lo, hi]. */
export function linearTicks(lo: number, hi: number, target = 6): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return ticks;
}

/** Ticks for a log axis: the powers of ten in range, plus 2× and 5× (or every 1…9×) when few decades show; nice linear steps inside a narrow range. */
export function logTicks(lo: number, hi: number): number[] {
  const kLo = Math.floor(Math.log10(lo));
  const kHi = Math.ceil(Math.log10(hi));
  const pick = (mults: number[]): number[] => {
    const out: number[] = [];
    for (let k = kLo; k <= kHi; k++) for (const m of mults) {
      const v = +(m * 10 ** k).toPrecision(12);
      if (v >= lo && v <= hi) out.push(v);
    }
    return out;
  };
  for (const mults of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks = pick(mults);
    if (ticks.length >= 3) return ticks;
  }
  // Less than a factor of ~3 shown: evenly spaced "nice" values read better (still correct positions on a log axis).
  return linearTicks(lo, hi, 5).filter((t) => t > 0);
}

/** Short tick labels: 0.25, 1.5, 100, 1e6, 1e-4. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential().split('e');
    return `${+(+m).toPrecision(3)}e${+e}`;
  }
  return String(+v.toPrecision(4));
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
