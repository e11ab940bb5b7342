/**
 * `gradlab train`: one training run (src/experiments/train/) from the command line. Every default
 * is the paper's protocol (paper/RECIPE.md); every deviation is an explicit option.
 */
import { relative, resolve } from 'node:path';
import { constants as osConstants } from 'node:os';
import { ACTIVATIONS, BLOCKS, DATASETS, MODELS, SYNTHETIC_SIZES, TrainStopped, train, type TrainOptions } from '../experiments/train/index.js';
import { GPU_MODES } from '../tensor/backends/gpu.js';
import { numberOption, parse, type Command } from './command.js';

const HELP = `usage: gradlab train [options]

One training run: SGD on CIFAR, test error every epoch, logs and a checkpoint after each epoch.
Defaults follow the paper's protocol (fb.resnet.torch as the authors ran it): src/experiments/train/config.ts
holds each default with its source, README.md ("Training on CIFAR") the summary.

model
  --model M           smallnet | ${MODELS.filter((m) => m !== 'smallnet').join(' | ')}   (default smallnet)
  --activation A      ${ACTIVATIONS.join(' | ')}   (default frelu)
  --bn / --no-bn      SmallNet with or without batch normalisation (default --bn); the ResNets
                      always have BN (where: --block)
  --block B           ResNet block of the paper's Fig. 4: ${BLOCKS.join(' | ')} (default a, the original)
  --per-channel       one PReLU slope / FReLU b per channel (default: one per layer, as the paper)
  --frelu-b-grad-scale X
                      post-paper (authors' later code): FReLU b's gradient × X (default 1 = the
                      paper's eq. 3; the authors later used 0.1)
  --frelu-b-nonpositive
                      post-paper (authors' later code): after each step, a FReLU b that became
                      positive returns to its value before the step (default off = the paper)

data
  --dataset D         ${DATASETS.join(' | ')}   (default cifar100, Table 1's data set).
                      synthetic: a generated, learnable 10-class set in CIFAR format
                      (${SYNTHETIC_SIZES.train} train / ${SYNTHETIC_SIZES.test} test images; no files needed)
  --data DIR          data directory with the official layout (default $GRADLAB_DATA or ./data;
                      'gradlab download cifar10' fills it)
  --train-files F,…   explicit training files in the binary record format (instead of the official ones)
  --test-files F,…    explicit test files
  --limit-train N     use only the first N training images (quick runs; default all)
  --limit-test N      use only the first N test images
  --no-augment        no training augmentation (default: normalise, flip p = 0.5, pad 4 + random crop)

optimisation (default: SGD, Nesterov momentum 0.9, weight decay 1e-4 on every parameter)
  --epochs N          default 164 (fb.resnet.torch's default; the authors' scripts ran 200)
  --lr X              base learning rate; default 0.1, except SmallNet with --no-bn: 0.01
                      (the paper's rate for it; Table 1 shows 0.1 diverging without BN)
  --milestones E,…    1-based epochs at whose start lr is multiplied by --gamma (default 81,122;
                      'none': a constant rate)
  --gamma X           default 0.1
  --batch-size N      default 128
  --momentum X        default 0.9
  --no-nesterov       plain momentum instead of Nesterov's
  --weight-decay X    default 1e-4
  --no-decay-bn-b     exempt BN's γ/β and FReLU's b from weight decay (a deviation: the recipe
                      decays every parameter)
  --seed S            seeds the weights, the data order, the augmentation, dropout (default 1)

running
  --backend B         reference | gpu (default gpu: gpu.js kernels, mode picked automatically)
  --gpu-mode M        auto | ${GPU_MODES.join(' | ')} (default auto: headlessgl when a GL context
                      works, else webasm; also GRADLAB_GPU_MODE)
  --out DIR           output directory (default runs/<model>-<activation>-<variant>-<dataset>-seed<S>)
  --resume            continue the run in --out from its last checkpoint (same options; --epochs,
                      --backend, --gpu-mode may change); on the reference backend the result equals
                      an uninterrupted run's exactly
  --overwrite         start afresh even if --out already holds a run

Writes to --out after every epoch: checkpoint.gckpt, metrics.json, metrics.csv (epoch, lr,
train/test loss and error, images/s, FReLU b and mean |∂E/∂b| by layer); at the end summary.json (best and final
test error, the config, backend and gpu mode). Errors are fractions in [0, 1].
SIGINT (Ctrl-C), SIGTERM and SIGHUP stop the run after the step in progress: the epoch under way is
abandoned, the checkpoint keeps the last completed epoch, and --resume continues from it.
Exit status: 0 when the run completed, 3 when its loss or weights stopped being finite ("diverged":
see summary.json's divergence), 130/143/129 when stopped by SIGINT/SIGTERM/SIGHUP, 1 on an error
(a bad option included).`;

