// The PyTorch reference (bench/reference/torch_methods.py, Debian python3-torch; PYTHON overrides
// the interpreter) as bench:engine and bench:methods run it: one child per measurement.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

// glibc hands large freed buffers back to the OS, so PyTorch on the CPU page-faults on every fresh
// activation: 2.1x slower LeNet BP steps on this machine (measured 0.50 vs 1.07 ms/image, 2
// threads). Keeping them in the heap gives PyTorch what targetprop's caching allocator gives
// targetprop, so the reference runs at its best (BENCH_TORCH_MALLOC=default leaves glibc's
// defaults, to measure the difference). OpenBLAS at one thread: libtorch's OpenMP pool does the
// threading.
const KEEP_FREED = { MALLOC_MMAP_THRESHOLD_: String(2 ** 34), MALLOC_TRIM_THRESHOLD_: String(2 ** 34), MALLOC_TOP_PAD_: String(2 ** 30) };
const TORCH_ENV = { OPENBLAS_NUM_THREADS: '1', ...(process.env.BENCH_TORCH_MALLOC === 'default' ? {} : KEEP_FREED) };

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(__dirname, '..', '..', 'bench', 'reference', 'torch_methods.py');

/** Whether the interpreter can import torch. */
export function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** PyTorch's seconds per training image for a model ('lenet', 'simple-vgg', 'mixer') and step ('bp' or 'tjml-exact'). */
export function torchSecondsPerImage(model: string, method: 'bp' | 'tjml-exact', batch: number, steps: number, threads: number, device: string): number {
  const out = execFileSync(PYTHON, [SCRIPT, model, method, String(batch), String(steps), String(threads), device], {
    encoding: 'utf8',
    env: { ...process.env, ...TORCH_ENV },
  });
  return Number(out.trim());
}
