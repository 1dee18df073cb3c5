// fugue/backend/cuda/config.hpp — how the CUDA backend is being compiled.
//
// Contract: the CUDA backend headers compile in two ways.
//  * With nvcc (__CUDACC__): FUGUE_CUDA_RUNTIME is 1 and fugue::cuda::device (real GPU
//    memory, cuBLAS, cuFFT, Thrust on a CUDA stream) is available, next to the Thrust host
//    systems below.
//  * With a host compiler and THRUST_DEVICE_SYSTEM set to THRUST_DEVICE_SYSTEM_CPP or
//    THRUST_DEVICE_SYSTEM_OMP (the "Thrust host build"): FUGUE_CUDA_RUNTIME is 0 and only the
//    Thrust host systems exist (cuda::thrust_cpp, and cuda::thrust_omp with OpenMP). They run
//    the same functors and Thrust algorithms as the GPU backend, with the GEMM and FFT calls
//    served by fugue's CPU kernels instead of cuBLAS / cuFFT. This is how CI proves the
//    device logic without a GPU.
// FUGUE_HOST_DEVICE / FUGUE_HD_TEMPLATE come from core/host_device.hpp.
#pragma once

#include "fugue/core/host_device.hpp"

#if defined(__CUDACC__)
#define FUGUE_CUDA_RUNTIME 1
#else
#define FUGUE_CUDA_RUNTIME 0
#if !defined(THRUST_DEVICE_SYSTEM)
#error \
    "fugue/backend/cuda without nvcc: define THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_CPP (or _OMP) for the Thrust host build"
#endif
#endif
