// fugue/fugue.hpp — the CPU-side whole of fugue in one include.
#pragma once
#include "fugue/core/error.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/shape.hpp"
#include "fugue/core/shaped_tensor.hpp"
#include "fugue/core/tensor.hpp"
#include "fugue/backend/cpu.hpp"
#include "fugue/ops.hpp"
