#!/usr/bin/env python3
"""PyTorch peer of bench_music_vae.cpp, float32, run by scripts/compare/musicvae.sh under the peer
interpreter of scripts/compare/common.sh: PyTorch 2.x by default, Debian's PyTorch 1.13 with
FUGUE_PEER=torch113 (the same code runs on both; see adam() for the one difference).

MusicVAE cat-mel_2bar_small (spec /work/shared/specs/musicvae.md §3, fugue's
configs::cat_mel_2bar_small<float>), written the way a torch port writes it:
  encoder   nn.LSTM(90, 512, bidirectional=True, batch_first=True); encoding = [h_n fw | h_n bw] (1024)
  posterior mu = Linear(1024, 256), sigma = softplus(Linear(1024, 256)), z = mu + sigma * eps
  decoder   initial state tanh(Linear(256, 1024)) split c0, h0, c1, h1 (256 each);
            nn.LSTM(90 + 256, 256, num_layers=2, batch_first=True) over [prev one-hot | z];
            logits = Linear(256, 90) of the top layer's h
  Dense kernels N(0, 0.001), biases 0 (as fugue's DenseTF); LSTMs keep torch's default init.
Prints one line per case: `<case> <ms>`: the MEDIAN over --reps repetitions of the mean time per call
within a repetition (each repetition runs calls for at least --min-time seconds), which is what the fugue
side reports (Google Benchmark repetitions, median aggregate).
Threading: torch.set_num_threads(--threads); the caller sets the library threads in the environment
(2.x: OMP_NUM_THREADS = MKL_NUM_THREADS = --threads; 1.13: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS;
scripts/compare/musicvae.sh runs the 2-core settings and the 1-vs-1 setting).
Cases:
  train_step_b64  one training step, batch 64, 32 steps, fixed random melody (ids in [0, 90)):
                  teacher forcing (targets shifted right, zero first row, concatenated with z at every
                  step), cross-entropy summed over steps / mean over batch + beta * mean KL (free bits 0,
                  beta and lr from MusicVAE's schedules), backward, clip_grad_norm_(1.0) (plus MusicVAE's
                  zeroing rule at norm >= 10000), torch.optim.Adam step. NO scheduled sampling (as the
                  fugue side, which sets hp.sampling = {}). Also reads the loss back, as fugue's
                  Trainer::step reports it (no accuracy: neither side computes one per step). Adam is torch's fused CPU
                  kernel where torch has one (>= 2.4), its default loop otherwise (1.13).
  sample_b1_32    torch.inference_mode(): z fixed [1, 256], state init, then 32 steps of two nn.LSTMCell calls,
                  logits / 0.5 -> softmax -> torch.multinomial, the sampled token one-hot concatenated
                  with z as the next input (the first step's token part is zero).
"""
import sys
import os
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as Fn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from peer_common import bench, adam  # noqa: E402

DEPTH, ENC, Z, DEC, STEPS, BATCH = 90, 512, 256, 256, 32, 64


def dense(i, o):
    d = nn.Linear(i, o)
    nn.init.normal_(d.weight, 0.0, 0.001)
    nn.init.zeros_(d.bias)
    return d


class MusicVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(DEPTH, ENC, bidirectional=True, batch_first=True)
        self.mu = dense(2 * ENC, Z)
        self.sigma = dense(2 * ENC, Z)
        self.init = dense(Z, 2 * 2 * DEC)
        self.decoder = nn.LSTM(DEPTH + Z, DEC, num_layers=2, batch_first=True)
        self.output = dense(DEC, DEPTH)

    def initial_state(self, z):
        c0, h0, c1, h1 = torch.tanh(self.init(z)).split(DEC, dim=-1)
        return torch.stack([h0, h1]), torch.stack([c0, c1])

    def loss(self, x, targets, beta):
        n, steps = targets.shape
        _, (h, _) = self.encoder(x)
        enc = torch.cat([h[0], h[1]], dim=-1)
        mu = self.mu(enc)
        sigma = Fn.softplus(self.sigma(enc))
        z = mu + sigma * torch.randn_like(mu)
        prev = torch.cat([torch.zeros(n, 1, DEPTH), x[:, :-1]], dim=1)  # x is the targets' one-hot
        dec_in = torch.cat([prev, z.unsqueeze(1).expand(n, steps, Z)], dim=-1)
        y, _ = self.decoder(dec_in, self.initial_state(z))
        logits = self.output(y).reshape(n * steps, DEPTH)
        flat = targets.reshape(-1)
        r_loss = Fn.cross_entropy(logits, flat, reduction="sum") / n
        kl = 0.5 * (mu * mu + sigma * sigma - 1.0 - 2.0 * torch.log(sigma)).sum(-1)
        kl_cost = torch.relu(kl - 0.0).mean()  # free bits 0
        # No accuracy here: fugue's training step no longer computes one either (metrics stay out of
        # the step), so neither side pays a per-step argmax.
        return r_loss + beta * kl_cost






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

    # --- train_step_b64 ---
    model = MusicVAE()
    params = list(model.parameters())
    opt = adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    targets = torch.randint(0, DEPTH, (BATCH, STEPS))
    x = Fn.one_hot(targets, DEPTH).float()
    step = [0]

    def train_step():
        s = step[0]
        lr = (1e-3 - 1e-5) * 0.9999 ** s + 1e-5
        beta = (1.0 - 0.99999 ** s) * 0.2
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = model.loss(x, targets, beta)
        loss_v = loss.item()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if norm.item() >= 10000:
            for p in params:
                p.grad.zero_()
        opt.step()
        step[0] += 1
        return loss_v

    run("train_step_b64", train_step)

    # --- sample_b1_32 ---
    smodel = MusicVAE()
    cell0 = nn.LSTMCell(DEPTH + Z, DEC)
    cell1 = nn.LSTMCell(DEC, DEC)
    with torch.no_grad():  # the same weights as the decoder LSTM stack
        for cell, l in ((cell0, 0), (cell1, 1)):
            cell.weight_ih.copy_(getattr(smodel.decoder, "weight_ih_l%d" % l))
            cell.weight_hh.copy_(getattr(smodel.decoder, "weight_hh_l%d" % l))
            cell.bias_ih.copy_(getattr(smodel.decoder, "bias_ih_l%d" % l))
            cell.bias_hh.copy_(getattr(smodel.decoder, "bias_hh_l%d" % l))
    zs = torch.randn(1, Z)
    temperature = 0.5

    def sample():
        with torch.inference_mode():
            (h0, h1), (c0, c1) = smodel.initial_state(zs)
            tok_in = torch.zeros(1, DEPTH)
            out = []
            for _ in range(STEPS):
                xin = torch.cat([tok_in, zs], dim=-1)
                h0, c0 = cell0(xin, (h0, c0))
                h1, c1 = cell1(h0, (h1, c1))
                probs = torch.softmax(smodel.output(h1) / temperature, dim=-1)
                tok = torch.multinomial(probs, 1)
                out.append(tok)
                tok_in = Fn.one_hot(tok[:, 0], DEPTH).float()
            return torch.cat(out, dim=1).tolist()

    run("sample_b1_32", sample)


if __name__ == "__main__":
    main()
