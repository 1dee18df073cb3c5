// fugue/autodiff/ops/shape.hpp — differentiable views and joins.
//
// Contract: transpose, permute, slice and select return views of their input's
// value (no copy), like Tensor's; reshape copies a non-contiguous input first
// (on the tape a copy is harmless: the input value stays as it was). concat and
// stack copy into a new tensor; split returns slices. Backward of a view writes
// the gradient into the matching part of a zero tensor of the input's shape
// (slice/select) or applies the inverse view (transpose/permute/reshape).
#pragma once

#include <numeric>
#include <vector>

#include "fugue/autodiff/ops/common.hpp"

namespace fugue::ad {

FUGUE_AD_OP(reshape)
FUGUE_AD_OP(transpose)
FUGUE_AD_OP(permute)
FUGUE_AD_OP(slice)
FUGUE_AD_OP(select)
FUGUE_AD_OP(concat)
FUGUE_AD_OP(stack)

namespace detail {
// A permuted view for a run-time axis order (Tensor::permute takes a braced list).
template <class T, class B>
Tensor<T, B> permute_view(const Tensor<T, B>& x, const std::vector<int>& order) {
  FUGUE_CHECK(int(order.size()) == x.rank(), "permute: ", order.size(), " axes for rank ", x.rank());
  std::vector<int> cur(std::size_t(x.rank()));  // cur[i] = original axis now at position i
  std::iota(cur.begin(), cur.end(), 0);
  std::vector<bool> seen(std::size_t(x.rank()), false);
  Tensor<T, B> v = x;
  for (int i = 0; i < x.rank(); ++i) {
    const int want = x.shape().axis(order[std::size_t(i)]);
    FUGUE_CHECK(!seen[std::size_t(want)], "permute: axis ", order[std::size_t(i)], " repeated");
    seen[std::size_t(want)] = true;
    int j = i;
    while (cur[std::size_t(j)] != want) ++j;
    if (j != i) {
      v = v.transpose(i, j);
      std::swap(cur[std::size_t(i)], cur[std::size_t(j)]);
    }
  }
  return v;
}
}  // namespace detail

template <Scalar T, Backend B>
Var<T, B> reshape(const Var<T, B>& x, const Shape& s) {
  Tensor<T, B> v = x.value().contiguous().reshape(s);
  return x.tape().record(
      std::move(v), {x},
      [](const Tensor<T, B>& g, GradSink<T, B>& s) { s.accumulate(0, g.reshape(s.input(0).shape())); }, "reshape");
}
template <Scalar T, Backend B>
Var<T, B> reshape(const Var<T, B>& x, std::initializer_list<index_t> extents) {
  // Resolve a -1 through Tensor::reshape's rules on an empty view.
  Tensor<T, B> probe = x.value().contiguous().reshape(extents);
  return reshape(x, probe.shape());
}

template <Scalar T, Backend B>
Var<T, B> transpose(const Var<T, B>& x, int d0, int d1) {
  return x.tape().record(
      x.value().transpose(d0, d1), {x},
      [d0, d1](const Tensor<T, B>& g, GradSink<T, B>& s) { s.accumulate(0, g.transpose(d0, d1)); }, "transpose");
}

template <Scalar T, Backend B>
Var<T, B> permute(const Var<T, B>& x, std::vector<int> order) {
  Tensor<T, B> v = detail::permute_view(x.value(), order);
  std::vector<int> inv(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) inv[std::size_t(x.shape().axis(order[i]))] = int(i);
  return x.tape().record(
      std::move(v), {x},
      [inv = std::move(inv)](const Tensor<T, B>& g, GradSink<T, B>& s) {
        s.accumulate(0, detail::permute_view(g, inv));
      },
      "permute");
}

template <Scalar T, Backend B>
Var<T, B> slice(const Var<T, B>& x, int dim, index_t start, index_t stop, index_t step = 1) {
  Tensor<T, B> v = x.value().slice(dim, start, stop, step);
  return x.tape().record(
      std::move(v), {x},
      [dim, start, stop, step](const Tensor<T, B>& g, GradSink<T, B>& s) {
        auto gx = Tensor<T, B>::zeros(s.input(0).shape());
        gx.slice(dim, start, stop, step).copy_from(g);
        s.accumulate(0, gx);
      },
      "slice");
}

template <Scalar T, Backend B>
Var<T, B> select(const Var<T, B>& x, int dim, index_t i) {
  Tensor<T, B> v = x.value().select(dim, i);
  return x.tape().record(
      std::move(v), {x},
      [dim, i](const Tensor<T, B>& g, GradSink<T, B>& s) {
        auto gx = Tensor<T, B>::zeros(s.input(0).shape());
        gx.select(dim, i).copy_from(g);
        s.accumulate(0, gx);
      },
      "select");
}

template <Scalar T, Backend B>
Var<T, B> concat(const std::vector<Var<T, B>>& xs, int dim) {
  FUGUE_CHECK(!xs.empty(), "concat of no Vars");
  Tape<T, B>& t = xs[0].tape();
  const Shape& s0 = xs[0].shape();
  const int a = s0.axis(dim);
  Shape out = s0;
  index_t total = 0;
  for (const auto& x : xs) {
    FUGUE_CHECK(&x.tape() == &t, "concat: Vars from different tapes");
    const Shape& s = x.shape();
    bool same = s.rank() == s0.rank();
    for (int d = 0; same && d < s.rank(); ++d) same = d == a || s[d] == s0[d];
    FUGUE_CHECK(same, "concat along dimension ", dim, ": shape ", s.str(), " does not match ", s0.str());
    total += s[a];
  }
  out[a] = total;
  auto y = Tensor<T, B>::empty(out);
  index_t off = 0;
  for (const auto& x : xs) {
    const index_t n = x.dim(a);
    y.slice(a, off, off + n).copy_from(x.value());
    off += n;
  }
  return t.record(
      std::move(y), std::span<const Var<T, B>>(xs.data(), xs.size()),
      [a](const Tensor<T, B>& g, GradSink<T, B>& s) {
        index_t o = 0;
        for (int k = 0; k < s.size(); ++k) {
          const index_t n = s.input(k).dim(a);
          if (s.needs(k)) s.accumulate(k, g.slice(a, o, o + n));
          o += n;
        }
      },
      "concat");
}

template <Scalar T, Backend B>
Var<T, B> stack(const std::vector<Var<T, B>>& xs, int dim) {
  FUGUE_CHECK(!xs.empty(), "stack of no Vars");
  Tape<T, B>& t = xs[0].tape();
  const Shape& s0 = xs[0].shape();
  const int a = dim < 0 ? dim + s0.rank() + 1 : dim;
  FUGUE_CHECK(a >= 0 && a <= s0.rank(), "stack: dimension ", dim, " out of range for shape ", s0.str());
  for (const auto& x : xs) {
    FUGUE_CHECK(&x.tape() == &t, "stack: Vars from different tapes");
    FUGUE_CHECK(x.shape() == s0, "stack: shape ", x.shape().str(), " does not match ", s0.str());
  }
  auto y = Tensor<T, B>::empty(s0.insert(a, index_t(xs.size())));
  for (std::size_t k = 0; k < xs.size(); ++k) y.select(a, index_t(k)).copy_from(xs[k].value());
  return t.record(
      std::move(y), std::span<const Var<T, B>>(xs.data(), xs.size()),
      [a](const Tensor<T, B>& g, GradSink<T, B>& s) {
        for (int k = 0; k < s.size(); ++k)
          if (s.needs(k)) s.accumulate(k, g.select(a, k));
      },
      "stack");
}

// Splits dimension `dim` into consecutive pieces of the given sizes (summing to its extent).
template <Scalar T, Backend B>
std::vector<Var<T, B>> split(const Var<T, B>& x, const std::vector<index_t>& sizes, int dim) {
  const int a = x.shape().axis(dim);
  index_t total = 0;
  for (index_t n : sizes) total += n;
  FUGUE_CHECK(total == x.dim(a), "split sizes sum to ", total, ", dimension ", dim, " of ", x.shape().str(), " has ",
              x.dim(a));
  std::vector<Var<T, B>> out;
  index_t off = 0;
  for (index_t n : sizes) {
    out.push_back(slice(x, a, off, off + n));
    off += n;
  }
  return out;
}
// Splits into `chunks` equal pieces.
template <Scalar T, Backend B>
std::vector<Var<T, B>> split(const Var<T, B>& x, int chunks, int dim) {
  const int a = x.shape().axis(dim);
  FUGUE_CHECK(chunks > 0 && x.dim(a) % chunks == 0, "split of extent ", x.dim(a), " into ", chunks, " equal parts");
  return split(x, std::vector<index_t>(std::size_t(chunks), x.dim(a) / chunks), a);
}

}  // namespace fugue::ad
