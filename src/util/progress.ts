/**
 * A one-line progress bar for long work (an epoch, a download): done/total, a bar, rate and ETA,
 * plus any fields the caller adds (loss, images/s). Redraws in place on a terminal; on a pipe or
 * in CI it prints a plain line at most every `everyMs`, so logs stay readable. (Its number and
 * duration formats are ../util/format.ts's.)
 */
import { formatNumber, formatSeconds } from './format.js';

export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit for the rate, e.g. 'img' → '123 img/s'. */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between plain (non-terminal) lines. Default 5000. */
  everyMs?: number;
}

export class ProgressBar {
  private readonly start = performance.now();
  private lastPrint = -Infinity;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Reports `done` of `total`, with extra fields shown after the bar. */
  update(done: number, fields: Record<string, string | number> = {}, force = false): void {
    const now = performance.now();
    const finished = done >= this.options.total;
    if (!force && !finished && now - this.lastPrint < (this.tty ? 100 : this.options.everyMs ?? 5000)) return;
    this.lastPrint = now;
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.options.total - done) / rate : Infinity;
    const width = 24;
    const filled = Math.round((width * Math.min(done, this.options.total)) / Math.max(this.options.total, 1));
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
      .join('  ');
    const unit = this.options.unit ? ` ${this.options.unit}/s` : '/s';
    const line = `${this.options.label} ${bar} ${done}/${this.options.total}  ${formatNumber(rate)}${unit}  ETA ${formatSeconds(eta)}${extra ? '  ' + extra : ''}`;
    if (this.tty) this.stream.write(`\r\x1b[K${line}${finished ? '\n' : ''}`);
    else this.stream.write(line + '\n');
  }
}
