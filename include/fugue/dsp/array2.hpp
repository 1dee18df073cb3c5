// fugue/dsp/array2.hpp — a minimal owning row-major 2-D buffer for DSP results.
//
// Contract: Array2<T> holds rows()*cols() values contiguously, row-major; (r, c) is data()[r*cols()+c].
// Spectrograms are [frames][bins] (time-major, as TF / GANSynth; librosa's arrays are the transpose);
// filterbanks and other linear maps are [out][in]. It exists so the DSP kernels need no fugue::Tensor;
// wrappers can move its vector into a tensor. Indexing is unchecked; row() is checked.
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::dsp {

template <class T>
class Array2 {
 public:
  Array2() = default;
  Array2(std::size_t rows, std::size_t cols, T value = T{}) : rows_(rows), cols_(cols), data_(rows * cols, value) {}
  Array2(std::size_t rows, std::size_t cols, std::vector<T> data) : rows_(rows), cols_(cols), data_(std::move(data)) {
    FUGUE_CHECK(data_.size() == rows * cols, "Array2: ", data_.size(), " values for a ", rows, " x ", cols, " array");
  }

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t size() const noexcept { return data_.size(); }
  bool empty() const noexcept { return data_.empty(); }

  T& operator()(std::size_t r, std::size_t c) noexcept { return data_[r * cols_ + c]; }
  const T& operator()(std::size_t r, std::size_t c) const noexcept { return data_[r * cols_ + c]; }

  std::span<T> row(std::size_t r) {
    FUGUE_CHECK(r < rows_, "Array2::row: row ", r, " of ", rows_);
    return std::span<T>(data_).subspan(r * cols_, cols_);
  }
  std::span<const T> row(std::size_t r) const {
    FUGUE_CHECK(r < rows_, "Array2::row: row ", r, " of ", rows_);
    return std::span<const T>(data_).subspan(r * cols_, cols_);
  }

  T* data() noexcept { return data_.data(); }
  const T* data() const noexcept { return data_.data(); }
  std::span<T> flat() noexcept { return data_; }
  std::span<const T> flat() const noexcept { return data_; }
  std::vector<T>& vector() noexcept { return data_; }
  const std::vector<T>& vector() const noexcept { return data_; }

  Array2 transposed() const {
    Array2 t(cols_, rows_);
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t c = 0; c < cols_; ++c) t(c, r) = (*this)(r, c);
    return t;
  }

 private:
  std::size_t rows_ = 0, cols_ = 0;
  std::vector<T> data_;
};

// y[r][o] = sum_i A[o][i] * x[r][i] : applies the linear map A ([out][in]) to every row of x ([rows][in]).
template <class T>
Array2<T> apply_rows(const Array2<T>& A, const Array2<T>& x) {
  FUGUE_CHECK(A.cols() == x.cols(), "apply_rows: map takes ", A.cols(), " inputs, rows have ", x.cols());
  Array2<T> y(x.rows(), A.rows());
  for (std::size_t r = 0; r < x.rows(); ++r) {
    const T* xr = x.data() + r * x.cols();
    T* yr = y.data() + r * y.cols();
    for (std::size_t o = 0; o < A.rows(); ++o) {
      const T* ar = A.data() + o * A.cols();
      T acc = 0;
      for (std::size_t i = 0; i < A.cols(); ++i) acc += ar[i] * xr[i];
      yr[o] = acc;
    }
  }
  return y;
}

}  // namespace fugue::dsp
