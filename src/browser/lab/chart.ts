/**
 * The lab's line charts, drawn by uPlot (a dev dependency bundled into the page). uPlot was chosen
 * over Chart.js because it is built for streaming data: setData on a chart of a few thousand points
 * redraws one canvas in well under a millisecond, and it is ~50 KiB minified. Every chart in the lab
 * goes through `lineChart`, so they share one look and all follow the width of their container
 * (phone-width screens included).
 *
 *   const c = lineChart(parent, { title: 'loss', x: 'step', series: [{ label: 'train' }, { label: 'test', points: true }] });
 *   c.set([1, 2, 3], [[2.3, 2.2, 2.0], [null, null, 2.1]]);   // one y array per series; null: no point
 */
import uPlot from 'uplot';

export interface SeriesSpec {
  label: string;
  /** CSS colour (default: the lab's palette, by position). */
  color?: string;
  /** Dashed line (e.g. a formula drawn against a measurement). */
  dash?: boolean;
  /** Points only, no line (e.g. test passes between training steps). */
  points?: boolean;
}

export interface ChartSpec {
  title: string;
  /** The x axis label. */
  x: string;
  /** The y axis label (default none). */
  y?: string;
  series: SeriesSpec[];
  /** Plot height in CSS pixels (default 220). */
  height?: number;
  /** Logarithmic y axis (base 10). */
  logY?: boolean;
  /** x counts something (steps, layers): ticks only at whole numbers. */
  integerX?: boolean;
}

/** Tick spacings for a counting axis: whole numbers only. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

export interface LineChart {
  /** Replaces the data: xs ascending, one ys array per series (null where a series has no point). */
  set(xs: readonly number[], ys: readonly (readonly (number | null)[])[]): void;
  /** The chart's root element (for tests and screenshots). */
  readonly element: HTMLElement;
  destroy(): void;
}

/** The lab's palette: distinguishable, and readable in grey. */
export const PALETTE = ['#2f6fdb', '#d9512c', '#2a9d55', '#8e44ad', '#c99700', '#17a2b8', '#555555', '#e377c2'];

/** A line chart in `parent`, as wide as `parent`. */
export function lineChart(parent: HTMLElement, spec: ChartSpec): LineChart {
  const holder = document.createElement('div');
  holder.className = 'chart';
  parent.appendChild(holder);
  const width = (): number => Math.max(240, Math.floor(holder.clientWidth || parent.clientWidth || 320));
  const plot = new uPlot(
    {
      title: spec.title,
      width: width(),
      height: spec.height ?? 220,
      scales: { x: { time: false }, y: spec.logY ? { distr: 3 } : {} },
      axes: [spec.integerX ? { label: spec.x, incrs: WHOLE_STEPS } : { label: spec.x }, spec.y === undefined ? {} : { label: spec.y }],
      series: [
        { label: spec.x },
        ...spec.series.map((s, i) => {
          const stroke = s.color ?? PALETTE[i % PALETTE.length];
          return {
            label: s.label,
            stroke,
            width: 2,
            dash: s.dash ? [6, 4] : undefined,
            spanGaps: true,
            ...(s.points ? { paths: () => null, points: { show: true, size: 6, fill: stroke } } : { points: { show: false } }),
          };
        }),
      ],
      legend: { show: true, live: false }, // labels only: the values under the cursor would crowd a phone screen
      cursor: { drag: { x: false, y: false } },
    },
    [[], ...spec.series.map(() => [])],
    holder,
  );
  const resize = new ResizeObserver(() => {
    const w = width();
    if (w !== plot.width) plot.setSize({ width: w, height: spec.height ?? 220 });
  });
  resize.observe(holder);
  return {
    set(xs, ys) {
      if (ys.length !== spec.series.length) throw new Error(`lineChart '${spec.title}': ${spec.series.length} series, got ${ys.length} y arrays`);
      plot.setData([xs.slice(), ...ys.map((y) => y.slice())] as uPlot.AlignedData);
    },
    element: holder,
    destroy() {
      resize.disconnect();
      plot.destroy();
      holder.remove();
    },
  };
}
