"""What every PyTorch peer script (benchmarks/*/torch_*.py) shares: the timing loop and the
optimizer at its best. A peer imports it after putting benchmarks/ on sys.path."""
import statistics
import time

import torch


def bench(fn, reps, min_time, warmup=2):
    """Median over `reps` repetitions of the mean wall time per call of fn(), in milliseconds; each
    repetition calls fn() until min_time seconds have passed (after `warmup` untimed calls)."""
    for _ in range(warmup):
        fn()
    means = []
    for _ in range(reps):
        calls = 0
        t0 = time.perf_counter()
        while True:
            fn()
            calls += 1
            el = time.perf_counter() - t0
            if el >= min_time:
                break
        means.append(el / calls)
    return statistics.median(means) * 1e3


def adam(params, **kw):
    """torch.optim.Adam at its best on the CPU: PyTorch >= 2.4 has a fused CPU kernel (fused=True, one pass
    over each parameter); older versions (Debian's 1.13) refuse fused on the CPU and get the default loop."""
    try:
        return torch.optim.Adam(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, **kw)
