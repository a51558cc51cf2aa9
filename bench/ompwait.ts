// npm run bench:omp: OpenMP's wait policy (OMP_WAIT_POLICY, read once when libgomp loads, so
// each measurement is a child process) on an idle machine and on one with busy processes beside
// it, for LeNet and Mixer BP steps at 1 thread and at all threads. Rounds alternate the settings.
// BENCH_ROUNDS (default 3), BENCH_LOAD (busy processes for the loaded case; default: cores - 1).
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { median } from '../src/experiments/stats';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const cores = os.availableParallelism();
const load = Number(process.env.BENCH_LOAD ?? Math.max(1, cores - 1));
const POLICIES = ['ACTIVE', 'PASSIVE'];
const child = path.join(__dirname, 'ompstep.js');

function run(model: string, threads: number, policy: string): number {
  const env = { ...process.env, OMP_WAIT_POLICY: policy, TARGETPROP_THREADS: String(threads), BENCH_MODEL: model };
  return Number(execFileSync(process.execPath, [child], { env, encoding: 'utf8' }).trim());
}

function spinners(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

function main(): void {
  console.log(`OMP_WAIT_POLICY, ${cores} cores; loaded = ${load} busy process(es) beside the run; img/s, median of ${rounds} (x: PASSIVE / ACTIVE)`);
  console.log('| model | threads | machine | ACTIVE img/s | PASSIVE img/s | x |');
  console.log('|---|---|---|---|---|---|');
  for (const model of ['lenet', 'mixer'])
    for (const threads of [...new Set([1, cores])])
      for (const loaded of [false, true]) {
        const busy = loaded ? spinners(load) : [];
        try {
          const t: Record<string, number[]> = { ACTIVE: [], PASSIVE: [] };
          for (let r = 0; r < rounds; r++) for (const p of POLICIES) t[p].push(run(model, threads, p));
          const [a, p] = [median(t.ACTIVE), median(t.PASSIVE)];
          console.log(`| ${model} | ${threads} | ${loaded ? 'loaded' : 'idle'} | ${a.toFixed(0)} | ${p.toFixed(0)} | ${(p / a).toFixed(2)} |`);
        } finally {
          busy.forEach((b) => b.kill('SIGKILL'));
        }
      }
}

main();
