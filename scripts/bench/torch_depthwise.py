#!/usr/bin/env python3
"""PyTorch side of scripts/bench/depthwise.mjs: F.conv2d(groups=C) forward, input gradient and
weight gradient (torch.nn.grad.conv2d_input / conv2d_weight) for the same shapes, float32 and
bfloat16, NCHW and channels_last, best of --iters (ms), one JSON object per line.
Usage: python3 scripts/bench/torch_depthwise.py [--threads 2] [--iters 10]"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--iters", type=int, default=10)
a = p.parse_args()
torch.set_num_threads(a.threads)


def best(fn):
    fn()
    t = float("inf")
    for _ in range(a.iters):
        t0 = time.perf_counter()
        fn()
        t = min(t, (time.perf_counter() - t0) * 1e3)
    return t


for n, c, h, k, s in [(8, 96, 56, 7, 1), (8, 768, 7, 7, 1), (8, 96, 56, 3, 2)]:
    pad = (k - 1) // 2
    for dtype in (torch.float32, torch.bfloat16):
        for cl in (False, True):
            fmt = torch.channels_last if cl else torch.contiguous_format
            x = torch.randn(n, c, h, h, dtype=dtype).to(memory_format=fmt)
            w = torch.randn(c, 1, k, k, dtype=dtype)
            y = F.conv2d(x, w, stride=s, padding=pad, groups=c)
            dy = torch.randn_like(y)
            with torch.no_grad():
                fwd = best(lambda: F.conv2d(x, w, stride=s, padding=pad, groups=c))
                bin_ = best(lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, stride=s, padding=pad, groups=c))
                bw = best(lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, stride=s, padding=pad, groups=c))
            print(json.dumps({"shape": f"N{n} C{c} {h}x{h} k{k} s{s}", "dtype": str(dtype).split(".")[1],
                              "format": "NHWC" if cl else "NCHW", "forward_ms": round(fwd, 3),
                              "backward_input_ms": round(bin_, 3), "backward_weight_ms": round(bw, 3)}))
