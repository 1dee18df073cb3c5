// fugue/core/tensor.hpp — Tensor<T, Backend>: an n-d array handle with views.
//
// Contract:
//  * A Tensor is a cheap-to-copy handle (like a PyTorch tensor): copies share
//    storage; clone() makes an independent copy. Storage is owned by the backend
//    (64-byte aligned on the CPU) and freed when the last handle goes, or adopted from
//    another owner (adopt(): a foreign container's buffer, kept alive by the handles).
//  * shape()/strides() are in elements; views (slice, select, reshape, transpose,
//    permute, broadcast_to, unsqueeze, squeeze) share storage and never copy.
//    broadcast views have zero strides and must not be written through.
//  * reshape of a non-contiguous view throws (call contiguous() first): fugue
//    never copies behind your back.
//  * Element access with operator() exists only for host-accessible backends;
//    every index is range-checked and a bad one throws fugue::error.
//  * T is float or double (fugue::Scalar). Mixing element types or backends in
//    one operation does not compile.
//  * Layering: this header needs only the Backend interface (core/backend_concept.hpp) and
//    includes no backend implementation, so it declares Tensor<T, B> without a default
//    backend. The default B = cpu::native is added by a redeclaration in fugue/tensor.hpp
//    (the layer that may see both core and backend/cpu); every fugue header above core, and
//    user code, includes that one, so Tensor<float> means Tensor<float, cpu::native> there.
//    Code that includes only fugue/core/* must name its backend.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <span>
#include <vector>

#include "fugue/core/backend_concept.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/shape.hpp"

namespace fugue {

namespace detail {
template <class B>
struct storage {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  std::shared_ptr<const void> owner;  // set: ptr is memory that owner keeps alive, not B's
  explicit storage(std::size_t n) : ptr(B::allocate(n)), bytes(n) {}
  storage(void* p, std::size_t n, std::shared_ptr<const void> o) : ptr(p), bytes(n), owner(std::move(o)) {}
  storage(const storage&) = delete;
  storage& operator=(const storage&) = delete;
  ~storage() {
    if (!owner) B::deallocate(ptr, bytes);
  }
};

// Calls f(offset_a, offset_b) for every index of `shape`, walking two stride sets.
template <class F>
void for_each_offset2(const Shape& shape, const Strides& sa, const Strides& sb, F&& f) {
  const int r = shape.rank();
  if (shape.numel() == 0) return;
  if (r == 0) {
    f(index_t{0}, index_t{0});
    return;
  }
  std::array<index_t, max_rank> idx{};
  index_t oa = 0, ob = 0;
  const index_t inner = shape[r - 1], ia = sa[r - 1], ib = sb[r - 1];
  for (;;) {
    for (index_t i = 0; i < inner; ++i) f(oa + i * ia, ob + i * ib);
    int d = r - 2;
    for (; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        oa += sa[d];
        ob += sb[d];
        break;
      }
      oa -= sa[d] * (shape[d] - 1);
      ob -= sb[d] * (shape[d] - 1);
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}
}  // namespace detail

// No default backend here (core includes no backend): fugue/tensor.hpp adds B = cpu::native.
template <Scalar T, Backend B>
class Tensor {
 public:
  using value_type = T;
  using backend = B;

  Tensor() = default;
  // A zero-filled tensor of the given shape.
  explicit Tensor(const Shape& shape) : Tensor(empty(shape)) { fill(T(0)); }

