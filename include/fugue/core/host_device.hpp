// fugue/core/host_device.hpp — marking code callable from CUDA device code.
//
// Contract: FUGUE_HOST_DEVICE is `__host__ __device__` under nvcc and nothing otherwise.
// FUGUE_HD_TEMPLATE goes before a FUGUE_HOST_DEVICE function template that is also
// instantiated with host-only types (xsimd batches, host lambdas) but called with those only
// on the host; it silences nvcc's host/device call check there (Thrust does the same).
#pragma once

#if defined(__CUDACC__)
#define FUGUE_HOST_DEVICE __host__ __device__
#define FUGUE_HD_TEMPLATE _Pragma("nv_exec_check_disable")
#else
#define FUGUE_HOST_DEVICE
#define FUGUE_HD_TEMPLATE
#endif
