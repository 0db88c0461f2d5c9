#!/usr/bin/env bash
# The one prepared GPU check (issue: CUDA backend): `npm run test:gpu` and `bench --suite cuda`
# on a GPU host that has no Node.js (the device machine), their figures written as JSON.
#
#   bash scripts/gpu-check.sh prepare   here, on the build machine: builds the addon and the CUDA
#        library (npm run build with nvcc), the bundle (scripts/bundle.sh: node, lib/, prebuilds/,
#        libs/), adds the test runner's packages (vitest and its dependencies) and packs it all into
#        .gpu-check/bundle.tar.xz (git-ignored; about 50 MB). Carry `.gpu-check` to the GPU host.
#   bash scripts/gpu-check.sh run [OUT]  on the GPU host, in a copy of this repository with
#        .gpu-check/ in it: unpacks the bundle, links its node_modules, lib/ and prebuilds/ into the
#        repository, finds cuDNN/cuBLAS where the host has them (CUDA_HOME, system paths, the nvidia
#        wheels of python3's environment), then writes to OUT (default $OUT, else ./gpu-check-out):
#          info.json        layerwise info --json (devices, library paths)
#          test-gpu.json    vitest's JSON report of the GPU suite (every kernel vs CPU, allocator, training)
#          test-gpu.log     its console output
#          bench-cuda.jsonl bench --suite cuda --json (with PyTorch's times when torch is installed there)
#        About 5-8 minutes on an H100/H200 (the suite 2-4, the benchmark 3-4). GPU_CHECK_PARTS=tests
#        or =bench runs one half (for a second try within a time limit); GPU_CHECK_BENCH_WORKLOADS=a,b
#        runs only those benchmark workloads.
#   Rehearsal without a GPU: LAYERWISE_CUDA_LIBRARY=$PWD/build/Release/layerwise_cuda_emulator.so
#        LAYERWISE_GPU_TRAIN_STEPS=8 LAYERWISE_BENCH_CUDA_BATCH=2 GPU_CHECK_BENCH_WORKLOADS=... with
#        `run` goes through every step on the CUDA emulator (docs/cuda.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"

case "$mode" in
  prepare)
    npm run build
    [ -f build/Release/layerwise_cuda.so ] || { echo "gpu-check: build/Release/layerwise_cuda.so was not built (nvcc and the CUDA wheels: scripts/setup-cuda.sh)" >&2; exit 1; }
    bash scripts/bundle.sh
    # The GPU suite runs under vitest: add the dev packages it needs (not the compilers' packages).
    tar -C node_modules --exclude=./typescript --exclude=./@types --exclude=./cmake-js -chf - . | tar -C .bundle/layerwise/node_modules -xf -
    mkdir -p .gpu-check
    tar -C .bundle -cf - layerwise | xz -6 -T0 > .gpu-check/bundle.tar.xz
    bytes=$(stat -c %s .gpu-check/bundle.tar.xz)
    echo "gpu-check: .gpu-check/bundle.tar.xz $bytes bytes ($((bytes / 1048576)) MiB; the carry limit is 64 MiB)"
    [ "$bytes" -lt $((64 * 1048576)) ] || { echo "gpu-check: the bundle is over 64 MiB" >&2; exit 1; }
    ;;
  run)
    out="${2:-${OUT:-$(pwd)/gpu-check-out}}"
    mkdir -p "$out"
    [ -f .gpu-check/bundle.tar.xz ] || { echo "gpu-check: .gpu-check/bundle.tar.xz is missing: run 'bash scripts/gpu-check.sh prepare' on the build machine and carry .gpu-check" >&2; exit 1; }
    work="${TMPDIR:-/tmp}/layerwise-gpu-check"
    rm -rf "$work" && mkdir -p "$work"
    xz -dc .gpu-check/bundle.tar.xz | tar -C "$work" -xf -
    b="$work/layerwise"
    for d in node_modules lib prebuilds; do rm -rf "$d"; ln -s "$b/$d" "$d"; done
    export PATH="$b/bin:$PATH"
    export LD_LIBRARY_PATH="$b/libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/nvidia-smi.csv" 2>&1 || true
    node lib/cli/main.js info --json > "$out/info.json" 2> "$out/info.err" || true
    parts="${GPU_CHECK_PARTS:-tests,bench}"
    status=0
    if [[ "$parts" == *tests* ]]; then
      node node_modules/vitest/vitest.mjs run -c vitest.gpu.config.mts --reporter=default --reporter=json \
        --outputFile.json="$out/test-gpu.json" > "$out/test-gpu.log" 2>&1 || status=$?
      tail -5 "$out/test-gpu.log"
    fi
    if [[ "$parts" == *bench* ]]; then
      node lib/cli/main.js bench --suite cuda --json --min-seconds 1 ${GPU_CHECK_BENCH_WORKLOADS:+--workloads "$GPU_CHECK_BENCH_WORKLOADS"} \
        > "$out/bench-cuda.jsonl" 2> "$out/bench-cuda.err" || status=$?
      cat "$out/bench-cuda.jsonl"
    fi
    exit $status
    ;;
  *)
    echo "usage: bash scripts/gpu-check.sh prepare | run [OUT]" >&2
    exit 1
    ;;
esac
