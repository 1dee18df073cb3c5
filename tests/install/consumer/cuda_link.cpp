// fugue::cuda's link interface from an installed tree: the CUDA runtime, cuBLAS and cuFFT
// resolve (version queries need no GPU).
#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <cufft.h>

#include <cstdio>

int main() {
  int runtime = 0, fft = 0;
  if (cudaRuntimeGetVersion(&runtime) != cudaSuccess || cufftGetVersion(&fft) != CUFFT_SUCCESS) return 1;
  std::printf("consumer_cuda: CUDA runtime %d, cuFFT %d, cuBLAS linked (%p)\n", runtime, fft,
              reinterpret_cast<void*>(&cublasCreate_v2));
  return 0;
}
