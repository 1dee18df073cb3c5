#!/usr/bin/env python3
"""PyTorch peer of bench_layers.cpp, run by scripts/compare/layers.sh under the peer interpreter of
scripts/compare/common.sh: PyTorch 2.x by default (MKL, oneDNN: its stock nn.LSTM runs on oneDNN's
LSTM kernels where torch chooses to), Debian's PyTorch 1.13 (OpenBLAS) with FUGUE_PEER=torch113;
the same code runs on both.

Prints one line per case: `<case> <ms>` (best wall time of the timed runs, as the fugue side).
Threading: torch.set_num_threads(--threads); the caller sets the library threads in the environment
(2.x: OMP_NUM_THREADS = MKL_NUM_THREADS = --threads; 1.13: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS,
its best 2-core setting being 1 torch thread with OPENBLAS_NUM_THREADS=2).
Cases (same shapes as fugue):
  lstm_fwd_b1      nn.LSTM(90, 512, num_layers=2, batch_first) inference forward, B 1, T 32
  lstm_fwdbwd_b64  the same LSTM, forward + backward of sum(y * seed), B 64, T 32
  lstm_step_b1     one step of the stack as two nn.LSTMCell calls, B 1, inference
  gru_step_b1      nn.GRUCell(512, 512) one step, B 1, inference
Inference cases run under torch.inference_mode() (no autograd bookkeeping at all; no_grad still
tracks version counters and views).
"""
import argparse
import time

import torch


def bench(fn, min_time=1.0, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_time or len(times) < 5:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-time", type=float, default=1.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    lstm = torch.nn.LSTM(90, 512, num_layers=2, batch_first=True)
    x1 = torch.rand(1, 32, 90)
    with torch.inference_mode():
        print("lstm_fwd_b1 %.4f" % bench(lambda: lstm(x1), a.min_time))

    x64 = torch.rand(64, 32, 90)
    seed = torch.rand(64, 32, 512) * 2 - 1

    def fwdbwd():
        lstm.zero_grad(set_to_none=True)
        y, _ = lstm(x64)
        (y * seed).sum().backward()

    print("lstm_fwdbwd_b64 %.4f" % bench(fwdbwd, max(a.min_time, 2.0), warmup=1))

    c0 = torch.nn.LSTMCell(90, 512)
    c1 = torch.nn.LSTMCell(512, 512)
    xs = torch.rand(1, 90)
    st = [(torch.zeros(1, 512), torch.zeros(1, 512)) for _ in range(2)]

    def lstm_step():
        st[0] = c0(xs, st[0])
        st[1] = c1(st[0][0], st[1])

    gru = torch.nn.GRUCell(512, 512)
    xg = torch.rand(1, 512)
    hg = [torch.zeros(1, 512)]

    def gru_step():
        hg[0] = gru(xg, hg[0])

    with torch.inference_mode():
        print("lstm_step_b1 %.4f" % bench(lstm_step, a.min_time))
        print("gru_step_b1 %.4f" % bench(gru_step, a.min_time))


if __name__ == "__main__":
    main()
