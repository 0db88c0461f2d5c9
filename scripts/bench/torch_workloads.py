#!/usr/bin/env python3
"""PyTorch side of `npm run bench`: times the same workloads as src/bench/workloads.ts on the
same machine, with the same thread count, and prints one JSON object per line:
{"workload": ..., "torch_ms_per_step": ..., "torch_threads": ...}.

Usage: python3 scripts/bench/torch_workloads.py --threads N --workloads a,b,c [--warmup W] [--iters I]
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def sgemm_1024():
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    c = torch.empty(1024, 1024)

    def step():
        torch.mm(a, b, out=c)

    return step


def train_step(model, x, y, lr=0.01, autocast=False, channels_last=False, fused=None):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, fused=fused)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 10))


def cnn3():
    def block(cin, cout, stride):
        return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(*block(1, 32, 1), *block(32, 64, 2), *block(64, 128, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))


def step_of(build, **options):
    return lambda: train_step(build(), torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,)), **options)


def import_guarded(module):
    # torchvision's compiled ops are optional here: skip a fake-op registration that fails
    import importlib
    import torch.library as L
    orig = L.register_fake

    def safe(*a, **k):
        try:
            deco = orig(*a, **k)
        except Exception:
            return lambda f: f

        def apply(f):
            try:
                return deco(f)
            except Exception:
                return f
        return apply
    L.register_fake = safe
    try:
        return importlib.import_module(module)
    finally:
        L.register_fake = orig


def resnet50():
    # torchvision's resnet50
    torchvision = import_guarded("torchvision")
    return train_step(torchvision.models.resnet50(), torch.randn(8, 3, 224, 224), torch.randint(0, 1000, (8,)), fused=True)


def convnext_tiny():
    # timm's convnext_tiny (its own init), NCHW
    timm = import_guarded("timm")
    return train_step(timm.create_model("convnext_tiny", pretrained=False), torch.randn(8, 3, 224, 224), torch.randint(0, 1000, (8,)), fused=True)


def vit_s():
    # timm's vit_small_patch16_224 (its fused qkv; ours splits q, k, v), batch 8 of 3x224x224
    timm = import_guarded("timm")
    return train_step(timm.create_model("vit_small_patch16_224", pretrained=False), torch.randn(8, 3, 224, 224),
                      torch.randint(0, 1000, (8,)), fused=True)


def swin_t():
    # timm's swin_tiny_patch4_window7_224 (no pretrained weights, drop rates 0 as ours)
    timm = import_guarded("timm")
    model = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, drop_path_rate=0.0)
    return train_step(model, torch.randn(8, 3, 224, 224), torch.randint(0, 1000, (8,)), fused=True)


WORKLOADS = {
    "sgemm_1024": sgemm_1024,
    "mlp784-1024-10_b128": step_of(mlp),
    "cnn3_b128": step_of(cnn3),
    "mlp784-1024-10_b128_bf16": step_of(mlp, autocast=True),
    "cnn3_b128_bf16": step_of(cnn3, autocast=True),
    "cnn3_b128_channels_last": step_of(cnn3, channels_last=True),
    "resnet50_224_b8": resnet50,
    "convnext_tiny_224_b8": convnext_tiny,
    "vit_s_224_b8": vit_s,
    "swin_t_224_b8": swin_t,
}
# Heavy workloads: fewer warmup and timed steps (as in src/bench/workloads.ts).
STEPS = {"resnet50_224_b8": (1, 3), "convnext_tiny_224_b8": (1, 3), "vit_s_224_b8": (1, 3), "swin_t_224_b8": (1, 3)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--workloads", required=True)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--min-seconds", type=float, default=2.0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name in args.workloads.split(","):
        if name not in WORKLOADS:
            continue
        step = WORKLOADS[name]()
        warmup, min_steps = STEPS.get(name, (args.warmup, 5))
        for _ in range(warmup):
            step()
        times = []
        start = time.perf_counter()
        while time.perf_counter() - start < args.min_seconds or len(times) < min_steps:
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print(json.dumps({"workload": name, "torch_ms_per_step": times[len(times) // 2],
                          "torch_threads": torch.get_num_threads(), "torch_version": torch.__version__,
                          "torch_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
              flush=True)


if __name__ == "__main__":
    main()
