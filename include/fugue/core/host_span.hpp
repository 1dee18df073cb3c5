// fugue/core/host_span.hpp — host code reading and writing a tensor's elements on any backend.
//
// Contract:
//  * HostSpan<T, B>(t): a host pointer to the elements of the contiguous tensor t (fugue::error
//    otherwise). On host-accessible backends it is t's own memory (no copy; commit() does
//    nothing); on device backends a host copy of t that commit() writes back. Call commit()
//    before t is used on the backend again. load = false skips copying the old contents in
//    (for a tensor the host code overwrites completely).
//  * HostReadSpan<T, B>(t): read-only host pointer to t's elements in row-major order (any
//    strides): t's memory when it is host-accessible and contiguous, else a host copy.
// The span refers to t: t must outlive it. For the small host-side steps of models and
// optimizers (one-hot encoding, token sampling, slerp, parameter updates) on device backends.
#pragma once

#include <cstddef>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/core/tensor.hpp"

namespace fugue {

template <Scalar T, Backend B>
class HostSpan {
 public:
  explicit HostSpan(Tensor<T, B>& t, bool load = true) : t_(t) {
    FUGUE_CHECK(t.is_contiguous(), "host access needs a contiguous tensor, got one of shape ", t.shape().str(),
                " with other strides");
    if constexpr (!B::host_accessible) copy_ = load ? t.to_vector() : std::vector<T>(std::size_t(t.numel()));
  }
  T* data() {
    if constexpr (B::host_accessible)
      return t_.data();
    else
      return copy_.data();
  }
  T& operator[](index_t i) { return data()[i]; }
  void commit() {
    if constexpr (!B::host_accessible)
      if (!copy_.empty()) B::copy_from_host(t_.data(), copy_.data(), copy_.size() * sizeof(T));
  }

 private:
  Tensor<T, B>& t_;
  std::vector<T> copy_;
};

template <Scalar T, Backend B>
class HostReadSpan {
 public:
  explicit HostReadSpan(const Tensor<T, B>& t) {
    if constexpr (B::host_accessible) {
      if (t.is_contiguous()) {
        p_ = t.data();
        return;
      }
    }
    copy_ = t.to_vector();
    p_ = copy_.data();
  }
  const T* data() const { return p_; }
  const T& operator[](index_t i) const { return p_[i]; }

 private:
  std::vector<T> copy_;
  const T* p_ = nullptr;
};

}  // namespace fugue
