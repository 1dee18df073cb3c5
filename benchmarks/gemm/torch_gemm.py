#!/usr/bin/env python3
"""The torch.mm column of scripts/compare.sh gemm: the cases of bench_gemm.cpp through the peer's torch
(PyTorch 2.x from PyPI: MKL's sgemm / sgemv; with FUGUE_PEER=torch113, Debian's 1.13: OpenBLAS again),
float32, the same shapes, layouts and thread counts, so the table shows fugue vs OpenBLAS vs MKL.

Cases (names as in bench_gemm.cpp; A, B, W, x uniform in [-1, 1], outputs preallocated, out=):
  sgemm_nn_<n>_t<threads>   torch.mm(A, B, out=C), n in {256, 512, 1024, 2048}, 1 or 2 threads
  sgemm_m<M>_nn_2048x512    torch.mm(A[M,512], B[512,2048]), 1 thread
  sgemm_m<M>_nt_2048x512    torch.mm(A[M,512], B[2048,512].t()) (a transposed view: BLAS gets the flag), 1 thread
  sgemv_n_2048x512          torch.mv(W[2048,512], x)
  sgemv_t_512x2048          torch.mv(W[512,2048].t(), x)
  gemm_m1_nt_2048x512       torch.mm(x[1,512], W[2048,512].t())
  gemm_m1_nn_2048x512       torch.mm(x[1,512], W[512,2048])
Each call goes through torch's dispatcher (about a microsecond or two under torch.inference_mode): that is
1-3 % of the GEMV rows (~0.09 ms) and nothing for the others.
Runs the cases whose thread count is --threads (the t2 cases at 2, all others at 1; the caller sets
OMP_NUM_THREADS / MKL_NUM_THREADS to match, scripts/compare/gemm.sh runs it once per count).
Prints `<case> <ms>` per case: the MEDIAN over --reps repetitions of the mean time per call within a
repetition of at least --min-time seconds (after warm-up calls), which is what Google Benchmark's median
aggregate on the C++ side is.
"""
import sys
import os
import argparse
import re
import statistics
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peer_common import bench  # noqa: E402


def cases():
    out = []
    for threads in (1, 2):
        for n in (256, 512, 1024, 2048):
            out.append(("sgemm_nn_%d_t%d" % (n, threads), threads, ("mm", False, n, n, n)))
    for m in (4, 16, 64):
        for tb in (False, True):
            out.append(("sgemm_m%d_%s_2048x512" % (m, "nt" if tb else "nn"), 1, ("mm", tb, m, 2048, 512)))
    out.append(("sgemv_n_2048x512", 1, ("mv", False, 2048, 512)))
    out.append(("sgemv_t_512x2048", 1, ("mv", True, 512, 2048)))
    out.append(("gemm_m1_nt_2048x512", 1, ("mm", True, 1, 2048, 512)))
    out.append(("gemm_m1_nn_2048x512", 1, ("mm", False, 1, 2048, 512)))
    return out


def rand(*shape):
    return torch.rand(*shape) * 2.0 - 1.0


def make(spec):
    if spec[0] == "mm":  # C[M,N] = A[M,K] op(B)
        _, tb, m, n, k = spec
        a, c = rand(m, k), torch.empty(m, n)
        b = rand(n, k).t() if tb else rand(k, n)
        return lambda: torch.mm(a, b, out=c)
    _, trans, rows, cols = spec  # y = op(W) x, W [rows, cols]
    w = rand(rows, cols)
    wop = w.t() if trans else w
    x, y = rand(wop.shape[1]), torch.empty(wop.shape[0])
    return lambda: torch.mv(wop, x, out=y)




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--filter", default="", help="regex on the case names (default: all)")
    ap.add_argument("--list", action="store_true", help="print the case names and their thread counts")
    a = ap.parse_args()
    if a.list:
        for name, threads, _ in cases():
            print(name, threads)
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    pat = re.compile(a.filter) if a.filter else None
    with torch.inference_mode():
        for name, threads, spec in cases():
            if threads != a.threads or (pat and not pat.search(name)):
                continue
            print("%s %.4f" % (name, bench(make(spec), a.reps, a.min_time, warmup=3)), flush=True)


if __name__ == "__main__":
    main()
