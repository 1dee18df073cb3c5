#!/usr/bin/python3
"""PyTorch reference files for fugue's layer and optimizer conformance tests.

Run with Debian's interpreter and python3-torch (1.13):
    /usr/bin/python3 tests/nn/make_torch_reference.py OUT_DIR [case ...]
(scripts/prepare_torch_reference.sh does this into ${FUGUE_DATA:-~/.cache/fugue}/torch_ref/).

Writes one OUT_DIR/<case>.safetensors per case, with a hand-written safetensors encoder (no
dependency on the `safetensors` package). The layout is documented in tests/nn/README.md:
    param.<torch name>        parameters (float32-representable values)
    buffer.<name>             buffers after the forward pass (BatchNorm running stats)
    buffer_before.<name>      buffers before it
    input.<k>                 inputs (boolean masks as 0/1 floats, 1 = masked / padded)
    output.<k>                outputs
    seedgrad.<k>              fixed random weights w_k; loss = sum_k sum(output.k * w_k)
    grad.param.<torch name>   d loss / d parameter
    grad.input.<k>            d loss / d input
Optimizer cases instead hold param.<n> (initial), grad.<s>.param.<n> (the gradient fed at step
s = 1..steps), updated.<s>.param.<n> (the value after step s) and state.<slot>.<n> (final
optimizer state). Metadata: "case", "config" (a JSON string), "torch" (version), "format"
("fugue-torch-ref-1"), "precision".

Layer cases are computed in float64 from float32-representable parameters and inputs and
stored rounded to float32, so the stored outputs/gradients are the correctly rounded answers
(a float32 implementation is compared against the truth, not against torch's own float32
rounding). Optimizer cases run torch's float32 optimizer, as fugue's float32 one does.
Deterministic: every case seeds torch's CPU generator with its own fixed seed.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

FORMAT = "fugue-torch-ref-1"


# ----------------------------------------------------------------------------- safetensors
def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, torch tensor) written as little-endian F32, in this order."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, off = [], 0
    for name, t in tensors:
        assert name not in header, name
        a = t.detach().to(torch.float32).contiguous().cpu().numpy()
        raw = a.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- helpers
def rand(*shape, scale=1.0):
    """float32 normal values (then used in float64 for layer cases)."""
    return (torch.randn(*shape, dtype=torch.float32) * scale)


def randomize_params(module, scale=0.5):
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(rand(*p.shape, scale=scale))


def layer_case(name, seed, module, inputs, forward, config, grad_inputs=None, buffers=()):
    """Runs forward in float64, backward of sum(out_k * seedgrad_k), returns the tensor list.

    module: a torch module with float32-representable parameters (converted to float64 here).
    inputs: dict k -> float32 tensor; grad_inputs: keys that need gradients (default: all
    floating inputs not ending in '_mask'). forward(module, inputs64) -> dict k -> output.
    buffers: names of module buffers to store before (buffer_before.*) and after (buffer.*).
    """
    torch.manual_seed(seed + 1000)
    module = module.double()
    tensors = []
    for pname, p in module.named_parameters():
        tensors.append(("param." + pname, p))
    before = {b: getattr(module, b).detach().clone() for b in buffers}
    if grad_inputs is None:
        grad_inputs = [k for k in inputs if not k.endswith("_mask")]
    x64 = {}
    for k, v in inputs.items():
        v64 = v.double()
        if k in grad_inputs:
            v64.requires_grad_(True)
        x64[k] = v64
        tensors.append(("input." + k, v64))
    out = forward(module, x64)
    loss = 0
    seedgrads = {}
    for k, y in out.items():
        if k.endswith("_nograd"):
            continue
        w = rand(*y.shape).double()
        seedgrads[k] = w
        loss = loss + (y * w).sum()
    loss.backward()
    for k, y in out.items():
        tensors.append(("output." + k.replace("_nograd", ""), y))
    for k, w in seedgrads.items():
        tensors.append(("seedgrad." + k, w))
    for pname, p in module.named_parameters():
        tensors.append(("grad.param." + pname, p.grad))
    for k in grad_inputs:
        tensors.append(("grad.input." + k, x64[k].grad))
    for b in buffers:
        tensors.append(("buffer_before." + b, before[b].double()))
        tensors.append(("buffer." + b, getattr(module, b).detach().double()))
    return tensors, {"case": name, "config": json.dumps(config, sort_keys=True), "precision": "float64"}


def causal_mask(n):
    """Boolean [n, n], True above the diagonal (= masked), torch's convention."""
    return torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)