  static Tensor empty(const Shape& shape) {
    Tensor t;
    t.shape_ = shape;
    t.strides_ = row_major_strides(shape);
    t.storage_ = std::make_shared<detail::storage<B>>(sizeof(T) * std::size_t(shape.numel()));
    return t;
  }
  // A row-major tensor over memory that `owner` keeps alive (no copy): the handle shares
  // ownership of `owner`, so the memory lives as long as any view of the tensor. For backends
  // whose memory the host can address; data must be aligned to alignof(T) and hold
  // shape.numel() elements. How interop headers hand a foreign container's buffer to fugue.
  static Tensor adopt(T* data, const Shape& shape, std::shared_ptr<const void> owner)
    requires B::host_accessible
  {
    FUGUE_CHECK(owner != nullptr && (data != nullptr || shape.numel() == 0),
                "Tensor::adopt needs the memory and the object that owns it");
    FUGUE_CHECK(reinterpret_cast<std::uintptr_t>(data) % alignof(T) == 0, "Tensor::adopt: data is not aligned to ",
                alignof(T), " bytes");
    Tensor t;
    t.shape_ = shape;
    t.strides_ = row_major_strides(shape);
    t.storage_ = std::make_shared<detail::storage<B>>(data, sizeof(T) * std::size_t(shape.numel()), std::move(owner));
    return t;
  }
  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  static Tensor full(const Shape& shape, T value) {
    Tensor t = empty(shape);
    t.fill(value);
    return t;
  }
  static Tensor ones(const Shape& shape) { return full(shape, T(1)); }
  // Copies host values (row-major) into a new tensor of the given shape.
  static Tensor from(std::span<const T> values, const Shape& shape) {
    FUGUE_CHECK(index_t(values.size()) == shape.numel(), "Tensor::from got ", values.size(), " values for shape ",
                shape.str(), " (", shape.numel(), " elements)");
    Tensor t = empty(shape);
    B::copy_from_host(t.data(), values.data(), sizeof(T) * values.size());
    return t;
  }
  static Tensor from(std::initializer_list<T> values, const Shape& shape) {
    return from(std::span<const T>(values.begin(), values.size()), shape);
  }
  static Tensor from(const std::vector<T>& values, const Shape& shape) {
    return from(std::span<const T>(values), shape);
  }
  // Uniform in [lo, hi) / normal(mean, stddev) from a Philox stream (element i = index i),
  // as fma(hi - lo, u_i, lo) / fma(stddev, n_i, mean): one rounding, the same on every backend.
  // Backends that can generate on their side (B::fill_uniform / fill_normal) do, with the same stream.
  static Tensor uniform(const Shape& shape, Philox rng, T lo = 0, T hi = 1) {
    if constexpr (requires(T* p) { B::fill_uniform(index_t{}, rng, lo, hi, p); }) {
      Tensor t = empty(shape);
      B::fill_uniform(t.numel(), rng, lo, hi, t.data());
      return t;
    } else {
      std::vector<T> host(std::size_t(shape.numel()));
      rng.for_each_uniform<T>(0, host.size(), [&](std::uint64_t i, T u) { host[i] = std::fma(hi - lo, u, lo); });
      return from(host, shape);
    }
  }
  static Tensor normal(const Shape& shape, Philox rng, T mean = 0, T stddev = 1) {
    if constexpr (requires(T* p) { B::fill_normal(index_t{}, rng, mean, stddev, p); }) {
      Tensor t = empty(shape);
      B::fill_normal(t.numel(), rng, mean, stddev, t.data());
      return t;
    } else {
      std::vector<T> host(std::size_t(shape.numel()));
      for (std::size_t i = 0; i < host.size(); ++i) host[i] = std::fma(stddev, rng.normal<T>(i), mean);
      return from(host, shape);
    }
  }

  // --- metadata ---------------------------------------------------------------
  bool defined() const noexcept { return storage_ != nullptr; }
  const Shape& shape() const noexcept { return shape_; }
  const Strides& strides() const noexcept { return strides_; }
  int rank() const noexcept { return shape_.rank(); }
  index_t dim(int d) const { return shape_[d]; }
  index_t numel() const noexcept { return shape_.numel(); }
  index_t offset() const noexcept { return offset_; }
  bool is_contiguous() const noexcept {
    index_t expect = 1;
    for (int i = rank() - 1; i >= 0; --i) {
      if (shape_[i] != 1 && strides_[i] != expect) return false;
      expect *= shape_[i];
    }
    return true;
  }
  bool shares_storage_with(const Tensor& o) const noexcept { return storage_ && storage_ == o.storage_; }
  // Whether the storage is another owner's memory (adopt()), not the backend's.
  bool is_adopted() const noexcept { return storage_ && storage_->owner != nullptr; }

  T* data() noexcept { return storage_ ? static_cast<T*>(storage_->ptr) + offset_ : nullptr; }
  const T* data() const noexcept { return storage_ ? static_cast<const T*>(storage_->ptr) + offset_ : nullptr; }

