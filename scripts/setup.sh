#!/usr/bin/env bash
# Sets up a fresh Debian machine for layerwise: the system packages the native addon builds
# against (C++ toolchain, CMake, OpenBLAS with OpenMP, oneDNN), the Fashion-MNIST dataset, the npm
# dependencies (npm ci), then builds the addon and the TypeScript (npm run build).
# With CI=true also the aarch64 cross compiler. Safe to run again: installed packages are skipped. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(g++ cmake make libopenblas-dev libopenblas0-openmp libdnnl-dev dataset-fashion-mnist)
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
npm run build
