#!/usr/bin/env python3
"""PyTorch peer of bench_ddsp_model.cpp, float32, run by scripts/compare/ddsp.sh under the peer interpreter
of scripts/compare/common.sh: PyTorch 2.x by default, Debian's PyTorch 1.13 with FUGUE_PEER=torch113 (the
same code runs on both; see adam() for the one difference).

One training step of DDSP's "solo_instrument" model (spec /work/shared/specs/ddsp.md §2.2, §3-§6) at
batch 8 x 4 s at 16 kHz (64000 samples, 1000 frames at 250 Hz), written the way a torch DDSP port
writes it (whole-tensor ops, autograd for the backward):
  preprocessing  f0_scaled = hz_to_midi(f0_hz) / 127, ld_scaled = loudness_db / 80 + 1   ([B, 1000, 1] each)
  decoder        RnnFcDecoder (HEAD): per input (ld_scaled, f0_scaled, in solo_instrument.gin's
                 input_keys order) an FcStack of 3 x (Linear(->512), LayerNorm(eps 1e-3), leaky_relu(0.2));
                 nn.GRU(1024 -> 512, batch_first) over [h_ld | h_f0] (torch's GRU = Keras reset_after=True,
                 two bias vectors); FcStack 3 x 512 over [h_ld | h_f0 | gru] (1536); Linear(512 -> 126)
                 split amps 1 | harmonic_distribution 60 | noise_magnitudes 65.
                 4,801,150 parameters (asserted), + 48,000 reverb taps = 4,849,150 trained.
  harmonic       exp_sigmoid(amps), exp_sigmoid(harmonic_distribution), zeroed where k f0 >= sr/2 at frame
                 rate, normalized (zero sum -> 1e-7); amplitudes upsampled 1000 -> 64000 with DDSP's 'window'
                 method (overlap-added periodic Hann of 128, hop 64, last frame appended), written as the
                 identical raised-cosine crossfade between frame q and q + 1 by broadcasting over
                 [B, 1000, 64, 60]; f0 upsampled linearly (p = t / 64, last frame held); per-sample Nyquist
                 mask (>=); phase = inclusive cumulative sum of 2 pi f0 / sr (float64, wrapped to [0, 2 pi)),
                 harmonic k uses k * phase (f_k = k f0, so this is each harmonic's own cumsum);
                 y = sum over the 60 harmonics of a_k sin(phase_k).
  filtered noise exp_sigmoid(noise_magnitudes - 5) (65 bands), irfft to a 128-tap zero-phase IR, fftshift to
                 causal form times the periodic Hann(128), per frame an rfft(256) product with a block of 64
                 samples of uniform noise in [-1, 1) (drawn fresh every step, as tf.random.uniform in DDSP),
                 irfft(256), overlap-add with hop 64 (F.fold), crop from 62, 64000 samples.
  reverb         trainable IR [48000] (init N(0, 1e-6)), first tap zeroed, rfft(131072) product with the
                 dry signal, first 64000 samples, + dry.
  loss           multi-scale spectral loss, FFT sizes 2048..64, hop s/4, periodic Hann, tf pad_end framing
                 (ceil(N / hop) frames, zeros appended), torch.stft(center=False); mean L1 of |S| plus mean L1
                 of log(|S| + 1e-5) per size, weights 1 and 1 (means over batch x frames x bins).
  optimizer      torch.optim.Adam(lr 3e-4 * 0.98^(step / 10000) (ExponentialDecay), betas (0.9, 0.999),
                 eps 1e-7; torch's fused CPU kernel where it has one, >= 2.4), clip_grad_norm_(3.0).
The timed call (case train_step_b8) is: zero_grad, preprocessing, decoder, synths, reverb, loss (both
spectrograms), loss.item(), backward, clip_grad_norm_, optimizer step.
Data: fixed random batch from seed 0: f0 smooth random curves in [200, 800] Hz, loudness smooth in
[-60, -10] dB, target audio a sum of 3 sines with random frequencies plus small noise.
Prints one line per case: `<case> <ms>`: the MEDIAN over --reps repetitions of the mean time per call
within a repetition (each repetition runs calls for at least --min-time seconds; at --min-time 0 one call),
which is what the fugue side reports (Google Benchmark repetitions, median aggregate).
The parameter count is printed once to stderr.
Threading: torch.set_num_threads(--threads); the caller sets the library threads in the environment
(2.x: OMP_NUM_THREADS = MKL_NUM_THREADS = --threads; 1.13: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS;
scripts/compare/ddsp.sh runs the 2-core settings and the 1-vs-1 setting).
There is no inference path here: the whole step is training. The oscillator bank is built under
torch.no_grad() (f0 is data), not torch.inference_mode(): its result is saved by autograd for the
backward of a_up * osc, which inference tensors cannot be.
"""
import os
import argparse
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as Fn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peer_common import bench, adam  # noqa: E402

