/**
 * What a run writes and prints besides its checkpoint: metrics.json and metrics.csv after every
 * epoch, the one-line log messages, and the gpu summary that goes into summary.json.
 */
import type { BackendName } from '../../tensor/backends/backend.js';
import { gpuInfo } from '../../tensor/backends/gpu.js';
import { writeFileAtomic, writeJsonAtomic } from '../../node/files.js';
import { formatSeconds, percent } from '../../util/format.js';
import type { TrainConfig } from './config.js';
import type { EpochRecord, TrainSummary } from './records.js';

const CSV_COLUMNS = ['epoch', 'lr', 'trainLoss', 'trainError', 'testLoss', 'testError', 'imagesPerSecond', 'seconds'] as const;

/** metrics.json (the records) and metrics.csv (one row per epoch, per FReLU layer its b and mean |∂E/∂b|), both atomically. */
export function writeMetrics(files: TrainSummary['files'], metrics: readonly EpochRecord[]): void {
  writeJsonAtomic(files.metricsJson, metrics);
  const layers = [...new Set(metrics.flatMap((r) => Object.keys(r.freluB)))];
  const header = [...CSV_COLUMNS, ...layers.flatMap((l) => [`freluB:${l}`, `freluAbsDb:${l}`])].join(',');
  const rows = metrics.map((r) =>
    [
      ...CSV_COLUMNS.map((k) => String(r[k])),
      ...layers.flatMap((l) => {
        const b = r.freluB[l];
        const absDb = r.freluAbsDb?.[l];
        return [b === undefined ? '' : Array.isArray(b) ? `"${b.join(' ')}"` : String(b), absDb === undefined ? '' : String(absDb)];
      }),
    ].join(','),
  );
  writeFileAtomic(files.metricsCsv, [header, ...rows].join('\n') + '\n');
}

/** The gpu.js mode and kernel class that ran, and its kernel and texture counts, for summary.json. */
export function gpuSummary(): TrainSummary['gpu'] {
  const info = gpuInfo();
  return { mode: info.mode, kernelClass: info.kernelClass, compiledKernels: info.compiledKernels, liveTextures: info.liveTextures };
}

/** 'reference', or 'gpu (gpu.js mode …)' (starts the gpu backend to learn its mode). */
function backendLabel(backend: BackendName): string {
  if (backend !== 'gpu') return backend;
  const info = gpuInfo({ start: true });
  return `gpu (gpu.js mode ${info.mode})`;
}

/** One epoch's log line: lr, training and test loss and error, speed, time, and the FReLU b values. */
export function epochLine(r: EpochRecord, epochs: number): string {
  const bs = Object.values(r.freluB).map((b) => (Array.isArray(b) ? `[${b.length} values]` : b.toFixed(3)));
  return (
    `epoch ${r.epoch}/${epochs}  lr ${r.lr.toPrecision(3)}  train loss ${r.trainLoss.toFixed(4)} error ${percent(r.trainError)}  ` +
    `test loss ${r.testLoss.toFixed(4)} error ${percent(r.testError)}  ${r.imagesPerSecond.toFixed(1)} img/s  ${formatSeconds(r.seconds)}` +
    (bs.length > 0 ? `  b ${bs.join(' ')}` : '')
  );
}

/** The line that opens a run's log: model, data, parameters, backend, epochs, output folder. */
export function startLine(config: TrainConfig, images: { train: number; test: number }, parameters: number, firstEpoch: number, outDir: string): string {
  return (
    `train ${config.model} (${config.activation}${config.model === 'smallnet' ? (config.batchNorm ? ', BN' : ', no BN') : `, block ${config.block}`}) ` +
    `on ${config.dataset}: ${images.train} train / ${images.test} test images, ${parameters.toLocaleString('en-US')} parameters, ` +
    `backend ${backendLabel(config.backend)}, epochs ${firstEpoch}–${config.epochs}, out ${outDir}`
  );
}

/** The lines that close a run's log: the divergence (if any), then the best and final test error and the files that exist. */
export function endLines(summary: TrainSummary): string[] {
  const { divergence, files } = summary;
  const lines: string[] = [];
  if (divergence) {
    lines.push(`diverged at epoch ${divergence.epoch}, batch ${divergence.batch}: ${divergence.where} = ${divergence.value}; ${divergence.reason}`);
    lines.push(
      files.checkpoint === null
        ? 'no checkpoint was written: the run diverged before its first epoch completed'
        : `the checkpoint ${files.checkpoint} holds epoch ${summary.checkpointEpoch ?? '?'}, the last before the divergence`,
    );
  }
  const wrote = [files.summary, files.metricsJson, files.metricsCsv, ...(files.checkpoint === null ? [] : [files.checkpoint])];
  lines.push(
    `best test error ${percent(summary.bestTestError)} (epoch ${summary.bestEpoch ?? '-'}), final ${percent(summary.finalTestError)} ` +
      `after ${summary.epochsCompleted} epochs; wrote ${wrote.join(', ')}`,
  );
  return lines;
}
