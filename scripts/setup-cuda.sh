#!/usr/bin/env bash
# Installs the CUDA libraries the CUDA backend (build/Release/layerwise_cuda.so) links against:
# NVIDIA's Python wheels of cuDNN 9, cuBLAS/cuBLASLt 13 and NCCL, into third_party/cuda (git-ignored),
# where native/cuda/CMakeLists.txt looks for them. Does nothing when they are already there.
# scripts/setup.sh runs it when the CUDA compiler (nvcc) is present. Needs pip (python3 -m pip);
# --target keeps the wheels out of any Python environment. The loader finds the libraries at run
# time the same way (or from a CUDA toolkit, system paths, a PyTorch environment).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=third_party/cuda
if [ -e "$TARGET/nvidia/cudnn/lib/libcudnn.so.9" ] && [ -e "$TARGET/nvidia/cu13/lib/libcublasLt.so.13" ]; then
  echo "setup-cuda: cuDNN and cuBLASLt already in $TARGET"
  exit 0
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "setup-cuda: pip is missing (apt-get install python3-pip): it installs the cuDNN and cuBLAS wheels into $TARGET" >&2
  exit 1
fi
echo "setup-cuda: installing nvidia-cudnn-cu13, nvidia-cublas, nvidia-nccl-cu13 into $TARGET"
start=$(date +%s)
python3 -m pip install --quiet --retries 0 --target "$TARGET" nvidia-cudnn-cu13 nvidia-cublas nvidia-nccl-cu13
echo "setup-cuda: done in $(( $(date +%s) - start )) s"
