// The environment of the PyTorch reference children (bench:engine, bench:methods). glibc hands
// large freed buffers back to the OS, so PyTorch on the CPU page-faults on every fresh activation:
// 2.1x slower LeNet BP steps on this machine (measured 0.50 vs 1.07 ms/image, 2 threads). Keeping
// them in the heap gives PyTorch what targetprop's caching allocator gives targetprop, so the
// reference runs at its best. OpenBLAS at one thread: libtorch's OpenMP pool does the threading.
export const TORCH_ENV = {
  OPENBLAS_NUM_THREADS: '1',
  MALLOC_MMAP_THRESHOLD_: String(2 ** 34),
  MALLOC_TRIM_THRESHOLD_: String(2 ** 34),
  MALLOC_TOP_PAD_: String(2 ** 30),
};
