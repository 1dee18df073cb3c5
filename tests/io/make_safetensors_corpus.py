#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz_safetensors.cpp (also read by tests/io):
valid_*.safetensors written by this independent encoder, invalid_*.safetensors each broken in
one way. Usage: make_safetensors_corpus.py OUT_DIR  (stdlib only; output is deterministic)."""
import json
import os
import struct
import sys


def encode(tensors, metadata=None, pad=True, header_override=None, length_override=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, data, off = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    text = header_override if header_override is not None else json.dumps(header, separators=(",", ":"))
    hb = text.encode("utf-8")
    if pad:
        hb += b" " * ((8 - len(hb) % 8) % 8)
    n = len(hb) if length_override is None else length_override
    return struct.pack("<Q", n) + hb + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def main(out):
    os.makedirs(out, exist_ok=True)
    files = {
        "valid_mixed": encode(
            [("weight", "F32", [2, 3], f32(0, 1, 2, 3, 4, 5)),
             ("bias", "F64", [2], struct.pack("<2d", -0.5, 0.25)),
             ("steps", "I64", [], struct.pack("<q", 7))],
            {"format": "pt", "config": '{"in": 3, "out": 2}'}),
        "valid_halves": encode(
            [("h", "F16", [4], struct.pack("<4H", 0x3C00, 0x8000, 0x7BFF, 0x0001)),
             ("bf", "BF16", [2], struct.pack("<2H", 0x3F80, 0xC040)),
             ("i32", "I32", [3], struct.pack("<3i", -1, 0, 2147483647)),
             ("mask", "BOOL", [2, 2], bytes([1, 0, 0, 1])),
             ("u8", "U8", [3], bytes([0, 128, 255]))]),
        "valid_empty": encode([], pad=False),
        "valid_zero_size": encode([("z", "F32", [0, 4], b""), ("s", "F32", [], f32(1.5))], {}),
        "valid_unpadded_escapes": encode(
            [("n\u00e9\"x\\y", "F32", [1], f32(3.0))], {"k\u00e9y": "v\nal\u0001"}, pad=False),
        # Model cards (io/model_file.hpp): a complete DDSP card, and a valid file whose card is damaged.
        "valid_card_ddsp": encode(
            [("decoder.dense.bias", "F32", [3], f32(0.5, -1, 2))],
            {"fugue.family": "ddsp", "fugue.config": "tiny", "fugue.version": "0.1.0", "fugue.parameters": "3",
             "fugue.hparams": '{"model":{"harmonics":1,"noise_bands":3},"options":{"sample_rate":16000,'
                              '"frame_rate":250,"amp_resample":"window","noise_seed":42}}',
             "fugue.features": '{"sample_rate":16000,"frame_rate":250,"f0":"yin","fmin":60,"fmax":2000,'
                               '"yin_threshold":0.1,"min_confidence":0.5,"fallback_f0_hz":440,'
                               '"loudness":"rms_power"}'}),
        "valid_card_damaged": encode(
            [("w", "F32", [1], f32(1))],
            {"fugue.family": "music_vae", "fugue.config": "x", "fugue.version": "0.1.0", "fugue.parameters": "1e3",
             "fugue.hparams": '{"model":{"latent":', "fugue.features": "[]"}),
        "invalid_truncated": encode([("w", "F32", [4], f32(1, 2, 3, 4))])[:-5],
        "invalid_header_beyond": encode([("w", "F32", [1], f32(1))], length_override=4096),
        "invalid_overlap": encode([], header_override='{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                                                      '"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
        + f32(1, 2),
        "invalid_bad_json": encode([], header_override='{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}')
        + f32(1),
        "invalid_dtype": encode([("w", "Q8", [1], b"\0")]),
        "invalid_shape_mismatch": encode([], header_override='{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}')
        + f32(1, 2),
        "invalid_metadata_type": encode([], header_override='{"__metadata__":{"a":[1]}}'),
        "invalid_short": b"\x08\x00\x00",
    }
    for name, blob in files.items():
        with open(os.path.join(out, name + ".safetensors"), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main(sys.argv[1])
