// A custom backend for expect_concept_error.cmake (test concepts_miswired_backend): cpu::native
// under another name. As is it is a fugue::Backend and Tensor<float, it> must compile; with
// -DFUGUE_MISWIRED=1 it hides gemv (a member the library calls): the compile must fail naming
// BackendGemm (the layer of fugue::Backend that lists gemv).
#include "fugue/backend/cpu.hpp"
#include "fugue/core/tensor.hpp"

struct my_backend : fugue::cpu::native {
#if defined(FUGUE_MISWIRED) && FUGUE_MISWIRED == 1
  static void gemv();
#endif
};

template class fugue::Tensor<float, my_backend>;
