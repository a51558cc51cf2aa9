// npm run bench:methods: seconds per training step of each method on one model, as ratios to
// BP and to LDRL measured in this same process (rounds interleave methods to share the noise).
// BENCH_MODEL=lenet|simple-vgg|mixer|reversible-mixer, BENCH_STEPS, BENCH_ROUNDS, BENCH_METHODS=bp,tjml,...
// (default: all; bp is always included as the reference), BENCH_BATCH (default: each method's
// grid batch size; set it to compare steps at one batch size). LDRL/DRL use the grids' settings.
// On LeNet, Simplified-VGG and the Mixer, PyTorch's BP and its cheapest exact TJML-DTP step (one
// VJP per block, bench/reference/torch_methods.py; Debian python3-torch) run in the same rounds,
// at the same thread count and batch; BENCH_TORCH=0 leaves them out.
import { createMethod, MethodName } from '../src/methods';
import { torchAvailable, torchSecondsPerImage } from './torchref';
import { buildModel } from '../src/models';
import { median } from '../src/experiments/stats';
import { manualSeed, now, randn, tensor, tick, getNumThreads, OptimizerSpec, defaultDevice, setDefaultDevice, blasInfo, blasChoice } from '../src/engine';

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

const cellOf = (method: MethodName) =>
  (grid(table, 'full', 1).find((c) => c.config.method === method) ?? grid(table, 'full', 1).find((x) => x.config.method === 'tjml')!).config;
const batchOf = (method: MethodName) => Number(process.env.BENCH_BATCH ?? cellOf(method).batchSize ?? 128);

/** PyTorch rows: 'torch bp' and 'torch tjml-exact' (one VJP per block), where the reference has the model. */
const TORCH_MODELS = ['lenet', 'simple-vgg', 'mixer'];
const torchRows = process.env.BENCH_TORCH !== '0' && TORCH_MODELS.includes(model) && torchReady() ? (['bp', 'tjml-exact'] as const) : [];
function torchReady(): boolean {
  if (torchAvailable()) return true;
  console.log('(PyTorch reference left out: no python3-torch; apt-get install python3-torch, or PYTHON=...)');
  return false;
}
const torchStep = (method: 'bp' | 'tjml-exact') => torchSecondsPerImage(model, method, batchOf(method), steps, getNumThreads(), defaultDevice());

async function timeStep(method: MethodName): Promise<number> {
  const c = cellOf(method);
  manualSeed(0);
  const net = buildModel(model, input, c.modelConfig ?? {});
  const m = createMethod(net, { method, lr: c.lr!, beta: c.beta ?? 0.5, optimizer: c.optimizer as OptimizerSpec, feedback: c.feedback as never });
  const B = batchOf(method);
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
  for (let r = 0; r < rounds; r++) {
    for (const m of methods) (t[m] ??= []).push(await timeStep(m));
    for (const m of torchRows) (t[`pytorch ${m}`] ??= []).push(torchStep(m));
  }
  const batches = process.env.BENCH_BATCH ? `batch ${process.env.BENCH_BATCH} for every method` : `batch sizes from the ${table} grid`;
  const blas = blasInfo();
  const where = defaultDevice() === 'cpu' ? `${getNumThreads()} threads, BLAS core ${blas.core ?? blas.name} (${blasChoice().source})` : defaultDevice();
  console.log(`${model}, ${where}, ${batches}, median of ${rounds} rounds x ${steps} steps`);
  const med = (k: string) => median(t[k]);
  const tb = torchRows.length > 0;
  console.log(`| method | ms/image | x BP |${tb ? ' x PyTorch BP | x PyTorch TJML (one VJP per block) |' : ''} LDRL / method |`);
  console.log(`|---|---|---|${tb ? '---|---|' : ''}---|`);
  const vsLdrl = (m: string) => (t.ldrl ? (med('ldrl') / med(m)).toFixed(2) : '-');
  const vsTorch = (m: string) => (tb ? ` ${(med(m) / med('pytorch bp')).toFixed(2)} | ${(med(m) / med('pytorch tjml-exact')).toFixed(2)} |` : '');
  for (const m of Object.keys(t)) console.log(`| ${m} | ${(1000 * med(m)).toFixed(3)} | ${(med(m) / med('bp')).toFixed(2)} |${vsTorch(m)} ${vsLdrl(m)} |`);
  for (const m of ['tjml', 'tjml-exact'].filter((k) => t[k]))
    console.log(
      `${m}: ${(med(m) / med('bp')).toFixed(2)}x our BP per image` +
        (tb ? `, ${(med(m) / med('pytorch tjml-exact')).toFixed(2)}x PyTorch's one-VJP TJML` : '') +
        (t.ldrl ? `, ${vsLdrl(m)}x faster than LDRL` : ''),
    );
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
