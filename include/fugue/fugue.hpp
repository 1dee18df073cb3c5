// fugue/fugue.hpp — the CPU-side whole of fugue in one include.
//
// Contract: includes every module's umbrella header (docs/core.md, "Headers"): core, Tensor
// with its default backend (fugue/tensor.hpp), backend (its CPU side), ops, autodiff, nn,
// optim, train, io, dsp, music and models, and fugue/version.hpp. Not the CUDA backend, nor
// fugue/interop/ (optional dependencies): include fugue/backend/cuda.hpp or
// fugue/interop/xtensor.hpp by name.
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
#include "fugue/version.hpp"