# ----------------------------------------------------------------------------- layer cases
def case_linear(seed):
    torch.manual_seed(seed)
    m = nn.Linear(5, 3)
    randomize_params(m)
    x = rand(2, 4, 5)
    cfg = {"module": "Linear", "in_features": 5, "out_features": 3, "bias": True, "input_shape": [2, 4, 5]}
    return layer_case("linear", seed, m, {"x": x}, lambda m, i: {"y": m(i["x"])}, cfg)


def rnn_case(name, seed, cls, input_size, hidden, layers, bidirectional, batch=2, steps=6):
    torch.manual_seed(seed)
    m = cls(input_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
    randomize_params(m)
    dirs = 2 if bidirectional else 1
    inputs = {"x": rand(batch, steps, input_size), "h0": rand(layers * dirs, batch, hidden, scale=0.5)}
    if cls is nn.LSTM:
        inputs["c0"] = rand(layers * dirs, batch, hidden, scale=0.5)

        def fwd(m, i):
            y, (h, c) = m(i["x"], (i["h0"], i["c0"]))
            return {"y": y, "h_n": h, "c_n": c}
    else:
        def fwd(m, i):
            y, h = m(i["x"], i["h0"])
            return {"y": y, "h_n": h}
    cfg = {"module": cls.__name__, "input_size": input_size, "hidden_size": hidden, "num_layers": layers,
           "bidirectional": bidirectional, "batch_first": True, "bias": True,
           "input_shape": [batch, steps, input_size],
           "state_shape": [layers * dirs, batch, hidden],
           "gate_order": "i,f,g,o" if cls is nn.LSTM else "r,z,n"}
    return layer_case(name, seed, m, inputs, fwd, cfg)


def case_lstm_stacked(seed):
    return rnn_case("lstm_stacked", seed, nn.LSTM, 4, 5, 2, False)


def case_lstm_bidirectional(seed):
    return rnn_case("lstm_bidirectional", seed, nn.LSTM, 4, 5, 1, True)


def case_lstm_bidirectional_stacked(seed):
    return rnn_case("lstm_bidirectional_stacked", seed, nn.LSTM, 4, 5, 2, True)


def case_gru(seed):
    return rnn_case("gru", seed, nn.GRU, 4, 5, 1, False)


def case_gru_stacked(seed):
    return rnn_case("gru_stacked", seed, nn.GRU, 4, 5, 2, False)


def case_conv1d(seed):
    torch.manual_seed(seed)
    m = nn.Conv1d(3, 4, kernel_size=3, stride=2, padding=2, dilation=2)
    randomize_params(m)
    x = rand(2, 3, 11)
    cfg = {"module": "Conv1d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 2,
           "dilation": 2, "groups": 1, "bias": True, "input_shape": [2, 3, 11]}
    return layer_case("conv1d", seed, m, {"x": x}, lambda m, i: {"y": m(i["x"])}, cfg)


def case_conv2d(seed):
    torch.manual_seed(seed)
    m = nn.Conv2d(2, 3, kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2))
    randomize_params(m)
    x = rand(2, 2, 7, 6)
    cfg = {"module": "Conv2d", "in_channels": 2, "out_channels": 3, "kernel_size": [3, 2], "stride": [2, 1],
           "padding": [1, 1], "dilation": [1, 2], "groups": 1, "bias": True, "input_shape": [2, 2, 7, 6]}
    return layer_case("conv2d", seed, m, {"x": x}, lambda m, i: {"y": m(i["x"])}, cfg)


def case_conv_transpose2d(seed):
    torch.manual_seed(seed)
    m = nn.ConvTranspose2d(3, 2, kernel_size=3, stride=2, padding=1, output_padding=1)
    randomize_params(m)
    x = rand(2, 3, 4, 5)
    cfg = {"module": "ConvTranspose2d", "in_channels": 3, "out_channels": 2, "kernel_size": [3, 3],
           "stride": [2, 2], "padding": [1, 1], "output_padding": [1, 1], "dilation": [1, 1], "groups": 1,
           "bias": True, "input_shape": [2, 3, 4, 5], "weight_layout": "[in_channels, out_channels, kH, kW]"}
    return layer_case("conv_transpose2d", seed, m, {"x": x}, lambda m, i: {"y": m(i["x"])}, cfg)


def case_layer_norm(seed):
    torch.manual_seed(seed)
    m = nn.LayerNorm(6, eps=1e-5)
    randomize_params(m)
    x = rand(2, 3, 6) * 2 + 0.5
    cfg = {"module": "LayerNorm", "normalized_shape": [6], "eps": 1e-5, "elementwise_affine": True,
           "input_shape": [2, 3, 6]}
    return layer_case("layer_norm", seed, m, {"x": x}, lambda m, i: {"y": m(i["x"])}, cfg)


