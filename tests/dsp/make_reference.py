#!/usr/bin/env python3
"""Writes librosa / torch reference arrays for fugue's DSP conformance test.

Usage: make_reference.py OUT_DIR   (normally run by scripts/prepare_dsp_reference.sh)

Every array is raw float64 little-endian, C order, in fugue's layout (spectrograms [frames][bins],
filterbanks [mels][bins]; librosa/torch arrays are transposed before writing), named <name>.f64.
index.json lists each array's file, shape and what produced it, plus the library versions.
The test signals are written too (sig.f64), so the C++ side needs no random-number agreement.
"""
import json
import os
import sys

import librosa
import numpy as np
import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
index = {"format": "raw float64 little-endian, C order", "versions": {
    "librosa": librosa.__version__, "torch": torch.__version__, "numpy": np.__version__}, "arrays": {}}


def put(name, arr, what):
    a = np.ascontiguousarray(np.asarray(arr, dtype="<f8"))
    a.tofile(os.path.join(out, name + ".f64"))
    index["arrays"][name] = {"file": name + ".f64", "shape": list(a.shape), "what": what}


# --- the test signal: 8037 samples at 16 kHz (odd length on purpose) --------------------------
sr = 16000
n = 8037
t = np.arange(n) / sr
rng = np.random.RandomState(0)
chirp_phase = 2 * np.pi * (100 * t + 0.5 * (4000 - 100) / (n / sr) * t * t)
sig = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 1234.5 * t + 0.3)
       + 0.2 * np.sin(chirp_phase) + 0.01 * rng.randn(n))
put("sig", sig, "test signal, 16 kHz: 440 Hz + 1234.5 Hz sines, 100->4000 Hz chirp, 0.01 white noise")

# --- STFT magnitudes, librosa ---------------------------------------------------------------
for name, kw in [("constant", dict(center=True, pad_mode="constant")),
                 ("reflect", dict(center=True, pad_mode="reflect")),
                 ("nocenter", dict(center=False))]:
    S = librosa.stft(sig, n_fft=512, hop_length=128, window="hann", **kw)
    put(f"librosa_stft_mag_{name}", np.abs(S).T, f"abs(librosa.stft(sig, n_fft=512, hop_length=128, {kw})).T")

# --- torch.stft / istft ------------------------------------------------------------------------
x = torch.from_numpy(sig)
for n_fft, hop in [(512, 128), (400, 160)]:
    win = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
    X = torch.stft(x, n_fft=n_fft, hop_length=hop, window=win, center=True, pad_mode="reflect",
                   return_complex=True)
    put(f"torch_stft_re_{n_fft}", X.real.numpy().T, f"torch.stft(sig, {n_fft}, {hop}, hann periodic, center, reflect).real.T")
    put(f"torch_stft_im_{n_fft}", X.imag.numpy().T, f"same .imag.T")
    # A modified spectrogram (phase rotated by frame) so that istft is not just the identity.
    Y = X * torch.exp(1j * torch.arange(X.shape[1], dtype=torch.float64) * 0.1)[None, :]
    y = torch.istft(Y, n_fft=n_fft, hop_length=hop, window=win, center=True, length=n)
    put(f"torch_istft_{n_fft}", y.numpy(), f"torch.istft(stft * exp(0.1 i t), {n_fft}, {hop}, center, length={n})")

# --- mel filterbanks ---------------------------------------------------------------------------
for name, kw in [("htk_16k_2048_229_30", dict(sr=16000, n_fft=2048, n_mels=229, fmin=30.0, htk=True)),
                 ("slaney_22k_1024_80_0_8000", dict(sr=22050, n_fft=1024, n_mels=80, fmin=0.0, fmax=8000.0)),
                 ("slaney_nonorm_16k_512_40", dict(sr=16000, n_fft=512, n_mels=40, norm=None)),
                 ("htk_nonorm_16k_1024_64_50_7000", dict(sr=16000, n_fft=1024, n_mels=64, fmin=50.0, fmax=7000.0,
                                                        htk=True, norm=None))]:
    put(f"mel_{name}", librosa.filters.mel(dtype=np.float64, **kw), f"librosa.filters.mel({kw}, dtype=float64)")

# --- log-mel (Onsets and Frames front end) and MFCC ------------------------------------------
M = librosa.feature.melspectrogram(y=sig, sr=sr, n_fft=2048, hop_length=512, fmin=30.0, n_mels=229, htk=True)
L = librosa.power_to_db(M)
put("of_logmel", L.T, "power_to_db(melspectrogram(sig, 16000, n_fft 2048, hop 512, fmin 30, 229 mels, htk)).T")
put("of_mfcc", librosa.feature.mfcc(S=L, n_mfcc=20).T, "librosa.feature.mfcc(S=of_logmel, n_mfcc=20) (DCT-II ortho).T")

# --- A-weighting -------------------------------------------------------------------------------
f = librosa.fft_frequencies(sr=16000, n_fft=512)
with np.errstate(divide="ignore"):  # log10(0) at DC, clipped to min_db by librosa
    put("a_weighting_16k_512", librosa.A_weighting(f), "librosa.A_weighting(fft_frequencies(16000, 512)), min_db -80")
fl = np.array([10.0, 31.5, 100.0, 440.0, 1000.0, 2000.0, 4000.0, 10000.0, 20000.0])
put("a_weighting_freqs", fl, "frequencies for a_weighting_list")
put("a_weighting_list", librosa.A_weighting(fl, min_db=None), "librosa.A_weighting(freqs, min_db=None)")

# --- DDSP v2 loudness re-derived in numpy from librosa pieces (not DDSP's own code) ------------
P = np.abs(librosa.stft(sig, n_fft=512, hop_length=64, center=True, pad_mode="constant")) ** 2
with np.errstate(divide="ignore"):
    w = 10 ** (librosa.A_weighting(librosa.fft_frequencies(sr=16000, n_fft=512)) / 10)
p = np.mean(P * w[:, None], axis=0)
put("loudness_v2", np.maximum(10 * np.log10(np.maximum(p, 1e-8)), -80.0),
    "DDSP HEAD compute_loudness recipe with librosa stft (center, constant), n_fft 512, hop 64")

with open(os.path.join(out, "index.json"), "w") as fh:
    json.dump(index, fh, indent=1)
print(f"wrote {len(index['arrays'])} arrays to {out}")
