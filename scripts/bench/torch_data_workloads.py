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
the pass is timed, in wall time and in CPU time of the main and worker processes (images per
CPU-second: the per-core rate that a machine shared with other jobs does not distort).

--profile (instead of the pass): per image on one thread, median wall ms and mean CPU ms of each step (Pillow's open +
convert('RGB') as ImageFolder's loader, RandomResizedCrop, flip, RandAugment, PILToTensor, Resize +
CenterCrop) and of default_collate per batch, for comparison with scripts/bench/data-profile.mjs.

Usage: python3 scripts/bench/torch_data_workloads.py --dir DIR --kind train_basic --workers 2 --batch 64
       python3 scripts/bench/torch_data_workloads.py --dir DIR --profile [--images 200]
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


def cpu_seconds(pids):
    """CPU time (user + system) of this process and of the worker processes `pids` (/proc/PID/stat)."""
    t = os.times()
    total = t.user + t.system
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14, 15)
    return total


def profile(args):
    torch.set_num_threads(1)
    dataset = torchvision.datasets.ImageFolder(args.dir)
    step = max(1, len(dataset.samples) // args.images)  # every k-th file: all class folders sampled
    files = [f for f, _ in dataset.samples[::step][:args.images]]
    rrc, flip = T.RandomResizedCrop(224), T.RandomHorizontalFlip()
    strong = build_transform("train_strong").transforms[2]
    to_tensor, resize, crop = T.PILToTensor(), T.Resize(256), T.CenterCrop(224)
    steps = {"open_convert": [], "random_resized_crop": [], "flip": [], "randaugment": [], "pil_to_tensor": [], "eval_resize_crop": []}
    tensors = []
    cpu = {k: 0.0 for k in steps}
    for i, f in enumerate(files):
        w, c = [time.perf_counter()], [time.process_time()]

        def mark():
            w.append(time.perf_counter())
            c.append(time.process_time())
        img = torchvision.datasets.folder.default_loader(f)
        mark()
        x = rrc(img)
        mark()
        x = flip(x)
        mark()
        x = strong(x)
        mark()
        x = to_tensor(x)
        mark()
        crop(resize(img))
        mark()
        tensors.append(x)
        for j, k in enumerate(steps):
            steps[k].append((w[j + 1] - w[j]) * 1000)
            cpu[k] += (c[j + 1] - c[j]) * 1000
    collate = []
    for r in range(8):
        b = [tensors[(r * args.batch + j) % len(tensors)] for j in range(args.batch)]
        t0 = time.perf_counter()
        torch.utils.data.default_collate(b)
        collate.append((time.perf_counter() - t0) * 1000)
    med = lambda v: round(sorted(v)[len(v) // 2], 3)  # noqa: E731
    print(json.dumps({"images": len(files), "threads": 1, **{f"{k}_ms": med(v) for k, v in steps.items()},
                      **{f"{k}_cpu_ms": round(v / len(files), 3) for k, v in cpu.items()},
                      "collate_batch": args.batch, "collate_ms_per_batch": med(collate), "pillow_version": PIL.__version__}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--kind")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--images", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warmup-batches", type=int, default=4)
    args = p.parse_args()
    torch.manual_seed(0)
    if args.profile:
        return profile(args)
    dataset = torchvision.datasets.ImageFolder(args.dir, transform=build_transform(args.kind))
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch, num_workers=args.workers, shuffle=True,
                                         drop_last=True, persistent_workers=False)
    if len(loader) <= args.warmup_batches:
        raise SystemExit(f"torch_data_workloads.py: {len(dataset)} images make {len(loader)} batches, need more than {args.warmup_batches}")
    it = iter(loader)
    for _ in range(args.warmup_batches):
        next(it)
    images = 0
    pids = [w.pid for w in it._workers]  # the worker processes, alive until the pass ends
    cpu0 = cpu_seconds(pids)
    start = time.perf_counter()
    for _ in range(len(loader) - args.warmup_batches):
        x, _ = next(it)
        assert x.dtype == torch.uint8 and tuple(x.shape[1:]) == (3, 224, 224)
        images += x.shape[0]
    seconds = time.perf_counter() - start
    cpu = cpu_seconds(pids) - cpu0
    del it
    print(json.dumps({"kind": args.kind, "images": images, "seconds": seconds, "torch_images_per_s": images / seconds,
                      "cpu_seconds": cpu, "torch_images_per_cpu_s": images / cpu,
                      "workers": args.workers, "batch": args.batch, "torch_version": torch.__version__,
                      "torchvision_version": torchvision.__version__, "pillow_version": PIL.__version__}), flush=True)


if __name__ == "__main__":
    main()
