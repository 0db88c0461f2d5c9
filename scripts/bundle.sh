#!/usr/bin/env bash
# Builds .bundle/layerwise/: a self-contained folder that runs `layerwise` on a Linux x64 host
# (GPU or not) with no Node.js installed. It holds bin/node (a copy of this node binary), lib/,
# the addons in node-gyp-build's prebuilds/ layout (layerwise_cuda.so beside layerwise.napi.node
# when it was built), the production node_modules (scripts/prebuild.mjs --package), libs/ with the
# shared libraries the addons link that a host may lack (OpenBLAS, oneDNN, OpenMP and theirs,
# libjpeg-turbo for the image addon layerwise_image.node;
# not glibc, libstdc++ or libgcc_s, which the host provides, and never the CUDA libraries, which
# the CUDA backend finds on the host: CUDA_HOME, system paths, pip wheels, LAYERWISE_CUDA_LIBS),
# scripts/bench/*.py (the PyTorch side of `bench`, run where torch is installed), and the launcher
# `layerwise` (bin/node lib/cli/main.js "$@", with libs/ on LD_LIBRARY_PATH).
#
#   bash scripts/bundle.sh           the folder (needs npm run build first)
#   bash scripts/bundle.sh --tar     also .bundle/layerwise.tar.xz (xz -9; prints its size; target < 64 MB)
#   bash scripts/bundle.sh --check   then runs the launcher under `env -i` (no PATH, so no node):
#                                    `info --json` and a 3-step synthetic training run
set -euo pipefail
cd "$(dirname "$0")/.."
tar=0
check=0
for a in "$@"; do
  case "$a" in
    --tar) tar=1 ;;
    --check) check=1 ;;
    *) echo "bundle.sh: unknown option $a (known: --tar, --check)" >&2; exit 1 ;;
  esac
done
addon="${LAYERWISE_ADDON:-build/Release/layerwise.node}"
[ -f "$addon" ] || { echo "bundle.sh: $addon does not exist: run npm run build first" >&2; exit 1; }
[ -f lib/cli/main.js ] || { echo "bundle.sh: lib/ is not built: run npm run build:ts first" >&2; exit 1; }

out=.bundle/layerwise
rm -rf "$out" .bundle/layerwise.tar.xz
mkdir -p "$out/bin" "$out/libs"
node scripts/prebuild.mjs --from "$addon" --package "$out" > /dev/null
cp "$(node -p process.execPath)" "$out/bin/node"
# The PyTorch side of `bench` (lib/bench/run.ts finds it beside lib/), for hosts that have torch.
mkdir -p "$out/scripts/bench" "$out/scripts/fixtures"
cp scripts/bench/*.py "$out/scripts/bench/"
cp scripts/fixtures/torch_guard.py "$out/scripts/fixtures/"

# The addons' shared libraries (the core addon's; the image addon's libjpeg.so.62), except the
# C/C++ runtime and anything CUDA.
image="$out/prebuilds/$(node -p 'process.platform + "-" + process.arch')/layerwise_image.node"
libs_of() { for f in "$addon" "$image"; do if [ -f "$f" ]; then ldd "$f"; fi; done; }
libs_of | sort -u | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | while read -r name file; do
  case "$name" in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libstdc++.so.*|libgcc_s.so.*) continue ;;
    libcuda*|libcudnn*|libcublas*|libcudart*|libnvrtc*|libnccl*) continue ;;
  esac
  cp -L "$file" "$out/libs/$name"
done

cat > "$out/layerwise" <<'EOF'
#!/bin/sh
# layerwise from a self-contained bundle (scripts/bundle.sh): the bundled node runs lib/cli/main.js;
# libs/ holds the CPU backend's shared libraries. Uses no command outside the shell (works under env -i).
case "$0" in */*) here="${0%/*}" ;; *) here=. ;; esac
here="$(cd "$here" && pwd)"
LD_LIBRARY_PATH="$here/libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "$here/bin/node" "$here/lib/cli/main.js" "$@"
EOF
chmod +x "$out/layerwise"
if find "$out" -name 'libcudnn*' -o -name 'libcublas*' -o -name 'libcudart*' | grep -q .; then
  echo "bundle.sh: CUDA libraries ended up in $out" >&2
  exit 1
fi
echo "bundle: $out ($(du -sh "$out" | cut -f1) unpacked; libs: $(ls "$out/libs" | tr '\n' ' '))"

if [ "$tar" = 1 ]; then
  tar -C .bundle -cf - layerwise | xz -9 > .bundle/layerwise.tar.xz
  bytes=$(stat -c %s .bundle/layerwise.tar.xz)
  echo "bundle: .bundle/layerwise.tar.xz $bytes bytes ($((bytes / 1048576)) MiB; target < 64 MiB)"
  [ "$bytes" -lt $((64 * 1048576)) ] || { echo "bundle.sh: the tarball is over 64 MiB" >&2; exit 1; }
fi

if [ "$check" = 1 ]; then
  launcher="$(pwd)/$out/layerwise"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && env -i HOME="$work" "$launcher" info --json > info.json)
  node -e "const r = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
    if (!r.addon.includes('/.bundle/layerwise/prebuilds/')) throw new Error('the bundle loaded ' + r.addon);
    console.log('bundle check: info ok (addon ' + r.addon + '; cuda ' + (r.cuda.available ? 'available' : 'unavailable: ' + r.cuda.reason.slice(0, 120)) + ')');" "$work/info.json"
  if [ -f "$image" ]; then
    env -i LD_LIBRARY_PATH="$(pwd)/$out/libs" "$(pwd)/$out/bin/node" -e "const a = require(process.argv[1]);
      if (typeof a.decodeJpegRegion !== 'function') throw new Error('no decodeJpegRegion in ' + process.argv[1]);" "$(pwd)/$image"
    echo "bundle check: image addon loads ($image, libs: $(ls "$out/libs" | grep -c jpeg) libjpeg)"
  else
    echo "bundle check: no image addon in the bundle (built without libjpeg): JPEGs decode with sharp"
  fi
  (cd "$work" && env -i HOME="$work" "$launcher" train --data synthetic:256 --epochs 1 --max-steps 3 --model mlp --hidden 8 \
    --batch-size 32 --lr-mode single --warmup-steps 0 --json --out-dir runs --name bundle > train.jsonl)
  grep -q '"kind":"summary","steps":3' "$work/train.jsonl" || { echo "bundle.sh: the bundled training run did not finish 3 steps" >&2; cat "$work/train.jsonl" >&2; exit 1; }
  echo "bundle check: 3-step synthetic training ok ($(grep '"kind":"summary"' "$work/train.jsonl"))"
fi
