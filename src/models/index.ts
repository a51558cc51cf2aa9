// Model registry: every model builds from a name, an input shape and a plain config object.
import { tidyBuild } from '../engine';
import { BLOCK_NORMS, Network } from './network';
import { LENET_DEFAULTS, lenet } from './lenet';
import { VGG_DEFAULTS, simpleVgg } from './vgg';
import { MLP_DEFAULTS, mlp } from './mlp';
import { MIXER_DEFAULTS, REVERSIBLE_MIXER_DEFAULTS, mixer, reversibleMixer } from './mixer';

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

/** Each model's config defaults: the fields (and their types) a model config may set. */
const DEFAULTS: Record<ModelName, object> = {
  lenet: LENET_DEFAULTS,
  'simple-vgg': VGG_DEFAULTS,
  mlp: MLP_DEFAULTS,
  mixer: MIXER_DEFAULTS,
  'reversible-mixer': REVERSIBLE_MIXER_DEFAULTS,
};
/** Fields whose value is one of a few names. */
const CHOICES: Record<string, readonly string[]> = { norm: BLOCK_NORMS };

/** A misspelt or mistyped model field fails here, before any data loads, instead of being ignored. */
export function checkModelConfig(name: ModelName, config: Record<string, unknown>): void {
  const defaults = DEFAULTS[name] as Record<string, unknown>;
  for (const [k, v] of Object.entries(config)) {
    if (!Object.hasOwn(defaults, k)) throw new Error(`model '${name}' has no config field '${k}' (fields: ${Object.keys(defaults).join(', ')})`);
    const want = Array.isArray(defaults[k]) ? 'array' : typeof defaults[k];
    const got = Array.isArray(v) ? 'array' : typeof v;
    if (want !== got) throw new Error(`model '${name}' field '${k}' must be a ${want}, got ${JSON.stringify(v)}`);
    if (CHOICES[k] && !CHOICES[k].includes(v as string)) throw new Error(`model '${name}' field '${k}' must be one of ${CHOICES[k].join(', ')}, got '${v}'`);
  }
}

export function buildModel(name: string, input: [number, number, number], config: Record<string, unknown> = {}): Network {
  const f = Object.hasOwn(MODELS, name) ? (MODELS as Record<string, (i: [number, number, number], c: Record<string, unknown>) => Network>)[name] : undefined;
  if (!f) throw new Error(`unknown model '${name}' (expected one of: ${Object.keys(MODELS).join(', ')})`);
  checkModelConfig(name as ModelName, config);
  // a builder that throws halfway (say, a layer size the shapes reject) frees what it made
  return tidyBuild(() => f(input, config));
}
export * from './safetensors';
