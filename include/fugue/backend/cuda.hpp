// fugue/backend/cuda.hpp — the CUDA backend and its Thrust host twins.
//
// Contract: include this (after defining THRUST_DEVICE_SYSTEM when not compiling with
// nvcc; see cuda/config.hpp) to get
//  * fugue::cuda::device       — the GPU: cudaMalloc + cuBLAS + cuFFT + Thrust on a stream
//                                (nvcc builds only);
//  * fugue::cuda::thrust_cpp   — the same backend code on Thrust's sequential host system;
//  * fugue::cuda::thrust_omp   — on Thrust's OpenMP system (when compiled with OpenMP).
// All satisfy fugue::Backend and are not host-accessible. cuda::device_count() is the
// number of usable GPUs (0 without a GPU or driver, and always 0 in the Thrust host build).
#pragma once

#include "fugue/backend/cuda/config.hpp"
#include "fugue/backend/cuda/device.hpp"
#include "fugue/backend/cuda/host_systems.hpp"
#if FUGUE_CUDA_RUNTIME
#include "fugue/backend/cuda/gpu_system.hpp"
#endif

namespace fugue::cuda {

using thrust_cpp = basic_device<thrust_cpp_system>;
static_assert(Backend<thrust_cpp>);
#if defined(_OPENMP)
using thrust_omp = basic_device<thrust_omp_system>;
static_assert(Backend<thrust_omp>);
#endif

#if FUGUE_CUDA_RUNTIME
using device = basic_device<gpu_system>;
static_assert(Backend<device>);

// Usable GPUs; 0 (not an error) when the driver or a device is missing.
inline int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}
#else
inline int device_count() noexcept { return 0; }
#endif

}  // namespace fugue::cuda
