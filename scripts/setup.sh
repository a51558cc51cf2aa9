#!/usr/bin/env bash
# One-command setup on a fresh Debian/Ubuntu machine: system packages (libtorch, OpenBLAS,
# Fashion-MNIST), npm packages, the native engine build, then the main job (a short LeNet on
# MNIST with TJML-DTP). Set SKIP_MAIN_JOB=1 to only install.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if [ -z "${LIBTORCH:-}" ] && command -v apt-get >/dev/null; then
  $SUDO apt-get update -q
  # libtorch-dev: the tensor engine; libopenblas0-openmp: fast GEMM (Debian's default is the
  # reference BLAS); dataset-fashion-mnist: offline Fashion-MNIST; g++/make/python3: node-gyp.
  $SUDO apt-get install -y -q --no-install-recommends libtorch-dev libopenblas0-openmp dataset-fashion-mnist g++ make python3 ca-certificates
  # The OpenMP OpenBLAS shares libtorch's thread pool, so GEMMs may use every core (a pthreads
  # OpenBLAS must be held at one thread): select it even where the pthreads build is installed
  # too, which the alternatives system would otherwise prefer.
  omp_dir="$(dirname "$(ls -d /usr/lib/*/openblas-openmp | head -1)")"
  for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    $SUDO update-alternatives --set "$lib-$(basename "$omp_dir")" "$omp_dir/openblas-openmp/$lib"
  done
fi
npm ci --no-audit --no-fund
npm run build
if [ -z "${SKIP_MAIN_JOB:-}" ]; then
  node dist/src/cli/main.js train
fi
