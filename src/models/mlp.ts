// MLP (FW-DTP's architecture family): flatten -> depth-1 x [linear -> act] -> linear 10.
import { ActivationName } from '../engine';
import { Activation, Flatten, Linear, Sequential } from '../layers';
import { BlockNorm, Network, hiddenBlock } from './network';

export interface MLPConfig {
  hidden: number;
  depth: number;
  activation: ActivationName;
  norm: BlockNorm;
}
export const MLP_DEFAULTS: MLPConfig = { hidden: 256, depth: 6, activation: 'tanh', norm: 'none' };

export function mlp(input: [number, number, number], c: Partial<MLPConfig> = {}): Network {
  const cfg = { ...MLP_DEFAULTS, ...c };
  const din = input[0] * input[1] * input[2];
  const blocks: Sequential[] = [];
  for (let i = 0; i < cfg.depth - 1; i++) {
    const layers = [new Linear(i ? cfg.hidden : din, cfg.hidden), new Activation(cfg.activation)];
    blocks.push(hiddenBlock(i ? layers : [new Flatten(), ...layers], cfg.norm));
  }
  blocks.push(new Sequential([new Linear(cfg.hidden, 10)]));
  return new Network('mlp', blocks, input);
}