def batch_norm_case(name, seed, train):
    torch.manual_seed(seed)
    m = nn.BatchNorm1d(4, eps=1e-5, momentum=0.1)
    randomize_params(m)
    with torch.no_grad():
        m.running_mean.copy_(rand(4, scale=0.3))
        m.running_var.copy_(rand(4).abs() + 0.5)
        m.num_batches_tracked.fill_(3)
    m.train(train)
    x = rand(3, 4, 5) * 1.5 + 0.2
    cfg = {"module": "BatchNorm1d", "num_features": 4, "eps": 1e-5, "momentum": 0.1, "affine": True,
           "track_running_stats": True, "training": train, "input_shape": [3, 4, 5],
           "note": "running_var is updated with the unbiased batch variance (torch); buffer.* are after the step"}
    # num_batches_tracked is an integer buffer: stored as float.
    m.num_batches_tracked = m.num_batches_tracked  # keep as buffer
    tensors, meta = layer_case(name, seed, m, {"x": x}, lambda m, i: {"y": m(i["x"])}, cfg,
                               buffers=("running_mean", "running_var", "num_batches_tracked"))
    return tensors, meta


def case_batch_norm_train(seed):
    return batch_norm_case("batch_norm_train", seed, True)


def case_batch_norm_eval(seed):
    return batch_norm_case("batch_norm_eval", seed, False)


def mha_case(name, seed, self_attention):
    torch.manual_seed(seed)
    E, H, B, L = 8, 2, 2, 5
    m = nn.MultiheadAttention(E, H, dropout=0.0, bias=True, batch_first=True)
    randomize_params(m)
    attn = causal_mask(L)
    kpm = torch.zeros(B, L, dtype=torch.bool)
    kpm[1, L - 2:] = True  # batch 1: last two keys are padding
    if self_attention:
        inputs = {"x": rand(B, L, E)}
    else:
        # Encoder-decoder attention: keys and values both come from one memory tensor (fugue's
        # MultiheadAttention takes one `memory`); its gradient sums the key and value paths.
        inputs = {"query": rand(B, L, E), "memory": rand(B, L, E)}
    inputs["attn_mask"] = attn.float()
    inputs["key_padding_mask"] = kpm.float()

    def fwd(m, i):
        q, k, v = (i["x"],) * 3 if self_attention else (i["query"], i["memory"], i["memory"])
        y, w = m(q, k, v, attn_mask=i["attn_mask"] > 0.5, key_padding_mask=i["key_padding_mask"] > 0.5,
                 need_weights=True, average_attn_weights=True)
        return {"y": y, "attn_weights_nograd": w}

    cfg = {"module": "MultiheadAttention", "embed_dim": E, "num_heads": H, "dropout": 0.0, "bias": True,
           "batch_first": True, "self_attention": self_attention, "query_shape": [B, L, E],
           "attn_mask": "bool [L, S] causal, 1 = masked (True above the diagonal)",
           "key_padding_mask": "bool [B, S], 1 = padding; batch 1 pads its last 2 keys",
           "attn_weights": "output.attn_weights: head-averaged [B, L, S]; not part of the loss"}
    return layer_case(name, seed, m, inputs, fwd, cfg)


def case_multihead_attention(seed):
    return mha_case("multihead_attention", seed, False)


def case_multihead_attention_self(seed):
    return mha_case("multihead_attention_self", seed, True)


def case_transformer_encoder_layer(seed):
    torch.manual_seed(seed)
    E, H, F, B, L = 8, 2, 16, 2, 5
    m = nn.TransformerEncoderLayer(E, H, dim_feedforward=F, dropout=0.0, activation="relu", layer_norm_eps=1e-5,
                                   batch_first=True, norm_first=False)
    randomize_params(m, scale=0.4)
    m.train()  # no fast path; dropout is 0 anyway
    kpm = torch.zeros(B, L, dtype=torch.bool)
    kpm[1, L - 2:] = True
    inputs = {"x": rand(B, L, E), "src_mask": causal_mask(L).float(), "src_key_padding_mask": kpm.float()}

    def fwd(m, i):
        return {"y": m(i["x"], src_mask=i["src_mask"] > 0.5, src_key_padding_mask=i["src_key_padding_mask"] > 0.5)}

    cfg = {"module": "TransformerEncoderLayer", "d_model": E, "nhead": H, "dim_feedforward": F, "dropout": 0.0,
           "activation": "relu", "layer_norm_eps": 1e-5, "batch_first": True, "norm_first": False,
           "input_shape": [B, L, E], "src_mask": "bool [L, L] causal, 1 = masked",
           "src_key_padding_mask": "bool [B, L], 1 = padding; batch 1 pads its last 2 positions",
           "structure": "x = norm1(x + self_attn(x)); y = norm2(x + linear2(relu(linear1(x))))"}
    return layer_case("transformer_encoder_layer", seed, m, inputs, fwd, cfg)


