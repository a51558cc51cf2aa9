// Simplified-VGG (scalingDTP's SimpleVGG): 5 x [conv3x3 p1 -> act -> maxpool 2/2] -> FC -> 10.
import { ActivationName } from '../engine';
import { Activation, Conv2d, Flatten, Linear, MaxPool2d, Sequential } from '../layers';
import { BlockNorm, Network, hiddenBlock } from './network';

export interface VGGConfig {
  channels: number[];
  activation: ActivationName;
  norm: BlockNorm;
}
export const VGG_DEFAULTS: VGGConfig = { channels: [128, 128, 256, 256, 512], activation: 'elu', norm: 'none' };

export function simpleVgg(input: [number, number, number], c: Partial<VGGConfig> = {}): Network {
  const cfg = { ...VGG_DEFAULTS, ...c };
  let [cin, h, w] = input;
  // each stage halves the map: check them all before any weights are made
  if (cfg.channels.length && Math.floor(Math.min(h, w) / 2 ** (cfg.channels.length - 1)) < 2)
    throw new Error(`simple-vgg: ${cfg.channels.length} pooling stages do not fit a ${input[1]}x${input[2]} input`);
  const blocks: Sequential[] = [];
  for (const cout of cfg.channels) {
    blocks.push(hiddenBlock([new Conv2d(cin, cout, 3, 1, 1), new Activation(cfg.activation), new MaxPool2d(2, 2)], cfg.norm));
    cin = cout;
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
  blocks.push(new Sequential([new Flatten(), new Linear(cin * h * w, 10)]));
  return new Network('simple-vgg', blocks, input);
}
