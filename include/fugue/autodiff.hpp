// fugue/autodiff.hpp — reverse-mode autodiff: the tape, every differentiable op,
// gradient checking and the op registry. See docs/autodiff.md.
#pragma once
#include "fugue/autodiff/evaluate.hpp"
#include "fugue/autodiff/gradcheck.hpp"
#include "fugue/autodiff/host_staged.hpp"
#include "fugue/autodiff/ops/elementwise.hpp"
#include "fugue/autodiff/ops/linalg.hpp"
#include "fugue/autodiff/ops/loss.hpp"
#include "fugue/autodiff/ops/nn.hpp"
#include "fugue/autodiff/ops/reduce.hpp"
#include "fugue/autodiff/ops/shape.hpp"
#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
