// MLP (FW-DTP's architecture family): flatten -> depth-1 x [linear -> act] -> linear 10.
import { ActivationName } from '../engine';
import { Activation, BatchStandardize, Flatten, Layer, Linear, Sequential } from '../layers';
import { Network } from './network';

export interface MLPConfig {
  hidden: number;
  depth: number;
  activation: ActivationName;
  /** 'batch': every hidden block ends in a batch standardization (FW-DTP's "-BN" networks). */
  norm: 'none' | 'batch';
}
export const MLP_DEFAULTS: MLPConfig = { hidden: 256, depth: 6, activation: 'tanh', norm: 'none' };

export function mlp(input: [number, number, number], c: Partial<MLPConfig> = {}): Network {
  const cfg = { ...MLP_DEFAULTS, ...c };
  const din = input[0] * input[1] * input[2];
  const blocks: Sequential[] = [];
  for (let i = 0; i < cfg.depth - 1; i++) {
    const layers: Layer[] = [new Linear(i ? cfg.hidden : din, cfg.hidden), new Activation(cfg.activation)];
    if (cfg.norm === 'batch') layers.push(new BatchStandardize());
    blocks.push(new Sequential(i ? layers : [new Flatten(), ...layers]));
  }
  blocks.push(new Sequential([new Linear(cfg.hidden, 10)]));
  return new Network('mlp', blocks, input);
}
