#!/usr/bin/env bash
# Checks that the CPU backend compiles for aarch64: every native/cpu/*.cc through Debian's cross
# compiler (g++-aarch64-linux-gnu, installed by scripts/setup.sh when CI=true) with
# -fsyntax-only, the include paths and definitions of the real build (CMakeLists.txt), and
# oneDNN on (LAYERWISE_HAVE_DNNL=1) so its code is checked too. x86 intrinsics and inline asm must
# sit behind `#if defined(__x86_64__)` with a portable fallback. The aarch64 system headers come
# first; the host's OpenBLAS and oneDNN headers (architecture-neutral declarations) are searched
# only after them (-idirafter). Exits non-zero naming the files that do not compile.
set -euo pipefail
cd "$(dirname "$0")/.."

CXX="${AARCH64_CXX:-aarch64-linux-gnu-g++}"
if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "check-aarch64: $CXX not found (apt-get install g++-aarch64-linux-gnu, or CI=true bash scripts/setup.sh)" >&2
  exit 1
fi

# The directory of the first of these that holds $1 (as CMake's find_path).
find_dir() {
  local header="$1"; shift
  for d in "$@"; do
    if [ -f "$d/$header" ]; then echo "$d"; return 0; fi
  done
  return 1
}
cblas_dir="$(find_dir cblas.h /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/openblas /usr/include)" || {
  echo "check-aarch64: cblas.h not found (install libopenblas-dev)" >&2; exit 1; }
dnnl_dir="$(find_dir dnnl.hpp /usr/include /usr/local/include)" || {
  echo "check-aarch64: dnnl.hpp not found (install libdnnl-dev)" >&2; exit 1; }

flags=(-std=c++17 -fsyntax-only -fopenmp -Wall -Wextra -Wno-unused-parameter -fexceptions
       -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DLAYERWISE_BACKEND=cpu -DLAYERWISE_HAVE_DNNL=1
       -Inative/include -Inative/binding -Inative
       -idirafter "$cblas_dir" -idirafter "$dnnl_dir")

failed=()
count=0
for f in native/cpu/*.cc; do
  count=$((count + 1))
  if ! "$CXX" "${flags[@]}" "$f"; then failed+=("$f"); fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "check-aarch64: ${#failed[@]} of $count files do not compile for aarch64: ${failed[*]}" >&2
  exit 1
fi
echo "check-aarch64: all $count native/cpu/*.cc files compile for aarch64 ($CXX -fsyntax-only)"
