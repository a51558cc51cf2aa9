// Evaluation of a trained network: accuracy and loss on a split, and per-image predictions.
import { crossEntropy, noGrad, softmax, tidy } from '../engine';
import { BatchLoader } from '../data/loader';
import { Split } from '../data/datasets';
import { Network } from '../models';

/**
 * Evaluation batch size: at most `max`, with the examples spread evenly over the batches, so the
 * last batch is never a remainder of a few (batch standardization, which uses the batch's own
 * statistics at test time as FW-DTP does, would standardize a lone example to 0).
 */
export function evalBatchSize(n: number, max = 500): number {
  return Math.ceil(n / Math.ceil(n / max));
}

export function evaluate(net: Network, split: Split, mean: number[], std: number[], maxBatch = 500): { loss: number; acc: number } {
  const loader = new BatchLoader(split, { batchSize: evalBatchSize(split.n, maxBatch), shuffle: false, seed: 0, mean, std });
  let loss = 0;
  let correct = 0;
  for (const b of loader.epoch(0))
    tidy(() =>
      noGrad(() => {
        const logits = net.forward(b.x);
        loss += crossEntropy(logits, b.y, 'sum').item();
        correct += logits.argmax(1).eq(b.y).sum().item();
        b.x.dispose();
        b.y.dispose();
      }),
    );
  return { loss: loss / split.n, acc: correct / split.n };
}

/** The network's class for each chosen image of a split, with its probability and the true label. */
export function predict(net: Network, split: Split, indices: number[], mean: number[], std: number[]): { index: number; label: number; prob: number; truth: number }[] {
  const picked: Split = { ...split, n: indices.length, images: concatImages(split, indices), labels: Uint8Array.from(indices, (i) => split.labels[i]) };
  const loader = new BatchLoader(picked, { batchSize: indices.length, shuffle: false, seed: 0, mean, std });
  const out: { index: number; label: number; prob: number; truth: number }[] = [];
  for (const b of loader.epoch(0))
    tidy(() =>
      noGrad(() => {
        const p = softmax(net.forward(b.x), 1);
        const label = Array.from(p.argmax(1).data());
        const probs = p.data();
        const k = p.shape[1];
        label.forEach((l, i) => out.push({ index: indices[i], label: l, prob: probs[i * k + l], truth: picked.labels[i] }));
        b.x.dispose();
        b.y.dispose();
      }),
    );
  return out;
}

function concatImages(split: Split, indices: number[]): Uint8Array {
  const per = split.shape[0] * split.shape[1] * split.shape[2];
  const out = new Uint8Array(indices.length * per);
  indices.forEach((i, k) => out.set(split.images.subarray(i * per, (i + 1) * per), k * per));
  return out;
}
