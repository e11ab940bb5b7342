/**
 * `gradlab export CHECKPOINT --out FILE.safetensors`: a training run's weights in the safetensors
 * format, with PyTorch's names and layouts, for `model.load_state_dict(load_file(...))`.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pytorchStateKey } from '../nn/module.js';
import { encodeSafetensors, isIntegerStateKey, type RawTensor } from '../io/safetensors.js';
import { writeFileAtomic } from '../node/files.js';
import { CHECKPOINT_FILE, readTrainCheckpoint, variantTag } from '../experiments/train/index.js';
import { parse, shortPath, type Command } from './command.js';

const HELP = `usage: gradlab export CHECKPOINT --out FILE.safetensors

Writes the model weights of a 'gradlab train' checkpoint (a checkpoint.gckpt file, or a run's
folder holding one) in the safetensors format that PyTorch and Hugging Face read: every
parameter and buffer under the name PyTorch gives the same module tree (features.0.weight,
features.1.running_mean, classifier.4.bias; FReLU's parameter is b, PReLU's weight), in PyTorch's
layouts (conv [O, C, KH, KW], linear [out, in]); float32 as F32, BN's num_batches_tracked as I64.
The file's metadata names the model and the epoch. 'gradlab train' also writes model.safetensors
beside its checkpoint after every epoch; this converts runs made before that.

  --out FILE   the safetensors file to write (atomically)`;

export const command: Command = {
  name: 'export',
  help: HELP,
  async run(argv) {
    const args = parse(this, argv, { out: { type: 'string' } }, true);
    if (args === null) return 0;
    const { values: v, positionals } = args;
    if (positionals.length !== 1) {
      console.error(`export: name one checkpoint; got ${positionals.length ? positionals.map((p) => `'${p}'`).join(' ') : 'none'}\n\n${HELP}`);
      return 2;
    }
    if (v.out === undefined) throw new Error('export: --out FILE.safetensors is required');
    let path = resolve(positionals[0]);
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, CHECKPOINT_FILE);
    if (!existsSync(path)) throw new Error(`export: ${path} does not exist`);
    const ckpt = readTrainCheckpoint(path);
    const tensors: Record<string, RawTensor> = {};
    for (const [key, t] of Object.entries(ckpt.model)) {
      const name = pytorchStateKey(key);
      const data = t.values instanceof Float64Array ? t.values : Float32Array.from(t.values);
      tensors[name] = isIntegerStateKey(name)
        ? { dtype: 'I64', shape: t.shape, data: Float64Array.from(data, Math.round) }
        : { dtype: t.dtype === 'float64' ? 'F64' : 'F32', shape: t.shape, data };
    }
    const c = ckpt.config;
    const metadata = {
      format: 'pt',
      producer: 'gradlab',
      model: c.model,
      activation: c.activation,
      variant: variantTag(c),
      dataset: c.dataset,
      epoch: String(ckpt.epoch),
    };
    const out = resolve(v.out);
    writeFileAtomic(out, encodeSafetensors(tensors, metadata));
    console.log(`export: ${Object.keys(tensors).length} tensors of ${c.model} (${c.activation}, ${variantTag(c)}) after epoch ${ckpt.epoch} → ${shortPath(out)}`);
    return 0;
  },
};