  // --- host element access ----------------------------------------------------
  template <class... I>
    requires(B::host_accessible && (std::is_integral_v<I> && ...))
  T& operator()(I... idx) {
    return data()[element_offset({index_t(idx)...})];
  }
  template <class... I>
    requires(B::host_accessible && (std::is_integral_v<I> && ...))
  const T& operator()(I... idx) const {
    return data()[element_offset({index_t(idx)...})];
  }
  T item() const {
    FUGUE_CHECK(numel() == 1, "item() needs exactly one element, tensor has shape ", shape_.str());
    T v;
    B::copy_to_host(&v, data(), sizeof(T));
    return v;
  }
  // Row-major copy of the elements into host memory (any backend, any view).
  std::vector<T> to_vector() const {
    Tensor c = contiguous();
    std::vector<T> out(std::size_t(c.numel()));
    if (!out.empty()) B::copy_to_host(out.data(), c.data(), sizeof(T) * out.size());
    return out;
  }

  // --- views --------------------------------------------------------------------
  Tensor slice(int d, index_t start, index_t stop, index_t step = 1) const {
    const int a = shape_.axis(d);
    const index_t n = shape_[a];
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    stop = std::min(stop, n);
    FUGUE_CHECK(step >= 1, "slice step must be >= 1, got ", step);
    FUGUE_CHECK(start >= 0 && start <= stop, "slice [", start, ", ", stop, ") out of range for dimension ", d,
                " of shape ", shape_.str());
    Tensor v = *this;
    v.offset_ += start * strides_[a];
    v.shape_[a] = (stop - start + step - 1) / step;
    v.strides_[a] = strides_[a] * step;
    return v;
  }
  // Index one position of a dimension and drop that dimension.
  Tensor select(int d, index_t i) const {
    const int a = shape_.axis(d);
    if (i < 0) i += shape_[a];
    FUGUE_CHECK(i >= 0 && i < shape_[a], "index ", i, " out of range for dimension ", d, " of shape ", shape_.str());
    Tensor v = *this;
    v.offset_ += i * strides_[a];
    v.shape_ = shape_.erase(a);
    for (int k = a; k < rank() - 1; ++k) v.strides_[k] = strides_[k + 1];
    v.strides_[rank() - 1] = 0;
    return v;
  }
  // A view with a new shape; one extent may be -1 (inferred). Needs a contiguous tensor.
  Tensor reshape(std::initializer_list<index_t> extents) const {
    return reshape(std::span<const index_t>(extents.begin(), extents.size()));
  }
  Tensor reshape(const Shape& s) const { return reshape(std::span<const index_t>(s.begin(), std::size_t(s.rank()))); }
  Tensor reshape(std::span<const index_t> extents) const {
    FUGUE_CHECK(is_contiguous(), "reshape of a non-contiguous view of shape ", shape_.str(),
                ": call contiguous() first");
    std::vector<index_t> e(extents.begin(), extents.end());
    index_t known = 1;
    int infer = -1;
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (e[i] == -1) {
        FUGUE_CHECK(infer < 0, "reshape: more than one -1 extent");
        infer = int(i);
      } else {
        FUGUE_CHECK(e[i] >= 0, "reshape: negative extent ", e[i]);
        known *= e[i];
      }
    }
    if (infer >= 0) {
      FUGUE_CHECK(known > 0 && numel() % known == 0, "reshape: cannot infer extent for ", numel(), " elements");
      e[std::size_t(infer)] = numel() / known;
      known *= e[std::size_t(infer)];
    }
    Shape s = Shape::from_range(e.begin(), e.end());
    FUGUE_CHECK(known == numel(), "reshape from ", shape_.str(), " (", numel(), " elements) to ", s.str(), " (", known,
                " elements)");
    Tensor v = *this;
    v.shape_ = s;
    v.strides_ = row_major_strides(s);
    return v;
  }
  Tensor transpose(int d0, int d1) const {
    const int a = shape_.axis(d0), b = shape_.axis(d1);
    Tensor v = *this;
    std::swap(v.shape_[a], v.shape_[b]);
    std::swap(v.strides_[a], v.strides_[b]);
    return v;
  }
  // Matrix transpose of a rank-2 tensor.
  Tensor t() const {
    FUGUE_CHECK(rank() == 2, "t() needs a matrix, got shape ", shape_.str());
    return transpose(0, 1);
  }
  Tensor permute(std::initializer_list<int> order) const {
    FUGUE_CHECK(int(order.size()) == rank(), "permute: ", order.size(), " axes for rank ", rank());
    Tensor v = *this;
    std::array<bool, max_rank> seen{};
    int i = 0;
    for (int d : order) {
      const int a = shape_.axis(d);
      FUGUE_CHECK(!seen[a], "permute: axis ", d, " repeated");
      seen[a] = true;
      v.shape_[i] = shape_[a];
      v.strides_[i] = strides_[a];
      ++i;
    }
    return v;
  }
  Tensor unsqueeze(int d) const {
    const int a = d < 0 ? d + rank() + 1 : d;
    Tensor v = *this;
    v.shape_ = shape_.insert(a, 1);
    for (int k = rank(); k > a; --k) v.strides_[k] = strides_[k - 1];
    v.strides_[a] = 0;
    return v;
  }
  Tensor squeeze(int d) const {
    const int a = shape_.axis(d);
    FUGUE_CHECK(shape_[a] == 1, "squeeze of dimension ", d, " with extent ", shape_[a]);
    return select(a, 0);
  }
  // NumPy-style broadcast view; the result must not be written through.
  Tensor broadcast_to(const Shape& target) const {
    FUGUE_CHECK(target.rank() >= rank(), "cannot broadcast shape ", shape_.str(), " to ", target.str());
    Tensor v = *this;
    v.shape_ = target;
    const int lead = target.rank() - rank();
    for (int i = 0; i < target.rank(); ++i) {
      if (i < lead) {
        v.strides_[i] = 0;
        continue;
      }
      const index_t e = shape_[i - lead];
      FUGUE_CHECK(e == target[i] || e == 1, "cannot broadcast shape ", shape_.str(), " to ", target.str(),
                  " (dimension ", i, ")");
      v.strides_[i] = e == target[i] ? strides_[i - lead] : 0;
    }
    return v;
  }

