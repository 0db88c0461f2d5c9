#!/usr/bin/env python3
"""torchvision side of `npm run bench -- --suite data` (src/bench/data-workloads.ts): one timed pass
of torchvision.datasets.ImageFolder + DataLoader (Pillow decoding) over the same JPEG tree, with the
same worker count, batch size and warm-up, printing one JSON line:
{"kind", "images", "seconds", "torch_images_per_s", versions}.

Transforms (uint8 output, no normalization: the same work as our decode + crop, whose uint8 batch
our loader then normalizes on the main thread):
  train_basic   RandomResizedCrop(224) + RandomHorizontalFlip() + PILToTensor()
  eval          Resize(256) + CenterCrop(224) + PILToTensor()
  train_strong  RandomResizedCrop(224) + RandomHorizontalFlip()
                + timm's rand_augment_transform('rand-m10-n2', hparams) + PILToTensor(), hparams as
                our RandAugment (src/data/image/randaugment.ts): fill img_mean (124, 116, 104),
                bilinear geometric ops, translate_pct 0.45 (timm's default), translate_const 250.
DataLoader(batch_size, num_workers, shuffle=True, drop_last=True, persistent_workers=False);
the first --warmup-batches batches (which include starting the workers) are untimed, the rest of
the pass is timed.

Usage: python3 scripts/bench/torch_data_workloads.py --dir DIR --kind train_basic --workers 2 --batch 64
"""
import argparse
import importlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import torch_guard  # noqa: E402,F401  (before torchvision / timm: see the file)
import torch  # noqa: E402

torchvision = importlib.import_module("torchvision")
from torchvision import transforms as T  # noqa: E402
import PIL  # noqa: E402
from PIL import Image  # noqa: E402


def build_transform(kind):
    if kind == "eval":
        return T.Compose([T.Resize(256), T.CenterCrop(224), T.PILToTensor()])
    steps = [T.RandomResizedCrop(224), T.RandomHorizontalFlip()]
    if kind == "train_strong":
        from timm.data.auto_augment import rand_augment_transform
        hparams = dict(translate_const=250, img_mean=(124, 116, 104), interpolation=Image.BILINEAR)
        steps.append(rand_augment_transform("rand-m10-n2", hparams))
    elif kind != "train_basic":
        raise SystemExit(f"torch_data_workloads.py: unknown --kind '{kind}' (train_basic, eval, train_strong)")
    return T.Compose(steps + [T.PILToTensor()])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--kind", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warmup-batches", type=int, default=4)
    args = p.parse_args()
    torch.manual_seed(0)
    dataset = torchvision.datasets.ImageFolder(args.dir, transform=build_transform(args.kind))
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch, num_workers=args.workers, shuffle=True,
                                         drop_last=True, persistent_workers=False)
    if len(loader) <= args.warmup_batches:
        raise SystemExit(f"torch_data_workloads.py: {len(dataset)} images make {len(loader)} batches, need more than {args.warmup_batches}")
    it = iter(loader)
    for _ in range(args.warmup_batches):
        next(it)
    images = 0
    start = time.perf_counter()
    for x, _ in it:
        assert x.dtype == torch.uint8 and tuple(x.shape[1:]) == (3, 224, 224)
        images += x.shape[0]
    seconds = time.perf_counter() - start
    del it
    print(json.dumps({"kind": args.kind, "images": images, "seconds": seconds, "torch_images_per_s": images / seconds,
                      "workers": args.workers, "batch": args.batch, "torch_version": torch.__version__,
                      "torchvision_version": torchvision.__version__, "pillow_version": PIL.__version__}), flush=True)


if __name__ == "__main__":
    main()
