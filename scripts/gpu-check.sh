#!/usr/bin/env bash
# On a machine with CUDA PyTorch (pip): builds the addon against the libtorch inside the torch
# package, runs the whole test suite on the GPU (TARGETPROP_DEVICE=cuda), then bench:engine
# (targetprop BP vs PyTorch on the same GPU) and bench:methods (TJML, tjml-exact, LDRL vs BP).
# Node comes from .gpu/ when the machine has none (scripts/gpu-pack.sh made it). Results go to
# $OUT (or .cache/gpu) as logs.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.cache/gpu}"
mkdir -p "$out"
PY="${PYTHON:-python3}"
if ! command -v node >/dev/null; then
  [ -f .gpu/node.xz ] || { echo "gpu-check: no node here and no .gpu/ bundle (run scripts/gpu-pack.sh where node is)" >&2; exit 1; }
  mkdir -p .gpu/bin && xz -dc .gpu/node.xz > .gpu/bin/node && chmod +x .gpu/bin/node
  tar -C .gpu -xJf .gpu/node-headers.tar.xz
  mkdir -p node_modules && tar -C node_modules -xJf .gpu/node_modules.tar.xz
  export PATH="$PWD/.gpu/bin:$PATH"
  nodedir="$PWD/.gpu"
fi
"$PY" -c 'import torch; assert torch.cuda.is_available(), "torch sees no CUDA device"; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$out/torch.txt"
export LIBTORCH="$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
# the addon must use the C++ ABI the torch wheel was built with
export TORCH_CXX11_ABI="$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
node node_modules/node-gyp/bin/node-gyp.js rebuild ${nodedir:+--nodedir="$nodedir"} > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
node -e "const e=require('./dist/src/engine'); console.log(JSON.stringify(e.cudaInfo()))" | tee "$out/cuda.json"
status=0
TARGETPROP_DEVICE=cuda node --expose-gc --test --test-concurrency=1 dist/test/ > "$out/tests.log" 2>&1 || status=1
grep -E '^# (tests|pass|fail)' "$out/tests.log" || true
BENCH_DEVICE=cuda PYTHON="$PY" BENCH_LENET_STEPS=50 BENCH_VGG_STEPS=20 node dist/bench/engine.js 2>&1 | tee "$out/bench-engine.txt" || status=1
for m in lenet simple-vgg mixer; do
  BENCH_DEVICE=cuda BENCH_MODEL=$m BENCH_METHODS=tjml,tjml-exact,ldrl node dist/bench/methods.js 2>&1 | tee "$out/bench-methods-$m.txt" || status=1
done
exit $status
