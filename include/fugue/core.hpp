// fugue/core.hpp — the core module (fugue/core/) in one include: fugue::error, Shape and
// Extents, Philox, the Backend concept, Tensor and ShapedTensor, host spans, the lane vocabulary
// (core/lanes.hpp) and the named elementwise functors (fugue::fn).
//
// Contract: includes every public header of fugue/core and nothing else. Core names no
// backend implementation, so Tensor has no default backend here: fugue/tensor.hpp (or
// fugue/fugue.hpp) adds B = cpu::native.
#pragma once
#include "fugue/core/backend_concept.hpp"
#include "fugue/core/error.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/core/host_device.hpp"
#include "fugue/core/host_span.hpp"
#include "fugue/core/lanes.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/shape.hpp"
#include "fugue/core/shaped_tensor.hpp"
#include "fugue/core/tensor.hpp"
