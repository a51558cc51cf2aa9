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
  # libtorch-dev: the tensor engine; libopenblas0-pthread: fast GEMM (Debian's default is the
  # reference BLAS); dataset-fashion-mnist: offline Fashion-MNIST; g++/make/python3: node-gyp.
  $SUDO apt-get install -y -q --no-install-recommends libtorch-dev libopenblas0-pthread dataset-fashion-mnist g++ make python3 ca-certificates
fi
npm ci --no-audit --no-fund
npm run build
if [ -z "${SKIP_MAIN_JOB:-}" ]; then
  node dist/src/cli/main.js train
fi