export const command: Command = {
  name: 'train',
  help: HELP,
  async run(argv) {
    const args = parse(this, argv, {
      model: { type: 'string' },
      activation: { type: 'string' },
      bn: { type: 'boolean' },
      'no-bn': { type: 'boolean' },
      block: { type: 'string' },
      'per-channel': { type: 'boolean' },
      'frelu-b-grad-scale': { type: 'string' },
      'frelu-b-nonpositive': { type: 'boolean' },
      dataset: { type: 'string' },
      data: { type: 'string' },
      'train-files': { type: 'string', multiple: true },
      'test-files': { type: 'string', multiple: true },
      'limit-train': { type: 'string' },
      'limit-test': { type: 'string' },
      'no-augment': { type: 'boolean' },
      epochs: { type: 'string' },
      lr: { type: 'string' },
      milestones: { type: 'string' },
      gamma: { type: 'string' },
      'batch-size': { type: 'string' },
      momentum: { type: 'string' },
      'no-nesterov': { type: 'boolean' },
      'weight-decay': { type: 'string' },
      'no-decay-bn-b': { type: 'boolean' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      'gpu-mode': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
      overwrite: { type: 'boolean' },
    });
    if (args === null) return 0;
    const v = args.values;
    if (v.bn && v['no-bn']) throw new Error('train: --bn and --no-bn contradict each other; give one');
    if (v.resume && v.overwrite) throw new Error('train: --resume and --overwrite contradict each other (continue the run, or start it afresh); give one');
    if (v.out !== undefined && v.out.trim() === '') throw new Error("train: --out '' names no folder (it would write into the current directory); give a folder, or leave --out out for the default");

    const integer = (name: string, value: string | undefined, min: number) =>
      value === undefined ? undefined : numberOption('train', name, value, 0, (n) => Number.isInteger(n) && n >= min, `an integer ≥ ${min}`);
    const number = (name: string, value: string | undefined) =>
      value === undefined ? undefined : numberOption('train', name, value, 0, (n) => Number.isFinite(n) && n >= 0, 'a finite number ≥ 0');
    const fileList = (values: string[] | undefined) => values?.flatMap((s) => s.split(',')).filter((s) => s !== '');

    const options: TrainOptions = {
      model: v.model as TrainOptions['model'],
      activation: v.activation as TrainOptions['activation'],
      batchNorm: v['no-bn'] ? false : v.bn ? true : undefined,
      block: v.block as TrainOptions['block'],
      perChannel: v['per-channel'],
      freluBGradScale: number('frelu-b-grad-scale', v['frelu-b-grad-scale']),
      freluBKeepNonPositive: v['frelu-b-nonpositive'],
      dataset: v.dataset as TrainOptions['dataset'],
      dataDir: v.data,
      trainFiles: fileList(v['train-files']),
      testFiles: fileList(v['test-files']),
      limitTrain: integer('limit-train', v['limit-train'], 1),
      limitTest: integer('limit-test', v['limit-test'], 1),
      augment: v['no-augment'] ? false : undefined,
      epochs: integer('epochs', v.epochs, 1),
      lr: number('lr', v.lr),
      milestones: v.milestones === undefined ? undefined : milestoneList(v.milestones),
      gamma: number('gamma', v.gamma),
      batchSize: integer('batch-size', v['batch-size'], 1),
      momentum: number('momentum', v.momentum),
      nesterov: v['no-nesterov'] ? false : undefined,
      weightDecay: number('weight-decay', v['weight-decay']),
      noDecayBnAndB: v['no-decay-bn-b'],
      seed: integer('seed', v.seed, 0),
      backend: v.backend as TrainOptions['backend'],
      gpuMode: v['gpu-mode'] as TrainOptions['gpuMode'],
      outDir: v.out,
      resume: v.resume,
      overwrite: v.overwrite,
    };
    // Unset options take the protocol's defaults (resolveTrainConfig), which also checks the rest.
    for (const key of Object.keys(options) as (keyof TrainOptions)[]) if (options[key] === undefined) delete options[key];

    if (options.momentum === 0 && options.nesterov !== false) {
      throw new Error('train: --momentum 0 leaves Nesterov momentum (the default) nothing to work with; add --no-nesterov for plain SGD');
    }

    // SIGINT (Ctrl-C), SIGTERM (kill, scancel, Kubernetes) and SIGHUP stop the run after the step in
    // progress; the epoch under way is abandoned and the last checkpoint stays as it is.
    const stopper = new AbortController();
    let stopSignal: NodeJS.Signals | null = null;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopSignal !== null) return; // Ctrl-C reaches this process and the one that started it, which passes it on: one stop
      stopSignal = signal;
      console.error(`\ngradlab train: ${signal} received; stopping after the step in progress`);
      stopper.abort(signal);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, onSignal);
    let summary;
    try {
      summary = await train(options, { log: (line) => console.log(line), progress: process.stderr, stop: stopper.signal });
    } catch (err) {
      if (err instanceof TrainStopped && stopSignal !== null) {
        console.error(`gradlab ${err.message}`);
        return 128 + (osConstants.signals[stopSignal] ?? 0);
      }
      throw err;
    } finally {
      for (const s of signals) process.off(s, onSignal);
    }
    const rel = relative('.', summary.config.outDir);
    const out = rel === '' ? '.' : rel.startsWith('..') ? resolve(summary.config.outDir) : rel;
    const written = ['summary.json', 'metrics.json', 'metrics.csv', ...(summary.files.checkpoint === null ? [] : ['checkpoint.gckpt'])];
    console.log(`outputs in ${out}: ${written.join(', ')}${summary.files.checkpoint === null ? ' (no checkpoint: no epoch completed)' : ''}`);
    return summary.diverged ? 3 : 0;
  },
};

function milestoneList(text: string): number[] {
  if (text.trim() === 'none') return [];
  const parts = text.split(',').map((s) => s.trim());
  const epochs = parts.map(Number);
  if (text.trim() === '' || parts.some((s) => s === '') || !epochs.every((e) => Number.isInteger(e) && e >= 1)) {
    throw new Error(`train: --milestones must be 1-based epochs separated by commas, e.g. 81,122; got '${text}'`);
  }
  return epochs;
}
