// One strict schema for training configs, whether they come from a file, flags or the library:
// unknown keys and wrong types fail before any work, naming the key path ('optimizer.momentum')
// and, for a misspelt key, the closest known one. Numeric strings are refused ("0.1" is not 0.1).

type Rule =
  | { t: 'number'; min?: number; exclusiveMin?: boolean; int?: boolean; max?: number }
  | { t: 'string'; oneOf?: readonly string[] }
  | { t: 'boolean' }
  | { t: 'strings' }
  /** A name, or an object { kind: name } (the form the forward optimizer takes). */
  | { t: 'nameOrKind'; oneOf: string[] }
  | { t: 'object'; fields: Record<string, Rule>; required?: string[] }
  /** An open object whose fields another check owns (a model's config: checkModelConfig). */
  | { t: 'record' }
  | { t: 'tuple'; items: Rule[] }
  /** A number, or one number per block. */
  | { t: 'perBlock'; item: Rule & { t: 'number' } }
  /** Objects told apart by their `kind`. */
  | { t: 'kinds'; kinds: Record<string, Record<string, Rule>> };

const num = (min?: number, o: { exclusiveMin?: boolean; int?: boolean; max?: number } = {}): Rule => ({ t: 'number', min, ...o });
const int = (min: number, max?: number): Rule => ({ t: 'number', min, int: true, max });
const pos = num(0, { exclusiveMin: true });
const nonNeg = num(0);
const str = (oneOf?: readonly string[]): Rule => ({ t: 'string', oneOf });
const bool: Rule = { t: 'boolean' };

const OPTIMIZER: Rule = {
  t: 'kinds',
  kinds: {
    sgd: { momentum: nonNeg, weightDecay: nonNeg, nesterov: bool },
    adam: { betas: { t: 'tuple', items: [num(0, { max: 1 }), num(0, { max: 1 })] }, eps: pos, weightDecay: nonNeg },
    adamw: { betas: { t: 'tuple', items: [num(0, { max: 1 }), num(0, { max: 1 })] }, eps: pos, weightDecay: nonNeg },
  },
};
const SCHEDULE: Rule = {
  t: 'kinds',
  kinds: { constant: {}, cosine: { tMax: int(1), etaMin: nonNeg, warmup: int(0) }, step: { stepSize: int(1), gamma: pos } },
};
const FEEDBACK: Rule = {
  t: 'object',
  fields: {
    iterations: { t: 'perBlock', item: { t: 'number', min: 0, int: true } },
    lr: { t: 'perBlock', item: { t: 'number', min: 0 } },
    optimizer: { t: 'nameOrKind', oneOf: ['sgd', 'adam'] },
    sigma: { t: 'perBlock', item: { t: 'number', min: 0, exclusiveMin: true } },
    momentum: nonNeg,
    init: { t: 'kinds', kinds: { default: {}, forward: {}, uniform: { scale: pos } } },
    topTarget: str(['gradient', 'learned']),
    pretrainEpochs: int(0),
  },
};
const FEEDBACK_MODE: Rule = {
  t: 'object',
  fields: {
    activation: str(['integral', 'hadamard', 'linear', 'inverse']),
    pool: str(['unpool', 'adjoint']),
    layerNorm: str(['decomposed', 'exact']),
    linear: str(['transpose', 'inverse', 'pinv']),
    coupling: str(['inverse', 'transpose']),
  },
  required: ['activation', 'pool', 'layerNorm', 'linear', 'coupling'],
};

/** Every TrainConfig field and what it may hold (src/experiments/config.ts documents each). */
export const TRAIN_SCHEMA: Record<string, Rule> = {
  name: str(),
  tags: { t: 'strings' },
  device: str(),
  model: str(),
  modelConfig: { t: 'record' },
  // names are checked after the types, by validateConfig, with the list of what exists
  data: str(),
  method: str(),
  epochs: int(1),
  batchSize: int(1),
  lr: pos,
  beta: pos,
  optimizer: OPTIMIZER,
  schedule: SCHEDULE,
  feedback: FEEDBACK,
  feedbackMode: FEEDBACK_MODE,
  seed: int(0),
  augment: bool,
  trainSubset: int(1),
  testSubset: int(1),
  valSize: int(1),
  earlyStop: { t: 'object', fields: { patience: int(1) }, required: ['patience'] },
  diagnosticsEvery: int(0),
  diagnosticsBeta: pos,
};

