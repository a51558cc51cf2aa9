// npm run bench:layers: where a TP step's time goes, per layer class and phase (forward,
// feedback, feedbackDiff), on random data. Wraps each leaf layer's methods with a timer
// (outermost call only, so nested calls are not counted twice). ops run synchronously on the
// CPU, so wall time per call is the op time. BENCH_MODEL, BENCH_METHOD (default tjml), BENCH_STEPS.
import { createMethod, MethodName } from '../src/methods';
import { buildModel } from '../src/models';
import { manualSeed, randn, tensor, tick, tidy, OptimizerSpec } from '../src/engine';
import { TargetProp } from '../src/methods/tp';
import * as layers from '../src/layers';

const model = process.env.BENCH_MODEL ?? 'mixer';
const methodName = (process.env.BENCH_METHOD ?? 'tjml') as MethodName;
const steps = Number(process.env.BENCH_STEPS ?? 5);
const input: [number, number, number] = model === 'lenet' ? [1, 28, 28] : [3, 32, 32];
const COMPOSITE = ['Sequential', 'Residual', 'AdditiveCoupling'];

const ms: Record<string, number> = {};
let depth = 0;
for (const [name, cls] of Object.entries(layers)) {
  const proto = (cls as { prototype?: object }).prototype as Record<string, unknown> | undefined;
  if (!proto || !(proto instanceof layers.Layer) || COMPOSITE.includes(name)) continue;
  for (const fn of ['forward', 'feedback', 'feedbackDiff']) {
    const orig = proto[fn] as (...a: unknown[]) => unknown;
    proto[fn] = function (this: unknown, ...a: unknown[]) {
      if (depth > 0) return orig.apply(this, a);
      depth++;
      const t = performance.now();
      try {
        return orig.apply(this, a);
      } finally {
        depth--;
        ms[`${name}.${fn}`] = (ms[`${name}.${fn}`] ?? 0) + performance.now() - t;
      }
    };
  }
}

async function main(): Promise<void> {
  manualSeed(0);
  const B = 128;
  const x = randn([B, ...input]).keep();
  const y = tensor(BigInt64Array.from({ length: B }, (_, i) => BigInt(i % 10)), [B]).keep();
  const net = buildModel(model, input, {});
  const m = createMethod(net, { method: methodName, lr: 1e-3, beta: 0.01, optimizer: { kind: 'sgd' } as OptimizerSpec });
  if (!(m instanceof TargetProp)) throw new Error(`BENCH_METHOD must be a TP method, got '${methodName}'`);
  const phase: Record<string, number> = { forward: 0, 'targets + local gradients': 0 };
  for (let i = 0; i <= steps; i++) {
    if (i === 1) for (const k of Object.keys(ms)) delete ms[k], Object.keys(phase).forEach((p) => (phase[p] = 0));
    tidy(() => {
      let t = performance.now();
      const fp = m.forwardPass(x);
      phase.forward += performance.now() - t;
      t = performance.now();
      m.targetsAndGradients(fp, y, 0.01); // as a step runs them: one sweep from the top
      phase['targets + local gradients'] += performance.now() - t;
    });
    await tick();
  }
  console.log(`${model} ${methodName}, batch ${B}, mean of ${steps} steps (ms)`);
  for (const [k, v] of Object.entries(phase)) console.log(`  ${k.padEnd(28)} ${(v / steps).toFixed(1)}`);
  console.log('per layer class (outermost calls):');
  for (const [k, v] of Object.entries(ms).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(28)} ${(v / steps).toFixed(1)}`);
  m.dispose();
  net.dispose();
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
