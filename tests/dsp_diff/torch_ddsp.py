#!/usr/bin/python3
"""Independent float64 PyTorch reference for fugue's differentiable DSP conformance test.

Run with Debian's interpreter and python3-torch (1.13):
    /usr/bin/python3 tests/dsp_diff/torch_ddsp.py OUT_DIR
(scripts/prepare_dsp_diff_reference.sh does this into ${FUGUE_DATA:-~/.cache/fugue}/dsp_diff_ref/).
Read by tests/dsp_diff/test_dsp_diff_conformance.cpp.

Written from the DDSP facts in the project's DDSP spec (§3.1-3.3 harmonic synthesizer, §5
multi-scale spectral loss) and the option defaults documented in fugue/dsp/harmonic_synth.hpp and
fugue/dsp/spectral_loss.hpp; gradients come from torch autograd, so nothing of fugue's hand-written
backward passes is reused. Everything is float64.

Harmonic synthesizer (HarmonicOptions defaults, n_samples = 6400, sample rate 16000):
  inputs are raw (pre-activation) network outputs: A = exp_sigmoid(amps), c = exp_sigmoid(dist),
  exp_sigmoid(x) = 2 sigmoid(x)^ln 10 + 1e-7; c_k = 0 where k f0 >= sr/2; c <- c / sum c (safe divide);
  harmonic amplitudes A c_k at frame rate; harmonic frequencies k f0 upsampled with 'linear'
  resampling, amplitudes with 'window' (overlap-added periodic Hann) or 'linear' resampling;
  amplitudes zeroed where the sample-rate frequency is >= sr/2; phase = inclusive cumulative sum of
  2 pi f / sr, computed as an angular cumsum (DDSP core.angular_cumsum: chunked cumsum with the
  chunk offsets wrapped mod 2 pi; mathematically the plain cumsum, chunk 64 here to keep the phase
  small and the float64 rounding of the reference ~1e-12 rad); y = sum_k a_k sin(phase_k).
  Backward seed w: the gradients are those of sum(y * w).
Spectral loss (SpectralLossOptions defaults): FFT sizes 2048..64, hop s/4, periodic Hann, fft_length
  s, tf.signal pad_end framing (ceil(N / hop) frames, zeros appended), |rfft|;
  L = sum_s mean|Sx - Sy| + mean|log(Sx + 1e-5) - log(Sy + 1e-5)| (means over batch x frames x bins).

Output: OUT_DIR/<name>.f64 raw little-endian float64, C order, and OUT_DIR/index.json (names,
shapes, metadata). Deterministic (seeded torch CPU generator).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as Fn

FORMAT = "fugue-dsp-diff-ref-1"
DT = torch.float64
SR = 16000.0
TWO_PI = 2.0 * math.pi


# ----------------------------------------------------------------------------- DDSP pieces
def exp_sigmoid(x, exponent=10.0, max_value=2.0, threshold=1e-7):
    return max_value * torch.sigmoid(x) ** math.log(exponent) + threshold


def resample_linear(x, n_samples):
    """x [B, F, C] -> [B, n_samples, C]; TF1 bilinear resize, align_corners=False, no half-pixel
    centres: output t reads position p = t F / n, lerp floor(p) .. floor(p) + 1, clamped to F - 1."""
    F = x.shape[1]
    p = torch.arange(n_samples, dtype=DT) * F / n_samples
    i0 = torch.floor(p).long().clamp(max=F - 1)
    i1 = (i0 + 1).clamp(max=F - 1)
    frac = (p - i0.to(DT)).clamp(min=0.0, max=1.0)
    frac = torch.where(i0 == F - 1, torch.zeros_like(frac), frac)[None, :, None]
    return x[:, i0, :] * (1.0 - frac) + x[:, i1, :] * frac


def upsample_with_windows(x, n_samples):
    """x [B, F, C] -> [B, n_samples, C]; DDSP upsample_with_windows (add_endpoint=True): append the
    last frame, window each of the F + 1 points with a periodic Hann of 2 hop, overlap-add with hop,
    drop hop samples at both ends."""
    B, F, C = x.shape
    assert n_samples % F == 0, "window resampling needs n_samples % frames == 0"
    x = torch.cat([x, x[:, -1:, :]], dim=1)  # [B, F + 1, C]
    hop = n_samples // F
    L = 2 * hop
    win = torch.hann_window(L, periodic=True, dtype=DT)
    frames = x.permute(0, 2, 1).reshape(B * C, F + 1, 1) * win  # [B C, F + 1, L]
    total = F * hop + L  # (F + 1 - 1) hop + L
    y = Fn.fold(frames.transpose(1, 2), output_size=(1, total), kernel_size=(1, L), stride=(1, hop))
    y = y.reshape(B, C, total)[:, :, hop:total - hop]
    return y.permute(0, 2, 1)


def angular_cumsum(omega, chunk=64):
    """Inclusive cumulative sum over axis 1 of omega [B, N, C], chunked, offsets wrapped mod 2 pi."""
    B, N, C = omega.shape
    pad = (-N) % chunk
    if pad:
        omega = torch.cat([omega, omega.new_zeros(B, pad, C)], dim=1)
    n_chunks = omega.shape[1] // chunk
    ph = torch.cumsum(omega.reshape(B, n_chunks, chunk, C), dim=2)
    last = torch.remainder(ph[:, :, -1:, :], TWO_PI)
    offsets = torch.cat([torch.zeros_like(last[:, :1]), last[:, :-1]], dim=1)
    offsets = torch.remainder(torch.cumsum(offsets, dim=1), TWO_PI)
    ph = torch.remainder(ph + offsets, TWO_PI).reshape(B, n_chunks * chunk, C)
    return ph[:, :N, :]


def harmonic_synth(amps, dist, f0, n_samples, method, sample_rate=SR):
    """amps [B, F] raw, dist [B, F, K] raw, f0 [B, F] Hz -> audio [B, n_samples]."""
    K = dist.shape[-1]
    nyq = sample_rate / 2.0
    A = exp_sigmoid(amps)[..., None]  # [B, F, 1]
    c = exp_sigmoid(dist)
    k = torch.arange(1, K + 1, dtype=DT)
    fk = f0[..., None] * k  # [B, F, K]
    c = torch.where(fk >= nyq, torch.zeros_like(c), c)
    s = c.sum(dim=-1, keepdim=True)
    s = torch.where(s == 0.0, torch.full_like(s, 1e-7), s)
    a = A * (c / s)
    f_up = resample_linear(fk, n_samples)
    if method == "window":
        a_up = upsample_with_windows(a, n_samples)
    elif method == "linear":
        a_up = resample_linear(a, n_samples)
    else:
        raise ValueError(method)
    a_up = torch.where(f_up >= nyq, torch.zeros_like(a_up), a_up)
    phase = angular_cumsum(f_up * (TWO_PI / sample_rate))
    return (a_up * torch.sin(phase)).sum(dim=-1)


def stft_mag(x, n_fft, overlap=0.75):
    """|STFT| of x [B, N]: frame n_fft, hop n_fft (1 - overlap), periodic Hann, fft_length n_fft,
    tf.signal pad_end framing. -> [B, frames, n_fft / 2 + 1]."""
    hop = int(n_fft * (1.0 - overlap))
    N = x.shape[-1]
    n_frames = -(-N // hop)
    padded = (n_frames - 1) * hop + n_fft
    xp = Fn.pad(x, (0, padded - N))
    frames = xp.unfold(-1, n_fft, hop)  # [B, frames, n_fft]
    assert frames.shape[1] == n_frames
    win = torch.hann_window(n_fft, periodic=True, dtype=DT)
    return torch.fft.rfft(frames * win, n=n_fft, dim=-1).abs()


def spectral_loss(x, y, fft_sizes=(2048, 1024, 512, 256, 128, 64), mag_weight=1.0, logmag_weight=1.0,
                  eps=1e-5):
    loss = x.new_zeros(())
    for s in fft_sizes:
        Sx, Sy = stft_mag(x, s), stft_mag(y, s)
        loss = loss + mag_weight * (Sx - Sy).abs().mean()
        loss = loss + logmag_weight * (torch.log(Sx + eps) - torch.log(Sy + eps)).abs().mean()
    return loss


# ----------------------------------------------------------------------------- inputs
def smooth_noise(g, B, F, knots, scale):
    """Slowly varying random curves [B, F]: random values at `knots` points, linearly interpolated."""
    v = torch.randn(B, knots, 1, generator=g, dtype=DT) * scale
    return resample_linear_endpoint(v, F)[..., 0]


def resample_linear_endpoint(v, n):
    """Linear interpolation of v [B, M, 1] through its M points onto n points, endpoints included."""
    M = v.shape[1]
    p = torch.linspace(0.0, M - 1, n, dtype=DT)
    i0 = torch.floor(p).long().clamp(max=M - 2)
    t = (p - i0.to(DT))[None, :, None]
    return v[:, i0] * (1 - t) + v[:, i0 + 1] * t


def make_harmonic_inputs(g, B=2, F=100, K=20, N=6400):
    frames = torch.arange(F, dtype=DT)
    # f0: batch 0 an exponential glide 110 -> 880 Hz with a light vibrato; batch 1 a slow random
    # walk in log frequency around 400 Hz within [100, 900]. With K = 20 harmonics, k f0 crosses
    # sr/2 = 8000 Hz for every f0 > 400 Hz, also between neighbouring frames during the glide.
    glide = 110.0 * 8.0 ** (frames / (F - 1)) * (1.0 + 0.01 * torch.sin(TWO_PI * frames / 12.5))
    walk = 400.0 * torch.exp(smooth_noise(g, 1, F, 8, 0.45)[0])
    f0 = torch.stack([glide, walk.clamp(100.0, 900.0)])
    # Raw (pre-exp_sigmoid) network outputs, slowly varying plus a little frame noise.
    amps = smooth_noise(g, B, F, 6, 1.0) - 1.0 + 0.1 * torch.randn(B, F, generator=g, dtype=DT)
    dist = (torch.randn(B, 1, K, generator=g, dtype=DT) * 1.5
            + smooth_noise(g, B * K, F, 5, 1.0).reshape(B, K, F).transpose(1, 2)
            + 0.2 * torch.randn(B, F, K, generator=g, dtype=DT)
            - 0.1 * torch.arange(K, dtype=DT))
    w = torch.randn(B, N, generator=g, dtype=DT)
    return amps, dist.contiguous(), f0, w


def make_loss_inputs(g, B=2, N=8000):
    t = torch.arange(N, dtype=DT) / SR
    # x: harmonic tones with a glide plus noise; y: different tones plus noise (independent of x).
    fx = torch.tensor([[220.0], [523.25]], dtype=DT) * (1.0 + 0.5 * t / t[-1])
    phx = torch.cumsum(TWO_PI * fx / SR, dim=-1)
    x = sum((0.6 / h) * torch.sin(h * phx) for h in range(1, 6)) + 0.05 * torch.randn(B, N, generator=g, dtype=DT)
    fy = torch.tensor([[233.08], [440.0]], dtype=DT)
    phy = TWO_PI * fy * t
    y = (0.5 * torch.sin(phy) + 0.25 * torch.sin(3 * phy + 0.3) + 0.1 * torch.sin(7 * phy + 1.1)
         + 0.08 * torch.randn(B, N, generator=g, dtype=DT))
    return x, y


# ----------------------------------------------------------------------------- output
def main():
    if len(sys.argv) != 2:
        sys.exit("usage: torch_ddsp.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    arrays = []

    def save(name, t):
        a = t.detach().to(DT).contiguous().cpu().numpy()
        path = os.path.join(out, name + ".f64")
        with open(path, "wb") as f:
            f.write(a.astype("<f8").tobytes(order="C"))
        arrays.append({"name": name, "file": name + ".f64", "shape": list(a.shape), "dtype": "float64-le"})

    g = torch.Generator().manual_seed(20240611)
    N = 6400
    amps, dist, f0, w = make_harmonic_inputs(g, N=N)
    save("hs_amps", amps)
    save("hs_dist", dist)
    save("hs_f0", f0)
    save("hs_w", w)
    for method in ("window", "linear"):
        va = amps.clone().requires_grad_(True)
        vd = dist.clone().requires_grad_(True)
        vf = f0.clone().requires_grad_(True)
        y = harmonic_synth(va, vd, vf, N, method)
        y.backward(w)
        save("hs_y_" + method, y)
        save("hs_damps_" + method, va.grad)
        save("hs_ddist_" + method, vd.grad)
        save("hs_df0_" + method, vf.grad)

    x, y = make_loss_inputs(g)
    save("sl_x", x)
    save("sl_y", y)
    vx = x.clone().requires_grad_(True)
    vy = y.clone().requires_grad_(True)
    loss = spectral_loss(vx, vy)
    loss.backward()
    save("sl_loss", loss.reshape(1))
    save("sl_dx", vx.grad)
    save("sl_dy", vy.grad)

    index = {
        "format": FORMAT,
        "torch": torch.__version__,
        "generator": "tests/dsp_diff/torch_ddsp.py",
        "harmonic": {"sample_rate": SR, "n_samples": N, "frames": 100, "harmonics": 20,
                     "exp_sigmoid": True, "normalize_below_nyquist": True, "amp_resample": ["window", "linear"],
                     "grad_seed": "hs_w"},
        "spectral_loss": {"fft_sizes": [2048, 1024, 512, 256, 128, 64], "overlap": 0.75, "mag_weight": 1.0,
                          "logmag_weight": 1.0, "log_eps": 1e-5, "log_kind": "add_eps", "framing": "pad_end"},
        "arrays": arrays,
    }
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(f"torch_ddsp: {len(arrays)} arrays into {out} (loss {loss.item():.12g})")


if __name__ == "__main__":
    main()