# ----------------------------------------------------------------------------- optimizer cases
def optimizer_case(name, seed, make_opt, config, steps):
    torch.manual_seed(seed)
    params = {"weight": nn.Parameter(rand(3, 4)), "bias": nn.Parameter(rand(3, scale=0.1))}
    opt = make_opt(list(params.values()))
    tensors = [("param." + n, p.detach().clone()) for n, p in params.items()]
    for s in range(1, steps + 1):
        for n, p in params.items():
            g = rand(*p.shape, scale=0.5 * s)
            g.view(-1)[0] = 1e-9  # a tiny gradient element: exercises eps
            p.grad = g
            tensors.append(("grad.%d.param.%s" % (s, n), g.clone()))
        opt.step()
        for n, p in params.items():
            tensors.append(("updated.%d.param.%s" % (s, n), p.detach().clone()))
    for n, p in params.items():
        for slot, v in opt.state[p].items():
            if torch.is_tensor(v) and v.dim() > 0:
                tensors.append(("state.%s.%s" % (slot, n), v.detach().clone()))
    config = dict(config, steps=steps, param_names=list(params.keys()),
                  param_shapes={n: list(p.shape) for n, p in params.items()})
    return tensors, {"case": name, "config": json.dumps(config, sort_keys=True), "precision": "float32"}


def case_adam_step(seed):
    cfg = {"optimizer": "Adam", "lr": 0.01, "betas": [0.9, 0.99], "eps": 1e-8, "weight_decay": 0.1,
           "amsgrad": False}
    return optimizer_case("adam_step", seed, lambda ps: torch.optim.Adam(
        ps, lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1, foreach=False), cfg, steps=3)


def case_adamw_step(seed):
    cfg = {"optimizer": "AdamW", "lr": 0.01, "betas": [0.85, 0.995], "eps": 1e-7, "weight_decay": 0.05,
           "amsgrad": False}
    return optimizer_case("adamw_step", seed, lambda ps: torch.optim.AdamW(
        ps, lr=0.01, betas=(0.85, 0.995), eps=1e-7, weight_decay=0.05, foreach=False), cfg, steps=3)


def case_sgd_momentum_step(seed):
    cfg = {"optimizer": "SGD", "lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01,
           "nesterov": False}
    return optimizer_case("sgd_momentum_step", seed, lambda ps: torch.optim.SGD(
        ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False, foreach=False), cfg, steps=2)


def case_sgd_nesterov_step(seed):
    cfg = {"optimizer": "SGD", "lr": 0.05, "momentum": 0.8, "dampening": 0.0, "weight_decay": 0.0,
           "nesterov": True}
    return optimizer_case("sgd_nesterov_step", seed, lambda ps: torch.optim.SGD(
        ps, lr=0.05, momentum=0.8, dampening=0.0, weight_decay=0.0, nesterov=True, foreach=False), cfg, steps=2)


CASES = [
    ("linear", case_linear),
    ("lstm_stacked", case_lstm_stacked),
    ("lstm_bidirectional", case_lstm_bidirectional),
    ("lstm_bidirectional_stacked", case_lstm_bidirectional_stacked),
    ("gru", case_gru),
    ("gru_stacked", case_gru_stacked),
    ("conv1d", case_conv1d),
    ("conv2d", case_conv2d),
    ("conv_transpose2d", case_conv_transpose2d),
    ("layer_norm", case_layer_norm),
    ("batch_norm_train", case_batch_norm_train),
    ("batch_norm_eval", case_batch_norm_eval),
    ("multihead_attention", case_multihead_attention),
    ("multihead_attention_self", case_multihead_attention_self),
    ("transformer_encoder_layer", case_transformer_encoder_layer),
    ("adam_step", case_adam_step),
    ("adamw_step", case_adamw_step),
    ("sgd_momentum_step", case_sgd_momentum_step),
    ("sgd_nesterov_step", case_sgd_nesterov_step),
]


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    out = argv[1]
    wanted = set(argv[2:])
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for seed, (name, fn) in enumerate(CASES, start=1):
        if wanted and name not in wanted:
            continue
        tensors, meta = fn(seed * 7919)
        for n, t in tensors:
            assert t is not None, "%s: %s has no value (no gradient?)" % (name, n)
            assert torch.isfinite(t.double()).all(), "%s: %s is not finite" % (name, n)
        meta.update({"format": FORMAT, "torch": torch.__version__, "seed": str(seed * 7919)})
        write_safetensors(os.path.join(out, name + ".safetensors"), tensors, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
