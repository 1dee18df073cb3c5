#!/usr/bin/env python3
"""PyTorch peer of bench_transformer: nn.TransformerEncoderLayer(512, 8, 2048, dropout 0.1,
relu, post-norm, batch_first) forward+backward at B=8, S=256, float32, train mode.
Input requires grad; backward from a fixed seed gradient, like the fugue benchmark.
Runs under the peer interpreter of scripts/compare/common.sh: PyTorch 2.x by default (its
MultiheadAttention computes attention with F.scaled_dot_product_attention, need_weights=False),
or Debian's PyTorch 1.13 with FUGUE_PEER=torch113 (the same code runs on both).
Usage: OMP_NUM_THREADS=<n> MKL_NUM_THREADS=<n> <python> torch_transformer.py --threads <n>   (2.x)
       OPENBLAS_NUM_THREADS=<n> /usr/bin/python3 torch_transformer.py --threads <torch threads>   (1.13)
Prints: "<case> <best ms> <median ms>" for fwd_bwd and fwd (eval mode under torch.inference_mode,
which lets nn.TransformerEncoderLayer take its fused inference path, as no_grad does)."""
import argparse
import statistics
import time

import torch


def timeit(fn, min_time=3.0, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_time or len(times) < 5:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times), statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-time", type=float, default=3.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(512, 8, 2048, dropout=0.1, batch_first=True)
    x = torch.randn(8, 256, 512, requires_grad=True)
    seed = torch.randn(8, 256, 512)

    def fwd_bwd():
        layer.train()
        layer.zero_grad(set_to_none=True)
        x.grad = None
        y = layer(x)
        y.backward(seed)

    best, med = timeit(fwd_bwd, a.min_time)
    print(f"fwd_bwd {best:.3f} {med:.3f}")

    layer.eval()

    def fwd():
        with torch.inference_mode():
            layer(x)

    best, med = timeit(fwd, a.min_time)
    print(f"fwd {best:.3f} {med:.3f}")


if __name__ == "__main__":
    main()
