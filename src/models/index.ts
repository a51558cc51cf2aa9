// Model registry: every model builds from a name, an input shape and a plain config object.
import { Network } from './network';
import { lenet } from './lenet';
import { simpleVgg } from './vgg';
import { mlp } from './mlp';
import { mixer, reversibleMixer } from './mixer';

export * from './network';
export * from './lenet';
export * from './vgg';
export * from './mlp';
export * from './mixer';

export const MODELS = {
  lenet,
  'simple-vgg': simpleVgg,
  mlp,
  mixer,
  'reversible-mixer': reversibleMixer,
} as const;
export type ModelName = keyof typeof MODELS;

export function buildModel(name: string, input: [number, number, number], config: Record<string, unknown> = {}): Network {
  const f = (MODELS as Record<string, (i: [number, number, number], c: Record<string, unknown>) => Network>)[name];
  if (!f) throw new Error(`unknown model '${name}' (expected one of: ${Object.keys(MODELS).join(', ')})`);
  return f(input, config);
}
