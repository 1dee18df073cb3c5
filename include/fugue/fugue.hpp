// fugue/fugue.hpp — the CPU-side whole of fugue in one include.
//
// Contract: includes every module's umbrella header (docs/core.md, "Headers"): core, Tensor
// with its default backend (fugue/tensor.hpp), backend (its CPU side), ops, autodiff, nn,
// optim, train, io, dsp, music and models. Not the CUDA backend: include fugue/backend/cuda.hpp by name.
#pragma once
#include "fugue/core.hpp"
#include "fugue/tensor.hpp"
#include "fugue/backend.hpp"
#include "fugue/ops.hpp"
#include "fugue/autodiff.hpp"
#include "fugue/nn.hpp"
#include "fugue/optim.hpp"
#include "fugue/train.hpp"
#include "fugue/io.hpp"
#include "fugue/dsp.hpp"
#include "fugue/music.hpp"
#include "fugue/models.hpp"
