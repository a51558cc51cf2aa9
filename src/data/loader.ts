// Mini-batches as NCHW float tensors. Images stay uint8 in host memory; only the batch is
// gathered, augmented (on uint8, in place of a full-dataset copy) and uploaded.
import { Tensor, tensor, tidy } from '../engine';
import { Rng, permutation } from './rng';
import { Split } from './datasets';

export interface Augment {
  /** Random crop after padding each side by this many pixels (edge padding), 0: off. */
  cropPadding: number;
  /** Random horizontal flip with probability 0.5. */
  flip: boolean;
}
export const NO_AUGMENT: Augment = { cropPadding: 0, flip: false };

export interface LoaderOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  augment?: Augment;
  mean: number[];
  std: number[];
  /** Drop a last batch smaller than batchSize. */
  dropLast?: boolean;
}

export interface Batch {
  x: Tensor;
  /** int64 labels */
  y: Tensor;
  size: number;
}

/** Copies one CHW uint8 image into `out`, shifted by (dy, dx) with edge clamping, optionally mirrored. */
export function augmentInto(
  src: Uint8Array,
  out: Uint8Array,
  shape: readonly [number, number, number],
  dy: number,
  dx: number,
  flip: boolean,
): void {
  const [c, h, w] = shape;
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let i = 0; i < h; i++) {
      const si = Math.min(h - 1, Math.max(0, i + dy));
      for (let j = 0; j < w; j++) {
        const jj = flip ? w - 1 - j : j;
        const sj = Math.min(w - 1, Math.max(0, jj + dx));
        out[base + i * w + j] = src[base + si * w + sj];
      }
    }
  }
}

export class BatchLoader {
  constructor(readonly split: Split, readonly o: LoaderOptions) {
    if (!(Number.isInteger(o.batchSize) && o.batchSize > 0)) throw new Error(`batch size must be a positive integer, got ${o.batchSize}`);
    if (o.mean.length !== split.shape[0] || o.std.length !== split.shape[0])
      throw new Error(`normalization needs ${split.shape[0]} channel(s), got mean ${o.mean.length} / std ${o.std.length}`);
  }

  get numBatches(): number {
    const { n } = this.split;
    return this.o.dropLast ? Math.floor(n / this.o.batchSize) : Math.ceil(n / this.o.batchSize);
  }

  /** Batches of one epoch; order and augmentation depend only on (seed, epoch). */
  *epoch(epoch: number, startBatch = 0): Generator<Batch> {
    const { n, shape } = this.split;
    const seed = (this.o.seed * 1000003 + epoch * 7919) >>> 0;
    const order = this.o.shuffle ? permutation(n, seed) : Uint32Array.from({ length: n }, (_, i) => i);
    const rng = new Rng(seed ^ 0x5bd1e995);
    const per = shape[0] * shape[1] * shape[2];
    const aug = this.o.augment ?? NO_AUGMENT;
    for (let b = 0; b < this.numBatches; b++) {
      const idx = order.subarray(b * this.o.batchSize, Math.min(n, (b + 1) * this.o.batchSize));
      const size = idx.length;
      const img = new Uint8Array(size * per);
      const lbl = new BigInt64Array(size);
      for (let i = 0; i < size; i++) {
        const src = this.split.images.subarray(idx[i] * per, (idx[i] + 1) * per);
        const p = aug.cropPadding;
        // Draw even for skipped batches so resumed epochs see the same augmentation.
        const dy = p ? rng.int(2 * p + 1) - p : 0;
        const dx = p ? rng.int(2 * p + 1) - p : 0;
        const flip = aug.flip ? rng.next() < 0.5 : false;
        if (b < startBatch) continue;
        if (p || flip) augmentInto(src, img.subarray(i * per, (i + 1) * per), shape, dy, dx, flip);
        else img.set(src, i * per);
        lbl[i] = BigInt(this.split.labels[idx[i]]);
      }
      if (b < startBatch) continue;
      yield tidy(() => ({ x: this.normalize(img, size), y: tensor(lbl, [size]), size }));
    }
  }

  private normalize(img: Uint8Array, size: number): Tensor {
    const [c, h, w] = this.split.shape;
    const x = tensor(img, [size, c, h, w], 'float32');
    const mean = tensor(Float32Array.from(this.o.mean, (m) => m * 255), [1, c, 1, 1]);
    const std = tensor(Float32Array.from(this.o.std, (s) => s * 255), [1, c, 1, 1]);
    return x.sub(mean).div(std);
  }
}
