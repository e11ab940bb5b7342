/**
 * The dry run: how long the unfinished jobs would take, from one measured training step and one
 * test batch per distinct network (run with `gradlab train`'s own loop on synthetic images).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plural } from '../../util/format.js';
import { train, type EpochRecord, type TrainConfig } from '../train/index.js';
import { imagesOf } from './protocol.js';
import { jobState, type Job, type JobState } from './jobs.js';

export interface StepTiming {
  /** The models timed (one per distinct network), e.g. 'smallnet relu nobn'. */
  model: string;
  batchSize: number;
  /** Seconds of one training step (forward, backward, SGD update), measured after a warm-up step. */
  trainStep: number;
  /** Seconds of evaluating one test batch, measured together with the epoch's checkpoint save. */
  evalBatch: number;
}

function modelKey(c: TrainConfig): string {
  return c.model === 'smallnet' ? `smallnet ${c.activation} ${c.batchNorm ? 'bn' : 'nobn'}` : `${c.model} ${c.activation} block ${c.block}`;
}

/**
 * Times the training step and the evaluation of one batch of a job's network on its backend with
 * `gradlab train`'s own loop: one epoch of one batch on the reference backend; on the gpu backend
 * two such epochs, the first to warm up (it compiles the kernels) and the second measured. The
 * images are synthetic, of the same size (a step does not depend on the pixels; the class count,
 * 10 here, changes only the last layer), and lr is 0.
 */
export async function timeSteps(config: TrainConfig): Promise<StepTiming> {
  const batchSize = Math.max(1, Math.min(config.batchSize, imagesOf(config).train));
  const epochs = config.backend === 'gpu' ? 2 : 1;
  const dir = mkdtempSync(join(tmpdir(), 'gradlab-dry-run-'));
  const marks: number[] = [];
  let measured: EpochRecord | null = null;
  try {
    await train(
      { ...config, dataset: 'synthetic', dataDir: null, trainFiles: null, testFiles: null, limitTrain: batchSize, limitTest: batchSize, batchSize, epochs, lr: 0, milestones: [], outDir: dir, overwrite: true },
      {
        onStart: () => marks.push(performance.now()), // data and model ready: the first epoch starts now
        onEpoch: (record) => {
          marks.push(performance.now());
          measured = record;
        },
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const last = measured as EpochRecord | null;
  if (last === null || marks.length !== epochs + 1) {
    throw new Error(`reproduce: timing ${modelKey(config)}: expected the start of training and ${plural(epochs, 'completed epoch')}; got ${marks.length} marks`);
  }
  const epochSeconds = (marks[epochs] - marks[epochs - 1]) / 1000;
  return { model: modelKey(config), batchSize, trainStep: last.seconds, evalBatch: Math.max(0, epochSeconds - last.seconds) };
}

export interface Estimate {
  timings: StepTiming[];
  /** Per job still to run: epochs left and estimated seconds. */
  jobs: { id: string; state: JobState['kind']; epochsLeft: number; seconds: number }[];
  totalSeconds: number;
  /** totalSeconds / parallel: right when each process has a core (or device) of its own. */
  wallSeconds: number;
}

/** Estimates the time of the unfinished jobs from one measured step per distinct network. */
export async function estimate(jobs: readonly Job[], parallel: number, log: (line: string) => void = () => {}): Promise<Estimate> {
  const states = jobs.map((j) => jobState(j));
  const timings = new Map<string, StepTiming>();
  const rows: Estimate['jobs'] = [];
  for (let i = 0; i < jobs.length; i++) {
    const c = jobs[i].config;
    const state = states[i];
    const done = state.kind === 'new' ? 0 : state.epochsCompleted;
    const epochsLeft = state.kind === 'done' ? 0 : Math.max(0, c.epochs - done);
    let seconds = 0;
    if (epochsLeft > 0) {
      const key = modelKey(c);
      let t = timings.get(key);
      if (!t) {
        log(`timing ${key} (batch ${Math.min(c.batchSize, imagesOf(c).train)}) on ${c.backend}…`);
        t = await timeSteps(c);
        timings.set(key, t);
        log(`  ${key}: ${t.trainStep.toFixed(3)} s per training step, ${t.evalBatch.toFixed(3)} s per test batch`);
      }
      const n = imagesOf(c);
      seconds = epochsLeft * (Math.ceil(n.train / c.batchSize) * t.trainStep + Math.ceil(n.test / c.batchSize) * t.evalBatch);
    }
    rows.push({ id: jobs[i].id, state: state.kind, epochsLeft, seconds });
  }
  const totalSeconds = rows.reduce((s, r) => s + r.seconds, 0);
  const running = Math.max(1, Math.min(parallel, rows.filter((r) => r.epochsLeft > 0).length));
  return { timings: [...timings.values()], jobs: rows, totalSeconds, wallSeconds: totalSeconds / running };
}
