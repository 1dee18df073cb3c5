#!/usr/bin/env python3
"""PyTorch peer of bench_dsp.cpp, float32, run by scripts/compare/dsp.sh under the peer interpreter of
scripts/compare/common.sh: PyTorch 2.x by default, Debian's PyTorch 1.13 with FUGUE_PEER=torch113 (the
same code runs on both).

Prints one line per case: `<case> <ms>`: the MEDIAN over --reps repetitions of the mean time per call
within a repetition (each repetition runs calls for at least --min-time seconds), which is what the fugue
side reports (Google Benchmark repetitions, median aggregate).
Threading: torch.set_num_threads(--threads); the caller sets the library threads in the environment
(2.x: OMP_NUM_THREADS = MKL_NUM_THREADS = --threads; 1.13: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS;
scripts/compare/dsp.sh runs the 2-core settings and the 1-vs-1 setting). The inference cases (_fwd)
run under torch.inference_mode().

Same shapes, controls and algorithms as fugue (include/fugue/dsp/*.hpp), written the way a torch DDSP
port writes them (whole-tensor ops, autograd for the backward):
  spectral_loss_fwdbwd  multi-scale spectral loss, FFT sizes 2048..64, hop s/4, periodic Hann, no
                        centering, zeros appended at the end to ceil(N / hop) frames (tf pad_end, fugue's
                        Framing::end), torch.stft(center=False); mean L1 of |S| and of log(|S| + 1e-5);
                        forward + backward w.r.t. x (target constant). x, target [1, 64000].
  harmonic_fwd          harmonic synth, K 64, F 1000 -> N 64000, inference: exp_sigmoid controls, Nyquist
                        masking at frame rate, normalisation (zero sum -> 1e-7), amplitudes upsampled by
                        the raised-cosine crossfade that equals DDSP's upsample_with_windows (fugue's
                        AmpResample::window), f0 upsampled linearly (p = n F / N), phase = inclusive
                        cumulative sum of 2 pi f0 / sr in float64 wrapped to [0, 2 pi) (as fugue),
                        per-sample Nyquist mask, y = sum_k a_k sin(k phase).
  harmonic_fwdbwd       the same with autograd: backward of sum(y * seed) w.r.t. amplitudes and
                        distribution (f0 constant, as in a DDSP training step).
  filtered_noise_fwd    filtered noise, M 65 bands, F 1000 -> N 64000, inference: exp_sigmoid(x - 5), irfft
                        to a 128-tap zero-phase IR, fftshift to causal form times the periodic Hann, FFT
                        convolution (rfft 256) with 64-sample noise blocks, overlap-add (F.fold), crop 62.
                        The noise and its block spectra are drawn once and cached, as fugue caches them.
  filtered_noise_fwdbwd the same with autograd: backward of sum(y * seed) w.r.t. the magnitudes.
Controls: logits uniform in [-2, 2]; f0 uniform in [100, 400] Hz per frame; audio uniform in [-1, 1].
"""
import sys
import os
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as Fn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peer_common import bench  # noqa: E402

N, F, K, M, SR = 64000, 1000, 64, 65, 16000.0


def exp_sigmoid(x):
    return 2.0 * torch.sigmoid(x) ** math.log(10.0) + 1e-7


