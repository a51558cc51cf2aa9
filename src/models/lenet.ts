// LeNet (scalingDTP / Meulemans): 2 x [conv5x5 p2 -> act -> maxpool 3/2 p1] -> FC 512 -> act -> FC 10.
// ELU by default, as scalingDTP (measured: TJML 73% vs 54% with LeakyReLU(0.01) on the table1 quick budget).
import { ActivationName } from '../engine';
import { Activation, Conv2d, Flatten, Linear, MaxPool2d, Sequential } from '../layers';
import { BlockNorm, Network, hiddenBlock } from './network';

export interface LeNetConfig {
  channels: [number, number];
  hidden: number;
  activation: ActivationName;
  /** maxpool kernel / stride / padding: 3/2/1 as scalingDTP; 2/2/0 gives non-overlapping pools. */
  pool: [number, number, number];
  norm: BlockNorm;
}
export const LENET_DEFAULTS: LeNetConfig = { channels: [32, 64], hidden: 512, activation: 'elu', pool: [3, 2, 1], norm: 'none' };

export function lenet(input: [number, number, number], c: Partial<LeNetConfig> = {}): Network {
  const cfg = { ...LENET_DEFAULTS, ...c };
  const [k, s, p] = cfg.pool;
  const out = (n: number) => Math.floor((n + 2 * p - k) / s) + 1;
  let [cin, h, w] = input;
  const blocks: Sequential[] = [];
  for (const cout of cfg.channels) {
    blocks.push(hiddenBlock([new Conv2d(cin, cout, 5, 1, 2), new Activation(cfg.activation), new MaxPool2d(k, s, p)], cfg.norm));
    cin = cout;
    h = out(h);
    w = out(w);
  }
  blocks.push(hiddenBlock([new Flatten(), new Linear(cin * h * w, cfg.hidden), new Activation(cfg.activation)], cfg.norm));
  blocks.push(new Sequential([new Linear(cfg.hidden, 10)]));
  return new Network('lenet', blocks, input);
}
