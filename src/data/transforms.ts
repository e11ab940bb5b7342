/**
 * Per-image transforms, and the recipe's CIFAR pipeline (fb.resnet.torch, see paper/RECIPE.md):
 *
 *   train:  normalise → horizontal flip with p = 0.5 → zero-pad 4 px → random 32×32 crop
 *   test:   normalise
 *
 *   normalise   v' = (v − mean_c) / std_c, per channel c, with mean and std on the 0–255 scale
 *   flip        x' = W − 1 − x in every row of every channel
 *   pad + crop  out[c, y, x] = in[c, y + dy − p, x + dx − p] when that is inside the image, else 0;
 *               dy, dx uniform in 0..2p (p = 4 → 9 offsets each; dy = dx = p is the centre crop)
 *
 * The pad comes after normalising, so the zeros it adds equal the normalised channel mean: the
 * border looks like an average pixel, not like black.
 *
 * A transform receives one image as a Float32Array in CHW order (it may modify it) and returns
 * the result, of the same shape. Random choices come from `ctx.rng`, a seeded stream the
 * DataLoader gives each batch, so every augmentation can be replayed. Draw order per image:
 * flip draws one uniform, crop draws dy then dx.
 */
import { checkKeys } from '../util/options.js';
import type { RandomStream } from '../tensor/random.js';
import { cifarFormat, type CifarName, type ImageShape } from './cifar.js';

/** What a transform may use besides the image: the batch's random stream. */
export interface TransformContext {
  /** [C, H, W] of the image. */
  shape: ImageShape;
  rng: RandomStream;
}

/** A per-image transform: CHW floats in, CHW floats out, with random draws from the context's stream. */
export type Transform = (image: Float32Array, ctx: TransformContext) => Float32Array;

/** Channel means and standard deviations on the 0–255 scale (RECIPE.md, from fb.resnet.torch). */
export const CIFAR_NORMALIZATION: Readonly<Record<CifarName, { mean: readonly number[]; std: readonly number[] }>> = {
  cifar10: { mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] },
  cifar100: { mean: [129.3, 124.1, 112.4], std: [68.2, 65.4, 70.4] },
};

/** (v − mean_c) / std_c for every pixel of channel c. */
export function normalize(mean: readonly number[], std: readonly number[]): Transform {
  if (mean.length !== std.length) throw new Error(`normalize: mean has ${mean.length} channels, std ${std.length}`);
  if (std.some((s) => !(s > 0))) throw new Error(`normalize: every std must be positive; got [${std.join(', ')}]`);
  return (image, { shape: [c, h, w] }) => {
    if (c !== mean.length) throw new Error(`normalize: the image has ${c} channels; mean and std have ${mean.length}`);
    const plane = h * w;
    for (let ch = 0; ch < c; ch++) {
      for (let i = ch * plane; i < (ch + 1) * plane; i++) image[i] = (image[i] - mean[ch]) / std[ch];
    }
    return image;
  };
}

/** Mirrors the image left–right with probability `p` (one uniform drawn per image). */
export function randomHorizontalFlip(p = 0.5): Transform {
  if (!(p >= 0 && p <= 1)) throw new Error(`randomHorizontalFlip: p must be in [0, 1]; got ${p}`);
  return (image, { shape: [c, h, w], rng }) => {
    if (rng.uniform() >= p) return image;
    for (let row = 0; row < c * h; row++) {
      const start = row * w;
      for (let x = 0; x < w >> 1; x++) {
        const t = image[start + x];
        image[start + x] = image[start + w - 1 - x];
        image[start + w - 1 - x] = t;
      }
    }
    return image;
  };
}

/**
 * Pads `padding` zeros on every side and crops back to the image's own size at a random offset
 * (dy, then dx, each uniform in 0..2·padding).
 */
export function randomCrop(padding = 4): Transform {
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`randomCrop: padding must be a non-negative integer; got ${padding}`);
  return (image, { shape: [c, h, w], rng }) => {
    const dy = rng.int(2 * padding + 1) - padding;
    const dx = rng.int(2 * padding + 1) - padding;
    const out = new Float32Array(image.length); // zeros: the pad
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        const sy = y + dy;
        if (sy < 0 || sy >= h) continue;
        for (let x = 0; x < w; x++) {
          const sx = x + dx;
          if (sx >= 0 && sx < w) out[(ch * h + y) * w + x] = image[(ch * h + sy) * w + sx];
        }
      }
    }
    return out;
  };
}

/** Applies transforms left to right. */
export function compose(...transforms: Transform[]): Transform {
  return (image, ctx) => transforms.reduce((img, t) => t(img, ctx), image);
}

/**
 * The recipe's pipeline for a data set: with `augment` (training) normalise → flip → pad + crop,
 * without (evaluation) normalise only.
 */
export function cifarTransform(dataset: CifarName, options: { augment: boolean }): Transform {
  checkKeys('cifarTransform', options, ['augment']);
  const { mean, std } = CIFAR_NORMALIZATION[cifarFormat('cifarTransform', dataset).name];
  return options.augment ? compose(normalize(mean, std), randomHorizontalFlip(0.5), randomCrop(4)) : normalize(mean, std);
}
