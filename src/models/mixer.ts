// MLP-Mixer: patch embedding -> blocks of [x + TokenMLP(LN(x))] and [x + ChannelMLP(LN(x))]
// -> LN -> mean over tokens -> FC. TP blocks: patch embed, each residual sub-block, head.
// The reversible variant swaps each pair of sub-blocks for an additive coupling.
import { ActivationName } from '../engine';
import { Activation, AdditiveCoupling, Conv2d, LayerNorm, Layer, Linear, Residual, Sequential, ToTokens, TokenMean, Transpose } from '../layers';
import { Network } from './network';

export interface MixerConfig {
  patch: number;
  width: number;
  tokenHidden: number;
  channelHidden: number;
  blocks: number;
  activation: ActivationName;
}
export const MIXER_DEFAULTS: MixerConfig = { patch: 4, width: 128, tokenHidden: 64, channelHidden: 512, blocks: 4, activation: 'leaky_relu' };

const mlpLayers = (din: number, hidden: number, act: ActivationName): Layer[] => [
  new Linear(din, hidden),
  new Activation(act),
  new Linear(hidden, din),
];

function tokens(input: [number, number, number], patch: number): number {
  if (input[1] % patch || input[2] % patch) throw new Error(`mixer: patch ${patch} does not divide a ${input[1]}x${input[2]} input`);
  return (input[1] / patch) * (input[2] / patch);
}

export function mixer(input: [number, number, number], c: Partial<MixerConfig> = {}): Network {
  const cfg = { ...MIXER_DEFAULTS, ...c };
  const T = tokens(input, cfg.patch);
  const C = cfg.width;
  const blocks: Sequential[] = [new Sequential([new Conv2d(input[0], C, cfg.patch, cfg.patch, 0), new ToTokens()])];
  for (let i = 0; i < cfg.blocks; i++) {
    blocks.push(
      new Sequential([
        new Residual([new LayerNorm(C), new Transpose(1, 2), ...mlpLayers(T, cfg.tokenHidden, cfg.activation), new Transpose(1, 2)]),
      ]),
    );
    blocks.push(new Sequential([new Residual([new LayerNorm(C), ...mlpLayers(C, cfg.channelHidden, cfg.activation)])]));
  }
  blocks.push(new Sequential([new LayerNorm(C), new TokenMean(), new Linear(C, 10)]));
  return new Network('mixer', blocks, input);
}

export interface ReversibleMixerConfig extends MixerConfig {
  /**
   * A LayerNorm at the start of f and g, as the Mixer's sub-blocks (and RevNet-style transformers)
   * have. Off by default: with it, inverse-feedback TJML fell sooner on the Table 4 sweep split
   * (lr 5e-4 and 1e-3, runs made before c14d435, now retired in docs/results/report.md).
   */
  preNorm: boolean;
}
export const REVERSIBLE_MIXER_DEFAULTS: ReversibleMixerConfig = { ...MIXER_DEFAULTS, preNorm: false };

/**
 * Reversible Mixer: each block is an additive coupling over channel halves, with a token MLP as f
 * and a channel MLP as g, so TJML can take its exact inverse as feedback (tjml-exact takes its J^T);
 * learned-feedback methods train an inverse of the same form with untied f' and g'.
 */
export function reversibleMixer(input: [number, number, number], c: Partial<ReversibleMixerConfig> = {}): Network {
  const cfg = { ...REVERSIBLE_MIXER_DEFAULTS, ...c };
  const T = tokens(input, cfg.patch);
  const C = cfg.width;
  if (C % 2) throw new Error(`reversible mixer: width must be even, got ${C}`);
  const h = C / 2;
  const blocks: Sequential[] = [new Sequential([new Conv2d(input[0], C, cfg.patch, cfg.patch, 0), new ToTokens()])];
  const norm = (): Layer[] => (cfg.preNorm ? [new LayerNorm(h)] : []);
  const f = () => [...norm(), new Transpose(1, 2), ...mlpLayers(T, cfg.tokenHidden, cfg.activation), new Transpose(1, 2)];
  const g = () => [...norm(), ...mlpLayers(h, cfg.channelHidden, cfg.activation)];
  // learned-feedback methods get an inverse of the same form with their own f' and g'
  for (let i = 0; i < cfg.blocks; i++) blocks.push(new Sequential([new AdditiveCoupling(f(), g(), h, () => [f(), g()])]));
  blocks.push(new Sequential([new LayerNorm(C), new TokenMean(), new Linear(C, 10)]));
  return new Network('reversible-mixer', blocks, input);
}
