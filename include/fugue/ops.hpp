// fugue/ops.hpp — all tensor-level operations (no autodiff).
#pragma once
#include "fugue/ops/concat.hpp"
#include "fugue/ops/elementwise.hpp"
#include "fugue/ops/linalg.hpp"
#include "fugue/ops/reduce.hpp"
#include "fugue/ops/row_argmax.hpp"