class SpectralLoss:
    def __init__(self, n, sizes=(2048, 1024, 512, 256, 128, 64), overlap=0.75, eps=1e-5):
        self.eps = eps
        self.scales = []
        for s in sizes:
            hop = int(s * (1.0 - overlap))
            frames = -(-n // hop)
            pad = (frames - 1) * hop + s - n
            self.scales.append((s, hop, pad, torch.hann_window(s, periodic=True)))

    def mag(self, x, s, hop, pad, win):
        return torch.stft(Fn.pad(x, (0, pad)), n_fft=s, hop_length=hop, win_length=s, window=win,
                          center=False, return_complex=True).abs()

    def __call__(self, x, y):
        total = 0.0
        for sc in self.scales:
            sx, sy = self.mag(x, *sc), self.mag(y, *sc)
            total = total + (sx - sy).abs().mean()
            total = total + (torch.log(sx + self.eps) - torch.log(sy + self.eps)).abs().mean()
        return total


class HarmonicSynth:
    def __init__(self, frames, n, k, sr):
        self.nyq = sr / 2
        self.w = 2.0 * math.pi / sr
        self.harm = torch.arange(1, k + 1, dtype=torch.float32)
        s = torch.arange(n, dtype=torch.float64)
        hop = n // frames
        # amplitudes: raised-cosine crossfade between frames q and q + 1 (last frame held)
        q = torch.arange(n) // hop
        self.ai0 = q
        self.ai1 = torch.clamp(q + 1, max=frames - 1)
        lam = 0.5 - 0.5 * torch.cos(math.pi * (s - q.double() * hop) / hop)
        self.lam = torch.where(q + 1 < frames, lam, torch.zeros_like(lam)).float()[:, None]
        # f0: linear, p = s F / N, last frame held
        p = s * frames / n
        i0 = torch.clamp(torch.floor(p).long(), max=frames - 1)
        self.fi0, self.fi1 = i0, torch.clamp(i0 + 1, max=frames - 1)
        self.mu = torch.where(i0 == frames - 1, torch.zeros_like(p), p - i0.double()).float()

    def __call__(self, amps, dist, f0):  # [B, F], [B, F, K], [B, F] -> [B, N]
        a = exp_sigmoid(amps)
        c = exp_sigmoid(dist) * (self.harm * f0[..., None] < self.nyq)
        sd = c.sum(-1, keepdim=True)
        sd = torch.where(sd == 0, torch.full_like(sd, 1e-7), sd)
        h = a[..., None] * c / sd  # frame-rate harmonic amplitudes
        h0, h1 = h[:, self.ai0], h[:, self.ai1]  # [B, N, K]
        a_up = h0 + (h1 - h0) * self.lam
        g0, g1 = f0[:, self.fi0], f0[:, self.fi1]
        f_up = g0 + (g1 - g0) * self.mu  # [B, N]
        phase = torch.remainder(torch.cumsum(f_up.double() * self.w, -1), 2.0 * math.pi).float()
        mask = self.harm * f_up[..., None] < self.nyq
        return (a_up * mask * torch.sin(phase[..., None] * self.harm)).sum(-1)


class FilteredNoise:
    def __init__(self, b, frames, n, bands, bias=-5.0):
        self.bias, self.n = bias, n
        self.L = 2 * (bands - 1)
        self.fs = -(-n // frames)
        self.blen = self.fs + self.L - 1
        self.nfft = 1 << (self.blen - 1).bit_length()
        self.total = frames * self.fs + self.L - 1
        self.crop = (self.L - 1) // 2 - 1
        self.win = torch.hann_window(self.L, periodic=True)
        noise = torch.rand(b, frames * self.fs) * 2 - 1
        noise[:, n:] = 0
        self.noise_spec = torch.fft.rfft(noise.reshape(b, frames, self.fs), n=self.nfft)  # cached

    def __call__(self, mags):  # [B, F, M] -> [B, N]
        m = exp_sigmoid(mags + self.bias)
        ir = torch.roll(torch.fft.irfft(m, n=self.L), self.L // 2, -1) * self.win
        blocks = torch.fft.irfft(torch.fft.rfft(ir, n=self.nfft) * self.noise_spec, n=self.nfft)[..., :self.blen]
        out = Fn.fold(blocks.transpose(1, 2), output_size=(1, self.total), kernel_size=(1, self.blen),
                      stride=(1, self.fs))
        return out.reshape(mags.shape[0], self.total)[:, self.crop:self.crop + self.n]




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.5)
    ap.add_argument("--cases", default="", help="comma-separated subset (default: all)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    want = set(filter(None, a.cases.split(",")))

    def run(name, fn):
        if not want or name in want:
            print("%s %.4f" % (name, bench(fn, a.reps, a.min_time)), flush=True)

    x = torch.rand(1, N) * 2 - 1
    y = torch.rand(1, N) * 2 - 1
    loss = SpectralLoss(N)

    def sl_fwdbwd():
        xv = x.detach().requires_grad_()
        loss(xv, y).backward()

    run("spectral_loss_fwdbwd", sl_fwdbwd)

    synth = HarmonicSynth(F, N, K, SR)
    amps = torch.rand(1, F) * 4 - 2
    dist = torch.rand(1, F, K) * 4 - 2
    f0 = torch.rand(1, F) * 300 + 100
    seed = torch.rand(1, N) * 2 - 1

    def h_fwd():
        with torch.inference_mode():
            synth(amps, dist, f0)

    def h_fwdbwd():
        av, dv = amps.detach().requires_grad_(), dist.detach().requires_grad_()
        (synth(av, dv, f0) * seed).sum().backward()

    run("harmonic_fwd", h_fwd)
    run("harmonic_fwdbwd", h_fwdbwd)

    noise = FilteredNoise(1, F, N, M)
    mags = torch.rand(1, F, M) * 4 - 2

    def n_fwd():
        with torch.inference_mode():
            noise(mags)

    def n_fwdbwd():
        mv = mags.detach().requires_grad_()
        (noise(mv) * seed).sum().backward()

    run("filtered_noise_fwd", n_fwd)
    run("filtered_noise_fwdbwd", n_fwdbwd)


if __name__ == "__main__":
    main()