/** Edit distance, for 'did you mean' on a misspelt key. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

function unknownKey(path: string, key: string, known: string[]): Error {
  const near = known.filter((k) => distance(k.toLowerCase(), key.toLowerCase()) <= Math.max(2, Math.floor(key.length / 3))).sort((x, y) => distance(x, key) - distance(y, key));
  const at = path ? `${path}.${key}` : key;
  return new Error(`unknown key '${at}'${near.length ? ` (did you mean '${path ? `${path}.` : ''}${near[0]}'?)` : ''}; known: ${known.join(', ')}`);
}

const show = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

function check(v: unknown, r: Rule, path: string): void {
  const fail = (want: string) => {
    throw new Error(`${path} must be ${want}, got ${show(v)}`);
  };
  switch (r.t) {
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(typeof v === 'string' ? 'a number (not a string)' : 'a finite number');
      const n = v as number;
      if (r.int && !Number.isInteger(n)) fail('an integer');
      if (r.min !== undefined && (r.exclusiveMin ? n <= r.min : n < r.min)) fail(`${r.exclusiveMin ? '>' : '>='} ${r.min}`);
      if (r.max !== undefined && n > r.max) fail(`<= ${r.max}`);
      return;
    }
    case 'string':
      if (typeof v !== 'string') fail('a string');
      if (r.oneOf && !r.oneOf.includes(v as string)) fail(`one of ${r.oneOf.join(', ')}`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') fail('true or false');
      return;
    case 'nameOrKind':
      if (typeof v === 'string') return check(v, { t: 'string', oneOf: r.oneOf }, path);
      return checkFields(v, { kind: { t: 'string', oneOf: r.oneOf } }, path, ['kind']);
    case 'strings':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail('an array of strings');
      return;
    case 'record':
      if (!v || typeof v !== 'object' || Array.isArray(v)) fail('an object');
      return;
    case 'tuple':
      if (!Array.isArray(v) || v.length !== r.items.length) fail(`an array of ${r.items.length}`);
      (v as unknown[]).forEach((x, i) => check(x, r.items[i], `${path}[${i}]`));
      return;
    case 'perBlock':
      if (Array.isArray(v)) v.forEach((x, i) => check(x, r.item, `${path}[${i}]`));
      else check(v, r.item, path);
      return;
    case 'object':
      checkFields(v, r.fields, path, r.required ?? []);
      return;
    case 'kinds': {
      if (!v || typeof v !== 'object' || Array.isArray(v)) fail(`an object with a kind (${Object.keys(r.kinds).join(', ')})`);
      const kind = (v as { kind?: unknown }).kind;
      if (typeof kind !== 'string' || !Object.hasOwn(r.kinds, kind)) throw new Error(`${path}.kind must be one of ${Object.keys(r.kinds).join(', ')}, got ${show(kind)}`);
      checkFields(v, { kind: str(), ...r.kinds[kind] }, path, []);
      return;
    }
  }
}

function checkFields(v: unknown, fields: Record<string, Rule>, path: string, required: string[]): void {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${path || 'config'} must be an object, got ${show(v)}`);
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!Object.hasOwn(fields, k)) throw unknownKey(path, k, Object.keys(fields));
    if (x === undefined) continue;
    check(x, fields[k], path ? `${path}.${k}` : k);
  }
  for (const k of required) if ((v as Record<string, unknown>)[k] === undefined) throw new Error(`${path ? `${path}.` : ''}${k} is required`);
}

/** Checks a (partial or full) training config against TRAIN_SCHEMA; throws naming the first bad key path. */
export function checkTrainConfig(c: unknown): void {
  checkFields(c, TRAIN_SCHEMA, '', []);
}
