// npm run bench:methods: seconds per training step of each method on one model, as ratios to
// BP and to LDRL measured in this same process (rounds interleave methods to share the noise).
// BENCH_MODEL=lenet|simple-vgg|mixer|reversible-mixer, BENCH_STEPS, BENCH_ROUNDS, BENCH_METHODS=bp,tjml,...
// (default: all; bp is always included as the reference), BENCH_BATCH (default: each method's
// grid batch size; set it to compare steps at one batch size). LDRL/DRL use the grids' settings.
import { createMethod, MethodName } from '../src/methods';
import { buildModel } from '../src/models';
import { median } from '../src/experiments/stats';
import { manualSeed, now, randn, tensor, tick, getNumThreads, OptimizerSpec, defaultDevice, setDefaultDevice } from '../src/engine';

// BENCH_DEVICE (or TARGETPROP_DEVICE): where the steps run
if (process.env.BENCH_DEVICE) setDefaultDevice(process.env.BENCH_DEVICE);
import { grid } from '../src/experiments/grids';

const model = process.env.BENCH_MODEL ?? 'lenet';
const steps = Number(process.env.BENCH_STEPS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const ALL: MethodName[] = ['bp', 'tjml', 'tjml-exact', 'fwdtp', 'ldrl', 'dtp', 'drl'];
const methods: MethodName[] = process.env.BENCH_METHODS
  ? ['bp', ...(process.env.BENCH_METHODS.split(',') as MethodName[]).filter((m) => m !== 'bp')]
  : ALL;
for (const m of methods) if (!ALL.includes(m)) throw new Error(`BENCH_METHODS: unknown method '${m}' (${ALL.join(', ')})`);
const table = model === 'lenet' ? 'table1' : model === 'simple-vgg' ? 'table2' : model === 'mixer' ? 'table3' : 'table4';
const input: [number, number, number] = model === 'lenet' ? [1, 28, 28] : [3, 32, 32];

async function timeStep(method: MethodName): Promise<number> {
  const cell = grid(table, 'full', 1).find((c) => c.config.method === method);
  const c = cell?.config ?? grid(table, 'full', 1).find((x) => x.config.method === 'tjml')!.config;
  manualSeed(0);
  const net = buildModel(model, input, c.modelConfig ?? {});
  const m = createMethod(net, { method, lr: c.lr!, beta: c.beta ?? 0.5, optimizer: c.optimizer as OptimizerSpec, feedback: c.feedback as never });
  const B = Number(process.env.BENCH_BATCH ?? c.batchSize ?? 128);
  const x = randn([B, ...input]).keep();
  const y = tensor(BigInt64Array.from({ length: B }, (_, i) => BigInt(i % 10)), [B]).keep();
  m.step(x, y);
  const t = now();
  for (let i = 0; i < steps; i++) {
    m.step(x, y);
    await tick();
  }
  const perImage = (now() - t) / 1000 / (steps * B);
  m.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
  return perImage;
}

async function main(): Promise<void> {
  const t: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) for (const m of methods) (t[m] ??= []).push(await timeStep(m));
  const batches = process.env.BENCH_BATCH ? `batch ${process.env.BENCH_BATCH} for every method` : `batch sizes from the ${table} grid`;
  const where = defaultDevice() === "cpu" ? `${getNumThreads()} threads` : defaultDevice();
  console.log(`${model}, ${where}, ${batches}, median of ${rounds} rounds x ${steps} steps`);
  console.log('| method | ms/image | x BP | LDRL / method |');
  console.log('|---|---|---|---|');
  const vsLdrl = (m: string) => (t.ldrl ? (median(t.ldrl) / median(t[m])).toFixed(2) : '-');
  for (const m of methods) console.log(`| ${m} | ${(1000 * median(t[m])).toFixed(3)} | ${(median(t[m]) / median(t.bp)).toFixed(2)} | ${vsLdrl(m)} |`);
  if (t.tjml) console.log(`tjml: ${(median(t.tjml) / median(t.bp)).toFixed(2)}x BP per image${t.ldrl ? `, ${vsLdrl('tjml')}x faster than LDRL` : ''}`);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
