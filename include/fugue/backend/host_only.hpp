// fugue/backend/host_only.hpp — marking kernels that loop over tensor memory on the host.
//
// Contract: FUGUE_REQUIRE_HOST_BACKEND(B, "what") is a static_assert that B is
// host-accessible, placed at the entry of kernels that dereference tensor pointers in plain
// host loops (the fused recurrent, convolution, attention and batch-norm kernels). With a
// device backend (fugue::cuda::device, or its Thrust host twins) using such a layer is a
// compile-time error naming the layer, not a crash on the GPU.
#pragma once

#define FUGUE_REQUIRE_HOST_BACKEND(B, what)                         \
  static_assert(B::host_accessible, what                            \
                " loops over tensor memory on the host and has no " \
                "device kernel yet: run it on a host-accessible backend (cpu::native)")
