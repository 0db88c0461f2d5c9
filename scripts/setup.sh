#!/usr/bin/env bash
# Sets up a fresh Debian machine for layerwise: the system packages the native addon builds
# against (C++ toolchain, CMake, OpenBLAS with OpenMP, oneDNN), the Fashion-MNIST dataset, the npm
# dependencies (npm ci), then builds the addon and the TypeScript (npm run build).
# With CI=true also the aarch64 cross compiler. Safe to run again: installed packages are skipped. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(g++ cmake make libopenblas-dev libopenblas0-openmp libdnnl-dev libjpeg62-turbo-dev dataset-fashion-mnist)
# CI also checks that native/cpu compiles for aarch64 (scripts/check-aarch64.sh).
if [ "${CI:-}" = "true" ]; then PACKAGES+=(g++-aarch64-linux-gnu); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
# With the CUDA compiler present, the cuDNN/cuBLASLt wheels too, so that the build also compiles
# and links the CUDA backend build/Release/layerwise_cuda.so (CI does this on every run).
# With nvcc present, the CUDA libraries for the CUDA backend; without them (no pip, no network) the
# build makes the CPU backend alone, except in CI, which must build and link the CUDA library.
if command -v nvcc >/dev/null 2>&1 || [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then
  bash scripts/setup-cuda.sh || {
    [ "${CI:-}" = "true" ] && exit 1
    echo "setup: the CUDA libraries could not be installed; building the CPU backend only" >&2
  }
fi
npm run build