  // --- copies -------------------------------------------------------------------
  Tensor contiguous() const {
    if (is_contiguous()) return *this;
    return clone();
  }
  Tensor clone() const {
    Tensor c = empty(shape_);
    c.copy_from(*this);
    return c;
  }
  // Copies src's elements into this tensor's (same shape; any strides on either side).
  void copy_from(const Tensor& src) {
    FUGUE_CHECK(src.shape_ == shape_, "copy_from: shape ", src.shape_.str(), " into ", shape_.str());
    if (numel() == 0) return;
    if (is_contiguous() && src.is_contiguous()) {
      B::copy(data(), src.data(), sizeof(T) * std::size_t(numel()));
      return;
    }
    if constexpr (B::host_accessible) {
      T* d = data();
      const T* s = src.data();
      detail::for_each_offset2(shape_, strides_, src.strides_, [&](index_t od, index_t os) { d[od] = s[os]; });
    } else {
      B::strided_copy(shape_, data(), strides_, src.data(), src.strides_);
    }
  }
  void fill(T value) {
    if (is_contiguous()) {
      B::fill(numel(), value, data());
    } else if constexpr (B::host_accessible) {
      T* d = data();
      detail::for_each_offset2(shape_, strides_, strides_, [&](index_t o, index_t) { d[o] = value; });
    } else {
      FUGUE_FAIL("fill of a non-contiguous view is not supported on backend ", B::name());
    }
  }
  // A copy on another backend.
  template <Backend B2>
  Tensor<T, B2> to() const {
    Tensor c = contiguous();
    auto out = Tensor<T, B2>::empty(shape_);
    std::vector<T> host = c.to_vector();
    if (!host.empty()) B2::copy_from_host(out.data(), host.data(), sizeof(T) * host.size());
    return out;
  }

 private:
  index_t element_offset(std::initializer_list<index_t> idx) const {
    FUGUE_CHECK(int(idx.size()) == rank(), "indexing a rank-", rank(), " tensor with ", idx.size(), " indices");
    index_t off = 0;
    int d = 0;
    for (index_t i : idx) {
      FUGUE_CHECK(i >= 0 && i < shape_[d], "index ", i, " out of range for dimension ", d, " of shape ", shape_.str());
      off += i * strides_[d];
      ++d;
    }
    return off;
  }

  std::shared_ptr<detail::storage<B>> storage_;
  index_t offset_ = 0;
  Shape shape_;
  Strides strides_{};
};

template <Scalar T, Backend B>
  requires B::host_accessible
std::ostream& operator<<(std::ostream& os, const Tensor<T, B>& t) {
  os << "Tensor" << t.shape() << " {";
  auto v = t.to_vector();
  for (std::size_t i = 0; i < v.size() && i < 64; ++i) os << (i ? ", " : "") << v[i];
  if (v.size() > 64) os << ", ...";
  return os << '}';
}

}  // namespace fugue