B, N, F, SR = 8, 64000, 1000, 16000.0
HOP = N // F  # 64
K, M = 60, 65  # harmonics, noise bands
CH, RNN, LAYERS = 512, 512, 3
REVERB = 48000
DECODER_PARAMS = 4_801_150


def exp_sigmoid(x):
    return 2.0 * torch.sigmoid(x) ** math.log(10.0) + 1e-7


def hz_to_midi(f):
    m = 12.0 * (torch.log2(torch.clamp(f, min=1e-12)) - math.log2(440.0)) + 69.0
    return torch.where(f <= 0.0, torch.zeros_like(m), m)


# ----------------------------------------------------------------------------- network
class FcStack(nn.Sequential):
    def __init__(self, n_in, ch=CH, layers=LAYERS):
        mods = []
        for i in range(layers):
            mods += [nn.Linear(n_in if i == 0 else ch, ch), nn.LayerNorm(ch, eps=1e-3), nn.LeakyReLU(0.2)]
        super().__init__(*mods)


class RnnFcDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.ld_stack = FcStack(1)
        self.f0_stack = FcStack(1)
        self.rnn = nn.GRU(2 * CH, RNN, batch_first=True)
        self.out_stack = FcStack(2 * CH + RNN)
        self.dense_out = nn.Linear(CH, 1 + K + M)

    def forward(self, ld_scaled, f0_scaled):  # [B, F, 1] each
        h = [self.ld_stack(ld_scaled), self.f0_stack(f0_scaled)]
        g, _ = self.rnn(torch.cat(h, dim=-1))
        y = self.dense_out(self.out_stack(torch.cat(h + [g], dim=-1)))
        return y.split([1, K, M], dim=-1)  # amps, harmonic_distribution, noise_magnitudes


# ----------------------------------------------------------------------------- synthesis
class Harmonic:
    def __init__(self):
        self.nyq = SR / 2.0
        self.w = 2.0 * math.pi / SR
        self.harm = torch.arange(1, K + 1, dtype=torch.float32)
        r = torch.arange(HOP, dtype=torch.float64)
        # 'window' amplitude upsampling == crossfade frame q -> q + 1 with 0.5 - 0.5 cos(pi r / hop)
        self.lam = (0.5 - 0.5 * torch.cos(math.pi * r / HOP)).float()[None, None, :, None]  # [1, 1, HOP, 1]
        self.mu = (r / HOP)[None, None, :]  # linear f0 upsampling, float64 [1, 1, HOP]

    @staticmethod
    def _next(x):  # frame q + 1, the last frame held / appended
        return torch.cat([x[:, 1:], x[:, -1:]], dim=1)

    def __call__(self, amps, dist, f0):  # [B, F, 1], [B, F, K], [B, F, 1] Hz -> [B, N]
        b = amps.shape[0]
        a = exp_sigmoid(amps)
        c = exp_sigmoid(dist) * (f0 * self.harm < self.nyq)
        s = c.sum(-1, keepdim=True)
        s = torch.where(s == 0.0, torch.full_like(s, 1e-7), s)
        h = a * (c / s)  # [B, F, K] frame-rate harmonic amplitudes
        a_up = h[:, :, None, :] + (self._next(h) - h)[:, :, None, :] * self.lam  # [B, F, HOP, K]
        with torch.no_grad():  # f0 is data: no gradient flows into the phase (not inference_mode: osc is saved)
            f = f0[..., 0].double()
            f_up = (f[:, :, None] + (self._next(f) - f)[:, :, None] * self.mu).reshape(b, N)  # [B, N]
            phase = torch.remainder(torch.cumsum(f_up * self.w, dim=-1), 2.0 * math.pi).float()
            osc = torch.sin(phase[..., None] * self.harm) * (f_up.float()[..., None] * self.harm < self.nyq)
        return (a_up.reshape(b, N, K) * osc).sum(-1)


