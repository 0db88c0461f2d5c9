#!/usr/bin/env python3
"""PyTorch side of `layerwise bench --suite cuda`: the workloads of src/bench/cuda-workloads.ts in
PyTorch eager on the same GPU, each step followed by torch.cuda.synchronize(); one JSON object per
line: {"workload", "torch_ms_per_step", "torch_version", "device"}. Same precision and layout as
ours: TF32 on for the float32 runs (torch.backends.{cuda.matmul,cudnn}.allow_tf32), bf16 autocast,
channels_last, cudnn.benchmark on (PyTorch's fastest eager setting), fused SGD / AdamW
(torch.optim.*(fused=True)); models from torchvision (ResNet-50) and timm (ViT-S/16) when installed.

Usage: python3 scripts/bench/torch_cuda_workloads.py --workloads a,b,c [--min-seconds S] [--threads N]
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F


def import_guarded(module):
    # a torchvision without its compiled ops fails in register_fake: scripts/fixtures/torch_guard.py
    # skips those registrations (imported once, before torchvision or timm)
    import importlib
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
    import torch_guard  # noqa: F401
    return importlib.import_module(module)


def model_step(build, batch, bf16, channels_last):
    model = build().cuda()
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    y = torch.randint(0, 1000, (batch,), device="cuda")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4, fused=True)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return step


def resnet50():
    return import_guarded("torchvision").models.resnet50()


def vit_s():
    return import_guarded("timm").create_model("vit_small_patch16_224", pretrained=False)


def resnet50_shapes():
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    in_c = 64
    for width, blocks in [(64, 3), (128, 4), (256, 6), (512, 3)]:
        for b in range(blocks):
            shapes += [(width, in_c, 1, 1), (width,), (width,), (width, width, 3, 3), (width,), (width,),
                       (width * 4, width, 1, 1), (width * 4,), (width * 4,)]
            if b == 0:
                shapes += [(width * 4, in_c, 1, 1), (width * 4,), (width * 4,)]
            in_c = width * 4
    return shapes + [(1000, 2048), (1000,)]


def optimizer_step(make):
    params = [torch.full(s, 0.5, device="cuda", requires_grad=True) for s in resnet50_shapes()]
    for p in params:
        p.grad = torch.full_like(p, 1e-3)
    opt = make(params)
    return opt.step


def copy_25m():
    total = sum(torch.Size(s).numel() for s in resnet50_shapes())
    src = torch.ones(total, device="cuda")
    dst = torch.empty(total, device="cuda")
    return lambda: dst.copy_(src)


def gemm(dtype, size):
    a = torch.randn(size, size, device="cuda", dtype=dtype)
    b = torch.randn(size, size, device="cuda", dtype=dtype)
    c = torch.empty(size, size, device="cuda", dtype=dtype)
    return lambda: torch.mm(a, b, out=c)


def conv3x3():
    x = torch.randn(256, 256, 14, 14, device="cuda", dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
    w = torch.randn(256, 256, 3, 3, device="cuda", dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
    return lambda: F.conv2d(x, w, padding=1)


# The model steps' batch, as src/bench/cuda-workloads.ts reads it (the workload names carry it).
BATCH = int(os.environ.get("LAYERWISE_BENCH_CUDA_BATCH", "256"))
MODEL_STEPS = {
    f"resnet50_224_b{BATCH}_tf32": lambda: model_step(resnet50, BATCH, False, False),
    f"resnet50_224_b{BATCH}_bf16_channels_last": lambda: model_step(resnet50, BATCH, True, True),
    f"vit_s_224_b{BATCH}_bf16": lambda: model_step(vit_s, BATCH, True, False),
}
WORKLOADS = {
    **MODEL_STEPS,
    "copy_25M_cuda": copy_25m,
    "sgd_step_25M_cuda": lambda: optimizer_step(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-4, fused=True)),
    "adamw_step_25M_cuda": lambda: optimizer_step(lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.05, fused=True)),
    "conv3x3_256c_14px_b256_bf16_channels_last": conv3x3,
    "gemm_8192_tf32": lambda: gemm(torch.float32, 8192),
    "gemm_8192_bf16": lambda: gemm(torch.bfloat16, 8192),
}
STEPS = {name: (3, 10) for name in MODEL_STEPS}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workloads", required=True)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--min-seconds", type=float, default=2.0)
    args = p.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("torch.cuda.is_available() is False")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    for name in args.workloads.split(","):
        if name not in WORKLOADS:
            continue
        try:
            step = WORKLOADS[name]()
        except ImportError as e:
            print(json.dumps({"workload": name, "torch_unavailable": str(e)}), flush=True)
            continue
        warmup, min_steps = STEPS.get(name, (5, 5))
        for _ in range(warmup):
            step()
        torch.cuda.synchronize()
        times = []
        start = time.perf_counter()
        while time.perf_counter() - start < args.min_seconds or len(times) < min_steps:
            t0 = time.perf_counter()
            step()
            torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print(json.dumps({"workload": name, "torch_ms_per_step": times[len(times) // 2], "torch_version": torch.__version__,
                          "device": torch.cuda.get_device_name()}), flush=True)
        del step
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
