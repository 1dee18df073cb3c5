// fugue/backend/cuda/status.hpp — CUDA, cuBLAS and cuFFT status codes as fugue::error.
//
// Contract: FUGUE_CUDA_CALL(expr), FUGUE_CUBLAS_CALL(expr) and FUGUE_CUFFT_CALL(expr)
// evaluate a runtime / cuBLAS / cuFFT call and, unless it returned success, throw a
// fugue::error whose message names the call as written, the status name and its
// description, e.g.
//   "cudaMalloc(&p, bytes) failed: cudaErrorMemoryAllocation (out of memory)".
// The translating functions (cuda::check_cuda / check_cublas / check_cufft) are host-only
// and need no GPU, so they are tested on machines without one. nvcc builds only.
#pragma once

#include "fugue/backend/cuda/config.hpp"

#if FUGUE_CUDA_RUNTIME
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cufft.h>

#include "fugue/core/error.hpp"

namespace fugue::cuda {

inline const char* cufft_status_name(cufftResult r) {
  switch (r) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    default: return "unknown cufftResult";
  }
}

inline void check_cuda(cudaError_t e, const char* call, source_location where = source_location::current()) {
  if (e == cudaSuccess) [[likely]]
    return;
  throw error(detail::concat(call, " failed: ", cudaGetErrorName(e), " (", cudaGetErrorString(e), ")"), where);
}
inline void check_cublas(cublasStatus_t s, const char* call, source_location where = source_location::current()) {
  if (s == CUBLAS_STATUS_SUCCESS) [[likely]]
    return;
  throw error(detail::concat(call, " failed: ", cublasGetStatusName(s), " (", cublasGetStatusString(s), ")"), where);
}
inline void check_cufft(cufftResult r, const char* call, source_location where = source_location::current()) {
  if (r == CUFFT_SUCCESS) [[likely]]
    return;
  throw error(detail::concat(call, " failed: ", cufft_status_name(r), " (cuFFT status ", int(r), ")"), where);
}

}  // namespace fugue::cuda

#define FUGUE_CUDA_CALL(...) ::fugue::cuda::check_cuda((__VA_ARGS__), #__VA_ARGS__)
#define FUGUE_CUBLAS_CALL(...) ::fugue::cuda::check_cublas((__VA_ARGS__), #__VA_ARGS__)
#define FUGUE_CUFFT_CALL(...) ::fugue::cuda::check_cufft((__VA_ARGS__), #__VA_ARGS__)
#endif