class FilteredNoise:
    def __init__(self, bias=-5.0):
        self.bias = bias
        self.L = 2 * (M - 1)  # 128-tap IR
        self.fs = -(-N // F)  # 64-sample blocks
        self.blen = self.fs + self.L - 1  # 191
        self.nfft = 1 << (self.blen - 1).bit_length()  # 256
        self.total = F * self.fs + self.L - 1
        self.crop = (self.L - 1) // 2 - 1  # 62
        self.win = torch.hann_window(self.L, periodic=True)

    def __call__(self, mags):  # [B, F, M] -> [B, N]
        b = mags.shape[0]
        m = exp_sigmoid(mags + self.bias)
        ir = torch.roll(torch.fft.irfft(m, n=self.L), self.L // 2, -1) * self.win  # [B, F, 128] causal
        noise = torch.rand(b, F * self.fs) * 2.0 - 1.0
        noise_spec = torch.fft.rfft(noise.reshape(b, F, self.fs), n=self.nfft)
        blocks = torch.fft.irfft(torch.fft.rfft(ir, n=self.nfft) * noise_spec, n=self.nfft)[..., :self.blen]
        out = Fn.fold(blocks.transpose(1, 2), output_size=(1, self.total), kernel_size=(1, self.blen),
                      stride=(1, self.fs))
        return out.reshape(b, self.total)[:, self.crop:self.crop + N]


class Reverb(nn.Module):
    def __init__(self):
        super().__init__()
        self.ir = nn.Parameter(torch.randn(REVERB) * 1e-6)
        mask = torch.ones(REVERB)
        mask[0] = 0.0
        self.register_buffer("mask", mask)
        self.nfft = 1 << (N + REVERB - 2).bit_length()  # 131072

    def forward(self, audio):  # [B, N]
        ir = self.ir * self.mask
        wet = torch.fft.irfft(torch.fft.rfft(audio, n=self.nfft) * torch.fft.rfft(ir, n=self.nfft),
                              n=self.nfft)[:, :audio.shape[-1]]
        return wet + audio


class SpectralLoss:
    def __init__(self, n, sizes=(2048, 1024, 512, 256, 128, 64), overlap=0.75, eps=1e-5):
        self.eps = eps
        self.scales = []
        for s in sizes:
            hop = int(s * (1.0 - overlap))
            frames = -(-n // hop)
            pad = (frames - 1) * hop + s - n
            self.scales.append((s, hop, pad, torch.hann_window(s, periodic=True)))

    @staticmethod
    def mag(x, s, hop, pad, win):
        return torch.stft(Fn.pad(x, (0, pad)), n_fft=s, hop_length=hop, win_length=s, window=win,
                          center=False, return_complex=True).abs()

    def __call__(self, target, pred):
        total = 0.0
        for sc in self.scales:
            st, sp = self.mag(target, *sc), self.mag(pred, *sc)
            total = total + (st - sp).abs().mean()
            total = total + (torch.log(st + self.eps) - torch.log(sp + self.eps)).abs().mean()
        return total




# ----------------------------------------------------------------------------- data
def smooth(g, b, knots, lo, hi):
    """Slowly varying random curves [b, F] in [lo, hi]: uniform knots, linearly interpolated."""
    v = torch.rand(b, 1, knots, generator=g) * (hi - lo) + lo
    return Fn.interpolate(v, size=F, mode="linear", align_corners=True)[:, 0]


def make_batch(g):
    f0 = smooth(g, B, 9, 200.0, 800.0)[..., None]  # [B, F, 1] Hz
    loudness = smooth(g, B, 17, -60.0, -10.0)[..., None]  # [B, F, 1] dB
    t = torch.arange(N, dtype=torch.float64) / SR
    freqs = torch.rand(B, 3, 1, generator=g, dtype=torch.float64) * 1800.0 + 100.0
    audio = (0.2 * torch.sin(2.0 * math.pi * freqs * t)).sum(1).float()
    audio = audio + 0.01 * (torch.rand(B, N, generator=g) * 2.0 - 1.0)
    return f0, loudness, audio




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.0)
    ap.add_argument("--cases", default="", help="comma-separated subset (default: all)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    want = set(filter(None, a.cases.split(",")))

    def run(name, fn):
        if not want or name in want:
            print("%s %.4f" % (name, bench(fn, a.reps, a.min_time, warmup=1)), flush=True)

    # --- train_step_b8 ---
    decoder = RnnFcDecoder()
    reverb = Reverb()
    n_dec = sum(p.numel() for p in decoder.parameters())
    n_rev = sum(p.numel() for p in reverb.parameters())
    print("torch_ddsp_model: decoder parameters %d (+ reverb %d = %d)" % (n_dec, n_rev, n_dec + n_rev),
          file=sys.stderr, flush=True)
    assert n_dec == DECODER_PARAMS, n_dec
    params = list(decoder.parameters()) + list(reverb.parameters())
    opt = adam(params, lr=3e-4, betas=(0.9, 0.999), eps=1e-7)
    harmonic, noise, loss_fn = Harmonic(), FilteredNoise(), SpectralLoss(N)
    f0_hz, loudness_db, audio = make_batch(torch.Generator().manual_seed(0))
    step = [0]

    def train_step():
        for grp in opt.param_groups:
            grp["lr"] = 3e-4 * 0.98 ** (step[0] / 10000.0)
        opt.zero_grad(set_to_none=True)
        f0_scaled = hz_to_midi(f0_hz) / 127.0
        ld_scaled = loudness_db / 80.0 + 1.0
        amps, dist, mags = decoder(ld_scaled, f0_scaled)
        dry = harmonic(amps, dist, f0_hz) + noise(mags)
        loss = loss_fn(audio, reverb(dry))
        loss_v = loss.item()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 3.0)
        opt.step()
        step[0] += 1
        return loss_v

    run("train_step_b8", train_step)


if __name__ == "__main__":
    main()
