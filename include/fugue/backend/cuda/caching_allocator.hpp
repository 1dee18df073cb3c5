// fugue/backend/cuda/caching_allocator.hpp — the CUDA backend's name for the shared block
// cache (fugue/backend/caching_allocator.hpp), used over cudaMalloc with no cache limit.
#pragma once

#include "fugue/backend/caching_allocator.hpp"

namespace fugue::cuda {
using ::fugue::allocator_statistics;
using ::fugue::caching_allocator;
}  // namespace fugue::cuda
