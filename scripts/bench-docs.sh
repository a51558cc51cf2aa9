#!/bin/bash
# npm run bench:docs: reruns every benchmark quoted in the docs and writes docs/results/bench-*.md,
# each headed by the command that produced it. Run it on a quiet machine: the ratios are measured
# within one process, but other load still adds noise.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
out=docs/results
methods() { # file, env assignments...
  local f=$1; shift
  { echo "# \`$* npm run bench:methods\` (this machine, $(nproc) cores)"; echo; env "$@" node dist/bench/methods.js; } > "$out/$f"
  cat "$out/$f"
}
methods bench-methods-lenet.md BENCH_MODEL=lenet BENCH_BATCH=256 BENCH_STEPS=3 BENCH_ROUNDS=5
methods bench-methods-simple-vgg.md BENCH_MODEL=simple-vgg BENCH_BATCH=128 BENCH_METHODS=tjml,tjml-exact,fwdtp,ldrl BENCH_STEPS=2 BENCH_ROUNDS=3
methods bench-methods-mixer.md BENCH_MODEL=mixer BENCH_BATCH=128 BENCH_METHODS=tjml,tjml-exact,fwdtp,ldrl BENCH_STEPS=4 BENCH_ROUNDS=3
methods bench-methods-reversible-mixer.md BENCH_MODEL=reversible-mixer BENCH_METHODS=tjml,ldrl BENCH_STEPS=4 BENCH_ROUNDS=3
{ echo "# \`npm run bench:engine\` (this machine, $(nproc) cores)"; echo; node dist/bench/engine.js; } > "$out/bench-engine.md"
cat "$out/bench-engine.md"
{ echo "# \`npm run bench:omp\` (this machine, $(nproc) cores)"; echo; node dist/bench/ompwait.js; } > "$out/bench-omp.md"
cat "$out/bench-omp.md"
